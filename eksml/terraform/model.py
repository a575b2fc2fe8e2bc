"""What terraform reports, as values: events for a progress display, planned changes, plans and
apply results. No process handling here (that is `runner`)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TerraformEvent:
    """One line of terraform output, for a progress display."""

    stack: str
    command: str  # init | plan | apply | destroy | output | force-unlock
    kind: str  # terraform's message type (planned_change, apply_start, diagnostic, ...) or "log"
    message: str
    address: str | None = None
    level: str = "info"


EventCallback = Callable[[TerraformEvent], None]


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    actions: tuple[str, ...]  # terraform plan JSON style: ("create",), ("update",), ("delete", "create"), ...

    @property
    def action(self) -> str:
        if "delete" in self.actions and "create" in self.actions:
            return "replace"
        return self.actions[0] if self.actions else "no-op"

    @property
    def is_replace(self) -> bool:
        return self.action == "replace"

    @property
    def is_delete(self) -> bool:
        return "delete" in self.actions


_UI_ACTIONS = {
    "create": ("create",),
    "update": ("update",),
    "delete": ("delete",),
    "replace": ("delete", "create"),
    "read": ("read",),
    "noop": ("no-op",),
}


@dataclass(frozen=True)
class Plan:
    stack: str
    plan_file: Path | None  # None: planned and applied in one run (`apply_now`)
    has_changes: bool
    changes: tuple[ResourceChange, ...]
    destroy: bool = False

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    @property
    def adds(self) -> int:  # terraform's "to add" counts a replacement as one add and one destroy
        return self.count("create") + self.count("replace")

    @property
    def updates(self) -> int:
        return self.count("update")

    @property
    def destroys(self) -> int:
        return self.count("delete") + self.count("replace")

    @property
    def summary(self) -> str:
        """Terraform's own wording of a plan's size."""
        return f"{self.adds} to add, {self.updates} to change, {self.destroys} to destroy"


@dataclass(frozen=True)
class ApplyResult:
    stack: str
    added: int
    changed: int
    destroyed: int
    seconds: float
    outputs: dict[str, Any] | None = None  # as `output -json` prints them, from the apply's own report

    @property
    def summary(self) -> str:
        return f"{self.added} added, {self.changed} changed, {self.destroyed} destroyed"


class Interrupted(KeyboardInterrupt):
    """Terraform was stopped by a signal we forwarded; it finished cleanly (state written, lock released)."""

    def __init__(self, stack: str, command: str, signum: int):
        self.stack, self.command, self.signum = stack, command, signum
        super().__init__(
            f"terraform {command} of stack '{stack}' interrupted by {signal.Signals(signum).name}; "
            "terraform stopped cleanly and released the state lock"
        )
