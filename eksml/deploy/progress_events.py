"""Shows a run over the stacks in a `Progress` display: one progress step per stage and stack."""

from __future__ import annotations

import threading
from typing import Any

from eksml.aws.events import RunEvent, StepFinished, StepResult, StepStarted
from eksml.deploy.progress import Progress
from eksml.errors import StageError

# Terraform messages worth a line of detail under the running step.
_DETAIL_KINDS = {"apply_start", "apply_progress", "apply_complete", "apply_errored", "diagnostic", "stderr"}


class ProgressEvents:
    """A run's event callback that drives `progress` (events come from stacks running side by side)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._open: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, event: RunEvent) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: RunEvent) -> None:
        if isinstance(event, StepStarted):
            context = self.progress.step(event.stage, event.stack)
            self._open[(event.stage, event.stack)] = (context, context.__enter__())
        elif isinstance(event, StepFinished):
            opened = self._open.pop((event.stage, event.stack), None)
            if opened is None:
                self.progress.skip(event.stage, event.stack, event.note)
                return
            context, record = opened
            record.note = event.note
            if event.result.is_failure:
                error = KeyboardInterrupt() if event.result is StepResult.INTERRUPTED else StageError(event.stage, event.note)
                try:
                    context.__exit__(type(error), error, None)
                except BaseException:
                    pass
            else:
                record.result = event.result
                context.__exit__(None, None, None)
        elif event.message and event.kind in _DETAIL_KINDS:
            self.progress.detail(event.message)
