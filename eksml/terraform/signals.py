"""Interrupts: terraform runs in its own session, so a terminal Ctrl-C reaches only us; the first
SIGINT/SIGTERM is forwarded to every running terraform exactly once (terraform then stops after the
calls in flight, writes its state and releases the lock). A second signal is not forwarded:
terraform treats it as "exit immediately", which can lose state."""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class SignalRelay:
    """Forwards the first SIGINT/SIGTERM to every terraform running (stacks can run side by side).

    Only the main thread may install signal handlers: a run that starts terraform from worker
    threads holds `relay()` open in the main thread around them. Nested `relay()`s share one
    installation; the signal received is known until the outermost one closes.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._lock = threading.RLock()  # the handler runs on the main thread, maybe inside `tracking`
        self._processes: set[subprocess.Popen] = set()
        self._depth = 0
        self._previous: dict[int, Any] = {}

    @contextmanager
    def relay(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # the main thread's relay (if any) applies
            return
        if self._depth == 0:
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._forward)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                for signum, handler in self._previous.items():
                    signal.signal(signum, handler)
                self._previous.clear()
                self.signum = None

    @contextmanager
    def tracking(self, process: subprocess.Popen) -> Iterator[None]:
        with self._lock:
            self._processes.add(process)
            late = self.signum
        if late is not None:  # the signal came while this one was starting
            _send(process, late)
        try:
            yield
        finally:
            with self._lock:
                self._processes.discard(process)

    def _forward(self, signum: int, _frame: Any) -> None:
        with self._lock:
            if self.signum is not None:
                return  # a second signal would make terraform exit at once, losing state
            self.signum = signum
            processes = list(self._processes)
        for process in processes:
            _send(process, signum)


def _send(process: subprocess.Popen, signum: int) -> None:
    try:
        process.send_signal(signum)
    except ProcessLookupError:
        pass


SIGNALS = SignalRelay()
