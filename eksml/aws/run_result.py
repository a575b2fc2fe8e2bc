"""What a run of the AWS layer returns, per stack and for the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from eksml.contract.outputs import AwsOutputs
from eksml.terraform import ApplyResult, Plan

Action = Literal["plan", "apply", "destroy"]


@dataclass(frozen=True)
class StackResult:
    name: str
    plan: Plan | None  # None when the stack was blocked
    applied: ApplyResult | None = None
    outputs: dict[str, Any] = field(default_factory=dict)  # output name -> value
    seconds: float = 0.0
    blocked_by: tuple[str, ...] = ()  # upstream stacks without outputs (plan without preview)
    stood_in: bool = False  # its outputs were stand-ins (preview) for the downstream plans

    @property
    def has_changes(self) -> bool:
        return bool(self.plan and self.plan.has_changes)


@dataclass(frozen=True)
class RunResult:
    env_name: str
    action: Action
    stacks: tuple[StackResult, ...]
    outputs: AwsOutputs | None  # after apply: what the Kubernetes layer reads
    outputs_path: Path | None
    seconds: float
    preview: bool = False

    def stack(self, name: str) -> StackResult:
        return next(result for result in self.stacks if result.name == name)

    @property
    def has_changes(self) -> bool:
        return any(result.has_changes for result in self.stacks)
