"""One deploy or destroy of an environment at a time on this machine.

Terraform's S3 lockfile guards shared state; this lock also guards what lives only on this machine
(the emulator's snapshot, the working directories). It is an flock: the kernel releases it when the
holder exits, however it exits, so it can never go stale.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from eksml.errors import StageError


@contextmanager
def exclusive_run(lock_path: Path, command: str) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _describe(handle.read())
            raise StageError(
                "lock",
                f"another run holds {lock_path}: {holder}",
                hint="wait for it to finish, or stop that process; the lock is released as soon as it exits",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "argv": " ".join(sys.argv),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }))
        handle.flush()
        yield
    finally:
        handle.close()


def _describe(text: str) -> str:
    try:
        info = json.loads(text)
    except ValueError:
        return "unknown holder"
    return f"{info.get('command')} by pid {info.get('pid')} on {info.get('host')} since {info.get('started')}"
