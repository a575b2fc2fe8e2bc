"""Warm weights: every served version reads its weights from its own EFS volume, which the first
replica fills; the fetch script itself runs here against a real S3 API (moto), fetching once,
reading the cache after, and fetching again when an alias folder names a new version."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from serving_helpers import edited, objects_of, platform_of, weights_source

from eksml.config import load_environment
from eksml.k8s.model.components.serving import READ_ESTIMATE_ANNOTATION, WEIGHTS_ANNOTATION
from eksml.k8s.model.components.storage import EFS
from eksml.k8s.model.components.weights import (
    CACHE_MOUNT, COMPLETE_MARKER, EFS_CLIENT_READ_MIBPS, cache_claim, cache_key, read_estimate,
)
from eksml.k8s.model.platform import build_platform
from eksml.k8s.rendering.render_index import render_index
from eksml.outputs import predict_outputs

ENTRYPOINT = "/storage-initializer/scripts/initializer-entrypoint"


def _fetch(isvc: dict) -> dict:
    [container] = [c for c in isvc["spec"]["predictor"]["initContainers"] if c["name"] == "fetch-weights"]
    return container


def test_every_served_version_reads_its_weights_from_its_own_efs_volume():
    platform = platform_of("dev")
    services = objects_of(platform, "model-serving", "InferenceService")
    claims = {c["metadata"]["name"]: c for c in objects_of(platform, "model-serving", "PersistentVolumeClaim")}
    assert len(services) == 3 and len(claims) == 3
    for isvc in services:
        name, predictor = isvc["metadata"]["name"], isvc["spec"]["predictor"]
        source = weights_source(isvc)
        assert predictor["model"]["storageUri"] == f"pvc://{cache_claim(name)}/{cache_key(source)}"
        claim = claims[cache_claim(name)]
        assert claim["spec"]["storageClassName"] == EFS and claim["spec"]["accessModes"] == ["ReadWriteMany"]
        env = {e["name"]: e["value"] for e in _fetch(isvc)["env"]}
        assert env["KEY"] == cache_key(source) and source.startswith("s3://")
        assert {"name": "weights-cache", "persistentVolumeClaim": {"claimName": cache_claim(name)}} in predictor["volumes"]
        assert _fetch(isvc)["image"].endswith(":" + load_environment("dev").addons.kserve.version)  # pinned
        assert isvc["metadata"]["annotations"][WEIGHTS_ANNOTATION].startswith("efs-cache")


def test_without_efs_a_replica_reads_s3_itself_and_the_render_says_so(tmp_path):
    def edit(data):
        data["storage"]["efs"] = False
        data.pop("training")
    platform = platform_of(edited("dev", tmp_path, edit))
    for isvc in objects_of(platform, "model-serving", "InferenceService"):
        assert isvc["spec"]["predictor"]["model"]["storageUri"].startswith("s3://")
        assert "initContainers" not in isvc["spec"]["predictor"]
        assert isvc["metadata"]["annotations"][WEIGHTS_ANNOTATION] == "s3"
    assert not objects_of(platform, "model-serving", "PersistentVolumeClaim")


def test_the_render_index_lists_each_models_weights_and_read_time():
    env = load_environment("dev")
    platform = build_platform(env, predict_outputs(env))
    index = render_index(platform, [], [])
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| ([a-z0-9-]+) \| `pvc://[^`]+` \| [^|]+ \| ([^|]+) \|$",
                                                       index, re.M)}
    assert set(rows) == {"tinyllama", "mistral-7b", "mistral-7b-canary"}
    # 14 GB at 1500 MiB/s: 14e9 / (1500 * 2**20) = 8.9 s.
    assert rows["mistral-7b"].startswith("~9 s for 14 GB") and "docs.aws.amazon.com/efs" in rows["mistral-7b"]
    assert read_estimate(4) == f"~3 s for 4 GB at {EFS_CLIENT_READ_MIBPS} MiB/s (https://docs.aws.amazon.com/efs/latest/ug/performance.html)"
    isvc = objects_of(platform, "model-serving", "InferenceService")[0]
    assert isvc["metadata"]["annotations"][READ_ESTIMATE_ANNOTATION] in index


@pytest.fixture
def fetch_run(moto_endpoint, tmp_path: Path):
    """The fetch container's own script, with the cache in a folder and a stand-in for KServe's
    storage initializer that copies from S3 and counts its calls."""
    isvc = objects_of(platform_of("dev"), "model-serving", "InferenceService")[0]
    container = _fetch(isvc)
    cache, calls = tmp_path / "cache", tmp_path / "calls"
    cache.mkdir()
    initializer = tmp_path / "initializer"
    initializer.write_text(f"#!/bin/sh\necho x >> {calls}\n"
                           "python3 -c 'import boto3,sys; b,_,p=sys.argv[1][5:].partition(\"/\"); "
                           "open(sys.argv[2] + \"/weights.safetensors\", \"wb\").write("
                           "boto3.client(\"s3\").get_object(Bucket=b, Key=p + \"weights.safetensors\")[\"Body\"].read())' "
                           "\"$1\" \"$2\"\n")
    initializer.chmod(0o755)
    script = container["command"][2].replace(ENTRYPOINT, str(initializer)).replace(CACHE_MOUNT, str(cache))
    aws = {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    env = {e["name"]: e["value"] for e in container["env"]}

    def run(source: str, pod: str) -> Path:
        values = {**env, "SOURCE": source, "KEY": cache_key(source), "HOSTNAME": pod}
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # python3 with boto3, as the image has
        done = subprocess.run(["/bin/sh", "-c", script], env={**os.environ, **aws, **values, "PATH": path},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return cache / cache_key(source)

    def fetches() -> int:
        return len(calls.read_text().splitlines()) if calls.exists() else 0

    return run, fetches, s3


def test_the_first_replica_fetches_the_rest_read_the_cache_and_an_alias_move_refetches(fetch_run):
    run, fetches, s3 = fetch_run
    s3.create_bucket(Bucket="models")
    source = "s3://models/registry/tiny/candidate/"
    s3.put_object(Bucket="models", Key="registry/tiny/candidate/weights.safetensors", Body=b"v3")
    s3.put_object(Bucket="models", Key="registry/tiny/candidate/VERSION", Body=b"3")
    folder = run(source, "pod-a")
    assert fetches() == 1 and (folder / "weights.safetensors").read_bytes() == b"v3"
    assert (folder / COMPLETE_MARKER).read_text().strip() == f"{source}@3"
    run(source, "pod-b")
    assert fetches() == 1  # the second replica read the cache
    s3.put_object(Bucket="models", Key="registry/tiny/candidate/weights.safetensors", Body=b"v4")
    s3.put_object(Bucket="models", Key="registry/tiny/candidate/VERSION", Body=b"4")
    run(source, "pod-c")
    assert fetches() == 2 and (folder / "weights.safetensors").read_bytes() == b"v4"
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no partial or old copy left


def test_a_half_written_folder_is_not_a_cache(fetch_run):
    run, fetches, s3 = fetch_run
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="m/weights.safetensors", Body=b"w")
    folder = run("s3://plain/m/", "pod-a")
    (folder / COMPLETE_MARKER).unlink()  # as if the first replica died before its last step
    run("s3://plain/m/", "pod-b")
    assert fetches() == 2 and (folder / COMPLETE_MARKER).read_text().strip() == "s3://plain/m/"
