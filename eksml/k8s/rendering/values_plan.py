"""The Kubernetes layer's plan from a values-only render: each values file and owned object now,
against the last render on disk (no chart needed, so it works before `eksml render` ever ran)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from eksml.config.models import Environment
from eksml.contract.outputs import AwsOutputs
from eksml.k8s.model.manifests import OBJECTS_DIR, VALUES_SUFFIX
from eksml.k8s.model.records import ChangeStatus, change_status, count_changes
from eksml.k8s.model.platform import build_platform
from eksml.k8s.rendering.render import render_files
from eksml.k8s.rendering.render_index import INDEX_FILE
from eksml.k8s.checks.scheduling import check_scheduling


@dataclass(frozen=True)
class FileChange:
    path: str
    status: ChangeStatus
    diff: str


@dataclass(frozen=True)
class PlanDiff:
    previous_dir: Path
    changes: tuple[FileChange, ...]

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def summary(self) -> str:
        if not self.changes:
            return "Kubernetes layer: no changes since the last render."
        head = count_changes([c.status for c in self.changes])
        return head + "\n" + "\n".join(f"  {c.status:8} {c.path}" for c in self.changes)


def plan_diff(
    env: Environment, outputs: AwsOutputs, previous_render_dir: Path, *, values_dir: Optional[Path] = None
) -> PlanDiff:
    """What a render now would change in values and owned objects, compared with the last render."""
    platform = build_platform(env, outputs, values_dir)
    placements = check_scheduling(platform)
    current = {p: c for p, c in render_files(platform, placements).items() if p != INDEX_FILE}
    previous: dict[str, str] = {}
    if previous_render_dir.is_dir():
        for path in [*previous_render_dir.glob(f"*{VALUES_SUFFIX}"), *(previous_render_dir / OBJECTS_DIR).rglob("*.yaml")]:
            previous[str(path.relative_to(previous_render_dir))] = path.read_text()
    changes = []
    for path in sorted(set(current) | set(previous)):
        old, new = previous.get(path), current.get(path)
        if old == new:
            continue
        status = change_status(old, new)
        diff = "".join(difflib.unified_diff(
            (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
            fromfile=f"previous/{path}", tofile=f"current/{path}",
        ))
        changes.append(FileChange(path, status, diff))
    return PlanDiff(previous_render_dir, tuple(changes))
