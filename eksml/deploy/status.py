"""`eksml status`: per stack, when it was last applied and whether the live state drifted from code;
with a cluster, per Helm release its revision and whether it is deployed at the pinned version."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from eksml.config import Environment
from eksml.deploy.pipeline import load_history
from eksml.table import text_table

if TYPE_CHECKING:
    from eksml.k8s.cluster.backups import BackupStatus
    from eksml.k8s.model.applications import ApplicationStatus
    from eksml.k8s.cluster.live import ReleaseStatus


class Drift(StrEnum):
    IN_SYNC = "in sync"
    CHANGES = "changes"  # applied before, and the live state or the code moved since
    NOT_APPLIED = "not applied"
    BLOCKED = "blocked"  # cannot be planned: an upstream stack has no outputs yet


@dataclass(frozen=True)
class StackStatus:
    stack: str
    last_applied: Optional[str]
    last_change: Optional[str]
    drift: Drift
    detail: str = ""  # the plan's size, or what a blocked stack waits for

    @property
    def drift_text(self) -> str:
        if self.drift is Drift.IN_SYNC:
            return str(self.drift)
        if self.drift is Drift.CHANGES:
            return self.detail
        if self.drift is Drift.BLOCKED:
            return f"blocked: {self.detail}"
        return f"not applied ({self.detail})"

    def as_dict(self) -> dict:
        return {"stack": self.stack, "last_applied": self.last_applied, "last_change": self.last_change,
                "drift": self.drift_text}


def stack_status(env: Environment, *, emulator: bool = False) -> list[StackStatus]:
    """Plans every stack where the environment lives; a plan with changes is drift (or unapplied code)."""
    from eksml.aws.run import run_stacks
    from eksml.emulator.process import emulator_where_env_lives

    history = load_history(env)
    with emulator_where_env_lives(env.name, env.region, env.emulator or emulator) as running:
        result = run_stacks(env, "plan", emulator=running)
    statuses = []
    for stack in result.stacks:
        entry = history.get(stack.name, {})
        if stack.plan is None:
            drift, detail = Drift.BLOCKED, f"waits for {', '.join(stack.blocked_by)}"
        elif not stack.plan.has_changes:
            drift, detail = Drift.IN_SYNC, ""
        else:
            drift = Drift.CHANGES if entry.get("last_applied") else Drift.NOT_APPLIED
            detail = stack.plan.summary
        statuses.append(StackStatus(stack.name, entry.get("last_applied"), entry.get("last_change"), drift, detail))
    return statuses


def format_status(env: Environment, statuses: list[StackStatus]) -> str:
    rows = [("stack", "last applied", "last change", "drift")]
    rows += [(s.stack, s.last_applied or "never", s.last_change or "-", s.drift_text) for s in statuses]
    return f"{env.name} ({'emulator' if env.emulator else env.region}):\n" + "\n".join(text_table(rows))


def releases_of(env: Environment, kubeconfig: Optional[str], context: Optional[str], *, helm: str = "helm") -> list["ReleaseStatus"]:
    from eksml.k8s.cluster.live import release_status
    from eksml.k8s.rendering.render import current_outputs

    return release_status(env, current_outputs(env), Path(kubeconfig) if kubeconfig else None, context, helm=helm)


def applications_of(env: Environment, kubeconfig: Optional[str], context: Optional[str]) -> list["ApplicationStatus"]:
    from eksml.k8s.model.applications import application_status

    return application_status(env, Path(kubeconfig) if kubeconfig else None, context)


def backups_of(env: Environment, kubeconfig: Optional[str], context: Optional[str]) -> list["BackupStatus"]:
    from eksml.k8s.cluster.backups import backup_status

    return backup_status(env, Path(kubeconfig) if kubeconfig else None, context)


def format_backups(backups: list["BackupStatus"]) -> str:
    if not backups:
        return "backups: no scheduled backup yet (Velero makes the first on the schedule's next run)"
    rows = [("schedule", "last backup", "phase", "started", "finished")]
    rows += [(b.schedule, b.backup, b.phase, b.started or "-", b.finished or "-") for b in backups]
    return "\n".join(text_table(rows))


def format_applications(applications: list["ApplicationStatus"]) -> str:
    rows = [("application", "sync", "health", "revision")]
    rows += [(a.name, a.sync, a.health, a.revision[:12] or "-") for a in applications]
    return "\n".join(text_table(rows))


def format_releases(releases: list["ReleaseStatus"]) -> str:
    rows = [("release", "namespace", "revision", "status", "chart (pinned)", "health")]
    rows += [
        (r.release, r.namespace, str(r.revision or "-"), r.status, f"{r.installed or '-'} ({r.pinned})",
         "ok" if r.healthy else "needs attention")
        for r in releases
    ]
    return "\n".join(text_table(rows))
