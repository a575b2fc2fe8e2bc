"""When the output itself cannot be written (a full disk, /dev/full, a closed pipe): one line on stderr.

Writing the answer is the last thing a command does; when stdout refuses it, the error report must
not go to stdout again (it would fail the same way) nor become a traceback or "a bug in eksml". The
same holds for any OSError no command caught: a full disk is an operational failure (exit 1).
"""

from __future__ import annotations

import os
import sys

OUTPUT_ERRNOS = frozenset({28, 32, 5, 122, 27})  # ENOSPC, EPIPE, EIO, EDQUOT, EFBIG


def report_os_error(exc: OSError, stage: str) -> int:
    """Exit 1 with one line on stderr; stdout is detached so the interpreter's final flush stays quiet."""
    target = f" {exc.filename}" if getattr(exc, "filename", None) else " the output"
    verb = "cannot write" if exc.errno in OUTPUT_ERRNOS else "cannot use"
    line = f"error: stage '{stage}' failed: {verb}{target}: {exc.strerror or exc}\n"
    _detach_stdout()
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except OSError:
        pass
    return 1


def flush_stdout() -> OSError | None:
    """Flush now, while a failure can still be reported; the OSError when it cannot."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        return exc
    return None


def _detach_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
