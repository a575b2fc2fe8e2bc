"""`eksml status`: per stack, when it was last applied and whether the live state drifted from code;
with a cluster, per Helm release its revision and whether it is deployed at the pinned version."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from eksml.config import Environment
from eksml.deploy.pipeline import load_history
from eksml.table import text_table

if TYPE_CHECKING:
    from eksml.k8s.live import ReleaseStatus


@dataclass(frozen=True)
class StackStatus:
    stack: str
    last_applied: Optional[str]
    last_change: Optional[str]
    drift: str  # "in sync" | "N to add, ..." | "not applied" | "blocked: ..."

    def as_dict(self) -> dict:
        return asdict(self)


def stack_status(env: Environment, *, emulator: bool = False) -> list[StackStatus]:
    """Plans every stack where the environment lives; a plan with changes is drift (or unapplied code)."""
    from eksml.aws_layer import run_stacks

    history = load_history(env)
    if env.emulator or emulator:
        from eksml.emulator import persistent_emulator

        with persistent_emulator(env.name, env.region) as running:
            result = run_stacks(env, "plan", emulator=running)
    else:
        result = run_stacks(env, "plan")
    statuses = []
    for stack in result.stacks:
        entry = history.get(stack.name, {})
        if stack.plan is None:
            drift = f"blocked: waits for {', '.join(stack.blocked_by)}"
        elif not stack.plan.has_changes:
            drift = "in sync"
        else:
            drift = f"{stack.plan.adds} to add, {stack.plan.updates} to change, {stack.plan.destroys} to destroy"
            if not entry.get("last_applied"):
                drift = f"not applied ({drift})"
        statuses.append(StackStatus(stack.name, entry.get("last_applied"), entry.get("last_change"), drift))
    return statuses


def format_status(env: Environment, statuses: list[StackStatus]) -> str:
    rows = [("stack", "last applied", "last change", "drift")]
    rows += [(s.stack, s.last_applied or "never", s.last_change or "-", s.drift) for s in statuses]
    return f"{env.name} ({'emulator' if env.emulator else env.region}):\n" + "\n".join(text_table(rows))


def releases_of(env: Environment, kubeconfig: Optional[str], context: Optional[str], *, helm: str = "helm") -> list["ReleaseStatus"]:
    from eksml.k8s.live import release_status
    from eksml.k8s.render import current_outputs

    return release_status(env, current_outputs(env), Path(kubeconfig) if kubeconfig else None, context, helm=helm)


def format_releases(releases: list["ReleaseStatus"]) -> str:
    rows = [("release", "namespace", "revision", "status", "chart (pinned)", "health")]
    rows += [
        (r.release, r.namespace, str(r.revision or "-"), r.status, f"{r.installed or '-'} ({r.pinned})",
         "ok" if r.healthy else "needs attention")
        for r in releases
    ]
    return "\n".join(text_table(rows))
