"""`eksml capacity ENV --against OTHER`: what a change does to the slices and the cost.

OTHER is another environment file, or a git ref whose copy of ENV's file is compared (a pull request
compares its head with the base branch). An environment that does not exist at the ref is new:
everything it offers is added.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from eksml.capacity.report import CapacityReport
from eksml.capacity.supply import SIZES
from eksml.config import load_environment, resolve_environment_file
from eksml.errors import ConfigError, Issue, StageError


@dataclass(frozen=True)
class Change:
    item: str  # "a100-mig mig-3g.40gb" or "cost"
    before: dict[str, Optional[float]]  # size -> value (None: no ceiling / not there)
    after: dict[str, Optional[float]]

    def delta(self, size: str) -> Optional[float]:
        old, new = self.before.get(size), self.after.get(size)
        if old is None and new is None:
            return None
        return (new or 0) - (old or 0)

    def as_dict(self) -> dict:
        return {"item": self.item, "before": self.before, "after": self.after,
                "delta": {size: self.delta(size) for size in SIZES}}


def _slices(report: Optional[CapacityReport]) -> dict[str, dict[str, Optional[float]]]:
    found: dict[str, dict[str, Optional[float]]] = {}
    for supply in report.supplies if report else ():
        for resource in supply.per_node:
            found[f"{supply.name} {resource.removeprefix('nvidia.com/')}"] = {
                size: (total or {}).get(resource) if (total := supply.total(size)) is not None else None
                for size in SIZES}
    return found


def _costs(report: Optional[CapacityReport]) -> dict[str, dict[str, Optional[float]]]:
    if report is None or report.cost is None:
        return {}
    return {"cost $/month": {size: report.cost.total_per_month(size) for size in SIZES}}


def compare(before: Optional[CapacityReport], after: CapacityReport) -> tuple[Change, ...]:
    """Every slice count and the monthly cost that differ at some size; unchanged ones are left out."""
    changes = []
    for extract in (_slices, _costs):
        old, new = extract(before), extract(after)
        for item in sorted(set(old) | set(new)):
            change = Change(item, old.get(item, {}), new.get(item, {}))
            if any(change.delta(size) not in (None, 0) for size in SIZES) or (item in old) != (item in new):
                changes.append(change)
    return tuple(changes)


def _repo_root(cwd: Path) -> Path:
    done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise StageError("capacity --against", f"not in a git repository: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def file_at_ref(env_file: Path, ref: str) -> Optional[str]:
    """The text of `env_file` at git `ref`; None when the ref has no such file (a new environment)."""
    root = _repo_root(env_file.resolve().parent)
    relative = env_file.resolve().relative_to(root).as_posix()
    known = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=root,
                           capture_output=True, text=True)
    if known.returncode != 0:
        raise ConfigError([Issue("--against", "", f"'{ref}' is neither an environment file nor a git ref")])
    shown = subprocess.run(["git", "show", f"{ref}:{relative}"], cwd=root, capture_output=True, text=True)
    return shown.stdout if shown.returncode == 0 else None


def load_other(env_ref: str, other: str):
    """The environment to compare with: OTHER as a file, else ENV's file at git ref OTHER (None: new)."""
    if Path(other).is_file():
        return load_environment(other)
    text = file_at_ref(resolve_environment_file(env_ref), other)
    if text is None:
        return None
    name = resolve_environment_file(env_ref).name
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / name
        copy.write_text(text)
        try:
            return load_environment(copy)
        except ConfigError as exc:  # name the file as it is at the ref, not the scratch copy
            raise ConfigError([Issue(f"{other}:{name}", i.path, i.message) for i in exc.issues]) from None


def capacity_against(env_ref: str, other: str) -> tuple[CapacityReport, tuple[Change, ...], bool]:
    """(ENV's report, the changes from OTHER to ENV, whether ENV is new at OTHER)."""
    from eksml.capacity import capacity_report

    after = capacity_report(load_environment(env_ref))
    previous = load_other(env_ref, other)
    before = capacity_report(previous) if previous is not None else None
    return after, compare(before, after), previous is None
