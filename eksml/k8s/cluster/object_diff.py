"""The Kubernetes layer's plan without a cluster: every object of every release (Helm's full
manifests and eksml's own objects) now, against the last render on disk, as added / changed /
removed objects with a readable diff of each changed one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from eksml.charts import ChartCache
from eksml.charts.kube_yaml import ManifestObject, read_manifest
from eksml.config.models import Environment
from eksml.contract.outputs import AwsOutputs
from eksml.k8s.model.manifests import MANIFESTS_DIR, OBJECTS_DIR
from eksml.k8s.model.records import ChangeStatus, change_status, count_changes
from eksml.k8s.rendering.render import render_platform
from eksml.k8s.rendering.yaml_out import to_yaml

MAX_DIFF_LINES = 40  # per object: a chart upgrade changes hundreds of lines; the plan stays readable
Objects = dict[str, dict[str, dict]]  # release -> "Kind namespace/name" -> object


@dataclass(frozen=True)
class ObjectChange:
    release: str
    object: str
    status: ChangeStatus
    diff: str


@dataclass(frozen=True)
class ObjectPlan:
    previous_dir: Path
    changes: tuple[ObjectChange, ...]

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def summary(self, with_diffs: bool = True) -> str:
        if not self.changes:
            return "Kubernetes layer: no object changes since the last render."
        lines = [count_changes([c.status for c in self.changes], "objects")]
        release = None
        for change in self.changes:
            if change.release != release:
                release = change.release
                lines.append(f"  {release}:")
            lines.append(f"    {change.status:8} {change.object}")
            if with_diffs and change.status == "changed":
                diff = change.diff.splitlines()
                lines += [f"      {line}" for line in diff[:MAX_DIFF_LINES]]
                if len(diff) > MAX_DIFF_LINES:
                    lines.append(f"      ... {len(diff) - MAX_DIFF_LINES} more diff lines (see the render directory)")
        return "\n".join(lines)


def _key(obj: ManifestObject) -> str:
    return str(obj)


def _files(render_dir: Path) -> dict[str, Path]:
    found = {f"{MANIFESTS_DIR}/{p.name}": p for p in (render_dir / MANIFESTS_DIR).glob("*.yaml")}
    found.update({str(p.relative_to(render_dir)): p for p in (render_dir / OBJECTS_DIR).rglob("*.yaml")})
    return found


def _release_of(relative: str) -> str:
    parts = Path(relative).parts
    return Path(parts[1]).stem if parts[0] == MANIFESTS_DIR else parts[1]


def objects_on_disk(render_dir: Path, only: Optional[set[str]] = None) -> Objects:
    """Objects per release of a render directory (of the files in `only`, when given)."""
    found: Objects = {}
    for relative, path in sorted(_files(render_dir).items()):
        if only is not None and relative not in only:
            continue
        release = _release_of(relative)
        found.setdefault(release, {}).update({_key(o): o.body for o in read_manifest(path.read_text(), release)})
    return found


def compare_dirs(previous_dir: Path, current_dir: Path) -> ObjectPlan:
    """Only files whose text differs are read: large CRDs make parsing the slow part."""
    before, after = _files(previous_dir), _files(current_dir)
    differ = {f for f in set(before) | set(after)
              if f not in before or f not in after or before[f].read_bytes() != after[f].read_bytes()}
    return compare(objects_on_disk(previous_dir, differ), objects_on_disk(current_dir, differ), previous_dir)


def has_object_render(render_dir: Path) -> bool:
    return (render_dir / MANIFESTS_DIR).is_dir()


def compare(previous: Objects, current: Objects, previous_dir: Path) -> ObjectPlan:
    changes = []
    for release in sorted(set(previous) | set(current)):
        old, new = previous.get(release, {}), current.get(release, {})
        for name in sorted(set(old) | set(new)):
            before, after = old.get(name), new.get(name)
            if before == after:
                continue
            status = change_status(before, after)
            diff = "".join(difflib.unified_diff(
                to_yaml(before).splitlines(keepends=True) if before is not None else [],
                to_yaml(after).splitlines(keepends=True) if after is not None else [],
                fromfile=f"last render: {name}", tofile=f"now: {name}", n=2))
            changes.append(ObjectChange(release, name, status, diff))
    return ObjectPlan(previous_dir, tuple(changes))


def plan_objects(env: Environment, outputs: AwsOutputs, previous_dir: Path, scratch: Path, *,
                 values_dir: Optional[Path] = None, cache: Optional[ChartCache] = None,
                 mirror: Optional[str] = "env") -> ObjectPlan:
    """Render now into `scratch` (checked like `eksml render`), then compare object by object."""
    render_platform(env, outputs, scratch, values_dir=values_dir, with_charts=True, cache=cache, mirror=mirror)
    return compare_dirs(previous_dir, scratch)
