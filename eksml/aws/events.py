"""What a run over the stacks reports while it works: one start and one finish per step."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Union

from eksml.errors import first_line
from eksml.terraform import TerraformEvent


class StepResult(StrEnum):
    RUNNING = "running"
    OK = "ok"
    CHANGED = "changed"
    NO_CHANGES = "no changes"
    SKIPPED = "skipped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @classmethod
    def of_change(cls, changed: bool) -> "StepResult":
        return cls.CHANGED if changed else cls.NO_CHANGES

    @property
    def is_failure(self) -> bool:
        return self in (StepResult.FAILED, StepResult.INTERRUPTED)


@dataclass(frozen=True)
class StepStarted:
    stage: str  # synth | state | init | plan | apply | destroy | output | stand-in
    stack: str = ""


@dataclass(frozen=True)
class StepFinished:
    stage: str
    stack: str
    seconds: float
    result: StepResult
    note: str = ""


RunEvent = Union[StepStarted, StepFinished, TerraformEvent]
EventCallback = Callable[[RunEvent], None]


class StepOutcome:
    """What the block inside `step` found; reported when the block ends."""

    def __init__(self) -> None:
        self.result = StepResult.OK
        self.note = ""


class step:
    """Reports StepStarted/StepFinished around a block; a failure is reported, then propagates."""

    def __init__(self, report: EventCallback, stage: str, stack: str):
        self.report, self.stage, self.stack = report, stage, stack

    def __enter__(self) -> StepOutcome:
        self.begun = time.monotonic()
        self.outcome = StepOutcome()
        self.report(StepStarted(self.stage, self.stack))
        return self.outcome

    def __exit__(self, exc_type, exc, tb) -> None:
        seconds = time.monotonic() - self.begun
        if exc_type is None:
            self.report(StepFinished(self.stage, self.stack, seconds, self.outcome.result, self.outcome.note))
        else:
            result = StepResult.INTERRUPTED if issubclass(exc_type, KeyboardInterrupt) else StepResult.FAILED
            self.report(StepFinished(self.stage, self.stack, seconds, result, first_line(exc) if exc else ""))
