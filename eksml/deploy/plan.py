"""`eksml plan`: what a deploy would change, in both layers, as one result for people and machines.

The AWS layer is every stack's Terraform plan. The Kubernetes layer is object by object (the real
charts) when the last render holds full manifests, else values and owned objects (no chart needed);
with a cluster, also each Helm release's pending change.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Sequence
from typing import Any, Optional

from eksml.aws.preview_many import preview_each
from eksml.aws.run import plan_environment
from eksml.aws.run_result import RunResult
from eksml.config.models import Environment
from eksml.contract.outputs import AwsOutputs
from eksml.emulator.deviations import NOT_EMULATED
from eksml.k8s.cluster.live import ReleaseChange, format_changes, release_changes
from eksml.k8s.cluster.object_diff import ObjectPlan, has_object_render, plan_objects
from eksml.k8s.rendering.render import current_outputs, default_render_dir
from eksml.k8s.rendering.values_plan import PlanDiff, plan_diff
from eksml.aws.events import EventCallback

_SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "read": "<="}


@dataclass(frozen=True)
class EnvironmentPlan:
    env: Environment
    aws: RunResult
    kubernetes: ObjectPlan | PlanDiff
    releases: Optional[list[ReleaseChange]]  # with a cluster to compare with

    @property
    def kubernetes_by_object(self) -> bool:
        return isinstance(self.kubernetes, ObjectPlan)


def plan(env: Environment, *, preview: bool, on_event: EventCallback | None = None,
         kubeconfig: Optional[Path] = None, context: Optional[str] = None) -> EnvironmentPlan:
    result = plan_environment(env, preview=preview, on_event=on_event)
    outputs = current_outputs(env)
    releases = release_changes(env, outputs, kubeconfig, context) if (kubeconfig or context) else None
    return EnvironmentPlan(env, result, kubernetes_plan(env, outputs, default_render_dir(env)), releases)


def plan_environments(envs: Sequence[Environment], *, preview: bool,
                      on_event_for: Callable[[Environment], EventCallback | None] = lambda env: None,
                      kubeconfig: Optional[Path] = None, context: Optional[str] = None) -> list[EnvironmentPlan]:
    """One environment as `plan` does it; several, each previewed against its own throwaway emulator
    in this one process (the CDKTF import is paid once)."""
    if len(envs) == 1:
        return [plan(envs[0], preview=preview, on_event=on_event_for(envs[0]), kubeconfig=kubeconfig, context=context)]
    results = preview_each(envs, on_event_for)
    return [EnvironmentPlan(env, result, kubernetes_plan(env, current_outputs(env), default_render_dir(env)), None)
            for env, result in zip(envs, results)]


def kubernetes_plan(env: Environment, outputs: AwsOutputs, previous_dir: Path) -> ObjectPlan | PlanDiff:
    if not has_object_render(previous_dir):
        return plan_diff(env, outputs, previous_dir)
    with tempfile.TemporaryDirectory(prefix="eksml-plan-") as scratch:
        return plan_objects(env, outputs, previous_dir, Path(scratch))


def plan_text(planned: EnvironmentPlan) -> str:
    env, result = planned.env, planned.aws
    where = (
        "a throwaway emulator (stand-in outputs for unapplied upstream stacks)" if result.preview
        else "the local emulator" if env.emulator else f"account {env.account_id or '(from credentials)'}"
    )
    lines = [f"Plan of {env.name} against {where}:"]
    if result.preview or env.emulator:
        lines.append(f"(emulator variant: {', '.join(NOT_EMULATED)} are left out; moto does not serve them)")
    for stack in result.stacks:
        if stack.plan is None:
            lines.append(f"\n{stack.name}: not planned, waits for outputs of {', '.join(stack.blocked_by)} "
                         "(deploy them first, or use --emulator for a full preview)")
            continue
        note = " (downstream stacks planned with stand-ins for its outputs)" if stack.stood_in else ""
        lines.append(f"\n{stack.name}: {stack.plan.summary}{note}")
        lines += [f"  {_SYMBOLS[change.action]:>3} {change.address}"
                  for change in sorted(stack.plan.changes, key=lambda c: c.address) if change.action in _SYMBOLS]
    total = sum(len(stack.plan.changes) for stack in result.stacks if stack.plan)
    lines.append(f"\n{total} resource changes in {len(result.stacks)} stacks ({result.seconds:.0f}s).")
    lines.append("\n" + planned.kubernetes.summary())
    if not planned.kubernetes_by_object:
        lines.append(f"(run `eksml render {env.name}` once to compare full objects from the charts)")
    if planned.releases is not None:
        lines.append("\n" + format_changes(planned.releases))
    return "\n".join(lines)


def plan_json(planned: EnvironmentPlan) -> dict[str, Any]:
    result = planned.aws
    return {
        "ok": True,
        "environment": result.env_name,
        "preview": result.preview,
        "seconds": round(result.seconds, 1),
        "stacks": [_stack_json(stack) for stack in result.stacks],
        "kubernetes": _kubernetes_json(planned.kubernetes),
        **({"releases": [_release_json(c) for c in planned.releases]} if planned.releases is not None else {}),
    }


def _stack_json(stack) -> dict[str, Any]:
    changes = stack.plan.changes if stack.plan else ()
    return {
        "name": stack.name,
        "planned": stack.plan is not None,
        "blocked_by": list(stack.blocked_by),
        "has_changes": stack.has_changes,
        "stand_in_outputs": stack.stood_in,
        "add": stack.plan.adds if stack.plan else 0,
        "change": stack.plan.updates if stack.plan else 0,
        "destroy": stack.plan.destroys if stack.plan else 0,
        "changes": [{"address": c.address, "type": c.type, "action": c.action, "replace": c.is_replace,
                     "delete": c.is_delete} for c in changes],
    }


def _kubernetes_json(kubernetes: ObjectPlan | PlanDiff) -> dict[str, Any]:
    """Object by object, with each changed object's diff; or file by file from a values-only render."""
    if isinstance(kubernetes, ObjectPlan):
        return {"compared": "objects", "against": str(kubernetes.previous_dir), "has_changes": kubernetes.has_changes,
                "changes": [{"release": c.release, "object": c.object, "status": c.status, "diff": c.diff}
                            for c in kubernetes.changes]}
    return {"compared": "values and owned objects", "against": str(kubernetes.previous_dir),
            "has_changes": kubernetes.has_changes,
            "changes": [{"file": c.path, "status": c.status, "diff": c.diff} for c in kubernetes.changes]}


def _release_json(change: ReleaseChange) -> dict[str, Any]:
    return {"release": change.release, "namespace": change.namespace, "action": change.action,
            "detail": change.detail, "values_diff": change.values_diff}
