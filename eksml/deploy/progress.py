"""Progress of a long run: a live line on a terminal, plain timestamped lines in CI, and a summary table."""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Iterator

from eksml.aws.events import StepResult
from eksml.table import text_table

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass
class StepRecord:
    stage: str
    target: str
    result: StepResult = StepResult.RUNNING
    seconds: float = 0.0
    note: str = ""


@dataclass
class Progress:
    """Records every step; shows them live. `live=None` decides from the stream and the CI variable."""

    stream: IO[str] = field(default_factory=lambda: sys.stderr)
    live: bool | None = None
    steps: list[StepRecord] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.live is None:
            self.live = self.stream.isatty() and not os.environ.get("CI")
        self._running: list[StepRecord] = []  # more than one while independent stacks run side by side
        self._detail = ""
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    @contextmanager
    def step(self, stage: str, target: str = "") -> Iterator[StepRecord]:
        """Time one step; an exception marks it failed (or interrupted) and propagates."""
        record = StepRecord(stage, target)
        with self._lock:
            self.steps.append(record)
        begun = time.monotonic()
        self._begin(record)
        try:
            yield record
        except KeyboardInterrupt:
            record.result = StepResult.INTERRUPTED
            raise
        except BaseException:
            record.result = StepResult.FAILED
            raise
        else:
            if record.result is StepResult.RUNNING:
                record.result = StepResult.OK
        finally:
            record.seconds = time.monotonic() - begun
            self._end(record)

    def skip(self, stage: str, target: str = "", note: str = "") -> None:
        record = StepRecord(stage, target, result=StepResult.SKIPPED, note=note)
        with self._lock:
            self.steps.append(record)
        self._print(f"- {self._label(record)}: skipped{f' ({note})' if note else ''}")

    def detail(self, text: str) -> None:
        """Latest line of work inside the current step (e.g. the resource terraform is creating)."""
        with self._lock:
            self._detail = text.strip()[:80]
        if not self.live and text.strip():
            self._print(f"    {text.strip()}")

    def info(self, text: str) -> None:
        self._print(text)

    # -- rendering ---------------------------------------------------------------------------------

    def _label(self, record: StepRecord) -> str:
        return f"{record.stage} {record.target}".strip()

    def _elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60:02d}:{seconds % 60:02d}"

    def _print(self, line: str) -> None:
        with self._lock:
            if self.live:
                self.stream.write("\r\033[K")
            self.stream.write(f"{line}\n" if self.live else f"[{self._elapsed()}] {line}\n")
            self.stream.flush()

    def _begin(self, record: StepRecord) -> None:
        with self._lock:
            self._running.append(record)
            self._detail = ""
            start_ticker = self.live and self._ticker is None
            if start_ticker:
                self._stop.clear()
                self._ticker = threading.Thread(target=self._tick, daemon=True)
        if start_ticker:
            self._ticker.start()
        if not self.live:
            self._print(f"{self._label(record)}: started")

    def _end(self, record: StepRecord) -> None:
        with self._lock:
            if record in self._running:
                self._running.remove(record)
            ticker = self._ticker if not self._running else None
            if ticker is not None:
                self._ticker = None
        if ticker is not None:
            self._stop.set()
            ticker.join()
        mark = {StepResult.FAILED: "✗", StepResult.INTERRUPTED: "!", StepResult.SKIPPED: "-"}.get(record.result, "✓")
        note = f" ({record.note})" if record.note else ""
        self._print(f"{mark} {self._label(record)}: {record.result} in {record.seconds:.1f}s{note}")

    def _tick(self) -> None:
        frame = 0
        while not self._stop.wait(0.1):
            with self._lock:
                if not self._running:
                    continue
                running = time.monotonic() - self.started
                labels = " | ".join(self._label(record) for record in self._running)  # stacks side by side
                line = f"{_SPINNER[frame % len(_SPINNER)]} [{int(running) // 60:02d}:{int(running) % 60:02d}] {labels}"
                if self._detail:
                    line += f" · {self._detail}"
                self.stream.write("\r\033[K" + line[: _terminal_width() - 1])
                self.stream.flush()
            frame += 1

    def summary(self) -> str:
        """A table of every step with its result and duration, and the total."""
        rows = [("stage", "target", "result", "time")]
        rows += [(s.stage, s.target, s.result + (f" ({s.note})" if s.note else ""), f"{s.seconds:.1f}s") for s in self.steps]
        lines = text_table(rows)
        lines.append(f"total {time.monotonic() - self.started:.1f}s")
        return "\n".join(lines)


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100
