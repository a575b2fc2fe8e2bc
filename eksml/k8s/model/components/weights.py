"""Warm model weights: one EFS volume per InferenceService, filled once, read by every replica.

Why EFS, not the alternatives: the volume is ReadWriteMany across every zone and node (a new GPU
node reads what the first replica fetched; KServe's LocalModelCache keeps a copy per node, so each
new node downloads again), it holds Hugging Face and S3 sources alike (a Mountpoint-for-S3 volume
only reads S3, and reads it again on every start), and the EFS CSI driver and file system are
already there (no second privileged DaemonSet).

The predictor's `fetch-weights` init container (KServe's storage initializer, which reads s3://
through the pod's IRSA role and hf:// from the Hub) fills `<volume>/<key>` once; KServe mounts that
folder at /mnt/models (`pvc://` storage, so its own per-replica download is skipped). A registry
alias folder names the version it holds (`VERSION`, written by the pipeline's register step): when
an alias moves, the next replica to start fetches the new version into the same folder.
"""

from __future__ import annotations

import hashlib
from typing import Any

from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER
from eksml.k8s.model.components.storage import EFS
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

CACHE_MOUNT = "/cache"
COMPLETE_MARKER = ".eksml-complete"  # written last: a folder without it is not a cache
# Amazon EFS, Regional file system in Elastic throughput mode (the data stack's): read throughput per
# client, "Amazon EFS performance specifications", https://docs.aws.amazon.com/efs/latest/ug/performance.html
# (read 2026-12-07; 1,500 MiBps needs the efs-utils proxy, as the EFS CSI driver mounts; else 500 MiBps).
EFS_CLIENT_READ_MIBPS = 1500
EFS_THROUGHPUT_SOURCE = "https://docs.aws.amazon.com/efs/latest/ug/performance.html"

# The source's version: the VERSION object of an S3 folder when it has one (a registry alias folder),
# else the URI alone. Printed as the marker the cached copy must carry.
_WANTED = """
import os, boto3
uri, version = os.environ["SOURCE"], ""
if uri.startswith("s3://"):
    bucket, _, prefix = uri[5:].partition("/")
    try:
        obj = boto3.client("s3").get_object(Bucket=bucket, Key=prefix.rstrip("/") + "/VERSION")
        version = obj["Body"].read().decode().strip()
    except Exception:  # no VERSION object: the folder is its own version
        pass
print(f"{uri}@{version}" if version else uri)
"""
_FETCH = f"""set -eu
dest="{CACHE_MOUNT}/$KEY"
want="$(python3 -c "$WANTED")"
if [ -f "$dest/{COMPLETE_MARKER}" ] && [ "$(cat "$dest/{COMPLETE_MARKER}")" = "$want" ]; then
  echo "weights of $want are cached in $dest"; exit 0
fi
tmp="{CACHE_MOUNT}/.partial-$HOSTNAME"
rm -rf "$tmp" && mkdir -p "$tmp"
/storage-initializer/scripts/initializer-entrypoint "$SOURCE" "$tmp"
echo "$want" > "$tmp/{COMPLETE_MARKER}"
if [ -d "$dest" ]; then mv "$dest" "{CACHE_MOUNT}/.old-$HOSTNAME"; fi
mv "$tmp" "$dest" && rm -rf "{CACHE_MOUNT}/.old-$HOSTNAME"
"""


def cache_claim(isvc_name: str) -> str:
    return f"weights-{isvc_name}"


def cache_key(uri: str) -> str:
    """The folder of one source in the volume: a new source never reads an older one's files."""
    return hashlib.sha256(uri.encode()).hexdigest()[:16]


def cached_storage_uri(isvc_name: str, uri: str) -> str:
    return f"pvc://{cache_claim(isvc_name)}/{cache_key(uri)}"


def cache_volume_claim(isvc_name: str, namespace: str, size_gb: float) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(cache_claim(isvc_name), namespace),
        # EFS is elastic: the size is nominal (two copies while a new version replaces the old one).
        "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": EFS,
                 "resources": {"requests": {"storage": f"{max(1, int(size_gb * 2) + 1)}Gi"}}},
    }


def fetch_container(image: str, uri: str) -> dict[str, Any]:
    return {
        "name": "fetch-weights",
        "image": image,
        "imagePullPolicy": "Always",
        "command": ["/bin/sh", "-c", _FETCH],
        "env": [{"name": "SOURCE", "value": uri}, {"name": "KEY", "value": cache_key(uri)},
                {"name": "WANTED", "value": _WANTED.lstrip()}, {"name": "HOME", "value": "/tmp"}],
        "securityContext": RESTRICTED_CONTAINER,
        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
        "volumeMounts": [{"name": "weights-cache", "mountPath": CACHE_MOUNT}, {"name": "tmp", "mountPath": "/tmp"}],
    }


def cache_volume(isvc_name: str) -> dict[str, Any]:
    return {"name": "weights-cache", "persistentVolumeClaim": {"claimName": cache_claim(isvc_name)}}


def read_estimate(size_gb: float) -> str:
    """How long a replica after the first reads the weights, at EFS's documented per-client rate."""
    seconds = size_gb * 1e9 / (EFS_CLIENT_READ_MIBPS * 2**20)
    return f"~{max(1, round(seconds))} s for {size_gb:g} GB at {EFS_CLIENT_READ_MIBPS} MiB/s ({EFS_THROUGHPUT_SOURCE})"
