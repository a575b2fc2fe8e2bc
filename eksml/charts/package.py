"""What a packaged chart (.tgz) declares and holds, read without unpacking it to disk.

Helm refuses to template a chart whose Chart.yaml names a dependency that is not vendored under
charts/ (even a disabled one), so that gap is found here first and reported plainly instead of as
Helm's "You may need to run `helm dependency build`".
"""

from __future__ import annotations

import functools
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from eksml.errors import StageError


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    repository: str
    condition: Optional[str] = None

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class ChartInfo:
    name: str
    version: str
    kube_version: Optional[str]  # the chart's kubeVersion constraint, e.g. ">= 1.22.0-0"
    dependencies: tuple[Dependency, ...]
    vendored: tuple[tuple[str, str], ...]  # (name, version) of every subchart under charts/
    has_schema: bool  # values.schema.json at the top

    @property
    def missing(self) -> tuple[Dependency, ...]:
        """Dependencies with no subchart of that name under charts/, as Helm checks them."""
        present = {name for name, _ in self.vendored}
        return tuple(dep for dep in self.dependencies if dep.name not in present)

    def missing_reason(self) -> Optional[str]:
        missing = self.missing
        if not missing:
            return None
        noun = "subchart" if len(missing) == 1 else "subcharts"
        return f"missing {noun} {', '.join(map(str, missing))} in the repository"


def _metadata(raw: bytes, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise StageError("charts", f"{where} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "name" not in data:
        raise StageError("charts", f"{where} is not a chart's Chart.yaml")
    return data


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    return handle.read() if handle is not None else b""


def read_chart(path: Path) -> ChartInfo:
    """Chart.yaml and the vendored subcharts of a packaged chart; StageError when it is not one.

    Kept per file version: reading one walks the whole archive (validate reads every pinned chart,
    and a process that validates or renders again would read them all again)."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise StageError("charts", f"{path.name} is not a readable chart package: {exc}") from None
    return _read_chart(path, stat.st_ino, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=512)
def _read_chart(path: Path, _inode: int, _size: int, _mtime_ns: int) -> ChartInfo:
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            top = next((m for m in members if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml")), None)
            if top is None:
                raise StageError("charts", f"{path.name} holds no <chart>/Chart.yaml: not a packaged chart")
            root = top.name.split("/")[0]
            meta = _metadata(_read(tar, top), f"{path.name}:{top.name}")
            vendored = []
            for member in members:
                parts = member.name.split("/")
                if parts[0] != root or len(parts) < 3 or parts[1] != "charts":
                    continue
                if len(parts) == 4 and parts[3] == "Chart.yaml":
                    sub = _metadata(_read(tar, member), f"{path.name}:{member.name}")
                elif len(parts) == 3 and parts[2].endswith(".tgz"):
                    sub = _packed_metadata(_read(tar, member), f"{path.name}:{member.name}")
                else:
                    continue
                vendored.append((str(sub["name"]), str(sub.get("version", ""))))
            has_schema = any(m.name == f"{root}/values.schema.json" for m in members)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise StageError("charts", f"{path.name} is not a readable chart package: {exc}") from None
    dependencies = tuple(
        Dependency(str(dep["name"]), str(dep.get("version", "")), str(dep.get("repository", "")), dep.get("condition"))
        for dep in meta.get("dependencies") or [] if isinstance(dep, dict) and dep.get("name")
    )
    return ChartInfo(str(meta["name"]), str(meta.get("version", "")), meta.get("kubeVersion"), dependencies,
                     tuple(sorted(vendored)), has_schema)


def _packed_metadata(raw: bytes, where: str) -> dict[str, Any]:
    """A subchart vendored as a .tgz (how `helm dependency build` leaves them)."""
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.count("/") == 1 and member.name.endswith("/Chart.yaml"):
                return _metadata(_read(tar, member), where)
    raise StageError("charts", f"{where} holds no Chart.yaml")
