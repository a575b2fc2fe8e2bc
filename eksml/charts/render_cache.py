"""A release's render kept and reused while everything Helm reads for it is unchanged.

`helm template` and reading its YAML are most of a render's time, and most renders repeat one
another's releases: `eksml plan` after `eksml render`, an overlay that changes one release, the
same environment in CI twice. The key covers every input of the render: the Helm binary (path,
size, modification time), the chart package's bytes, the release, namespace, values, Kubernetes
version, the API versions passed, the Secrets left out, the post-render patches (and the file that
applies them), and this file's format. Any change is a
miss and a fresh render. Failures are never kept (each run reports them anew); the caller keeps out
a render holding secret material (eksml/k8s/templating/chart_render.py, by the secret check's
rule), so the cache holds nothing the render directory may not. An entry that cannot be read is a
miss. The folder is bounded: the least recently used entries go past MAX_BYTES.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from eksml.charts import post_render
from eksml.charts.kube_yaml import ManifestObject
from eksml.charts.template import STAGE, ReleaseRender
from eksml.config.file_write import atomic_write
from eksml.errors import StageError

FORMAT = 1
MAX_BYTES = 1 << 30
DISABLE_VARIABLE = "EKSML_RENDER_CACHE"  # "off": render every release afresh


def _file_identity(path: Path) -> list[Any]:
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


def render_key(helm: Path, chart: Path, release: str, namespace: str, values_text: str, kube_version: str,
               api_versions: Sequence[str], left_out: Sequence[str], patches: str = "[]") -> Optional[str]:
    """None when an input cannot be read: the render then runs (and reports the problem) uncached."""
    try:
        helm_identity, chart_digest = _file_identity(helm), hashlib.sha256(chart.read_bytes()).hexdigest()
    except OSError:
        return None
    inputs = {
        "format": FORMAT,
        "helm": helm_identity,
        "chart": chart_digest,
        "release": release,
        "namespace": namespace,
        "values": values_text,
        "kube_version": kube_version,
        "api_versions": list(api_versions),
        "left_out": sorted(left_out),
        "patches": patches,  # the post-renderer's patch file, and the file that applies it
        "post_renderer": _file_identity(Path(post_render.__file__)) if patches != "[]" else "",
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


class RenderCache:
    def __init__(self, root: Path):
        self.root = root

    @staticmethod
    def enabled() -> bool:
        return os.environ.get(DISABLE_VARIABLE, "").lower() not in ("off", "0", "false", "no")

    def _path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def load(self, key: str) -> Optional[tuple[ReleaseRender, tuple[ManifestObject, ...]]]:
        path = self._path(key)
        try:
            entry = json.loads(path.read_text())
            render = ReleaseRender(entry["release"], entry["namespace"], entry["chart"], entry["version"],
                                   entry["manifest"], None, tuple(entry["warnings"]),
                                   tuple(entry["without_subcharts"]))
            objects = tuple(ManifestObject(source, body) for source, body in entry["objects"])
            os.utime(path)  # recently used: pruned last
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return render, objects

    def store(self, key: str, render: ReleaseRender, objects: Sequence[ManifestObject]) -> None:
        """Best effort: a cache that cannot be written only means the next render is not faster."""
        if render.manifest is None:
            return
        entry = {"release": render.release, "namespace": render.namespace, "chart": render.chart,
                 "version": render.version, "manifest": render.manifest, "warnings": list(render.warnings),
                 "without_subcharts": list(render.without_subcharts),
                 "objects": [[o.source, o.body] for o in objects]}
        try:
            data = json.dumps(entry, allow_nan=False).encode()  # KubeLoader's objects are JSON already
            self.root.mkdir(parents=True, exist_ok=True)
            atomic_write(self._path(key), data, STAGE)
        except (OSError, ValueError, TypeError, StageError):
            return
        self._prune()

    def _prune(self) -> None:
        entries = []
        for path in self.root.glob("*.json"):
            try:
                stat = path.stat()
            except OSError:
                continue
            entries.append((stat.st_mtime_ns, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= MAX_BYTES:
                break
            path.unlink(missing_ok=True)
            total -= size
