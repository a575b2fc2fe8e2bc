"""Writing an environment file safely: one writer at a time, all or nothing, nothing left behind.

The lock is an flock on the file itself (no lock file to leave behind). A writer replaces the file,
so a waiter that wakes up holding a lock on the old inode lets go and locks the new one. The new
content is written to an unnamed file (O_TMPFILE) in the same directory, fsynced, given a name and
renamed over the old one: a kill -9 while writing leaves the old file and no temp file (the kernel
frees an unnamed file); only the two system calls between naming and renaming leave one, and the
next writer, holding the lock, removes it.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eksml.errors import StageError

LOCK_WAIT_SECONDS = 60.0


@contextmanager
def locked(path: Path, stage: str, shown: str, wait: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (the real file); waits for another holder, then StageError."""
    wait = LOCK_WAIT_SECONDS if wait is None else wait
    deadline = time.monotonic() + wait
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise StageError(stage, f"cannot open {shown}: {exc.strerror or exc}") from exc
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StageError(stage, f"another eksml process is writing {shown}; waited {wait:.0f} s",
                                         hint="wait for it to finish, then run this again") from None
                    time.sleep(0.05)
            if _same_file(fd, path):
                remove_stale_temp_files(path)
                yield
                return
        finally:
            os.close(fd)  # also releases the lock


def _same_file(fd: int, path: Path) -> bool:
    """False when the file was replaced while we waited: the lock we hold is on the old one."""
    try:
        now = os.stat(path)
    except OSError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def temp_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def remove_stale_temp_files(path: Path) -> None:
    """Only called under the lock: no live writer of this file owns a temp file now."""
    for temp in temp_files(path):
        temp.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes, stage: str) -> None:
    """Readers see the old file or the new one; the permissions of the old file are kept."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise StageError(stage, f"could not write {path}: {exc.strerror or exc}; the file is unchanged") from exc
    named: Path | None = None
    try:
        fd, named = _open_temp(path, dir_fd)
        try:
            _write_all(fd, data)
            os.fsync(fd)
            os.fchmod(fd, mode)
            if named is None:
                named = path.parent / f".{path.name}.{os.getpid()}.tmp"
                os.link(f"/proc/self/fd/{fd}", named.name, dst_dir_fd=dir_fd, follow_symlinks=True)
        finally:
            os.close(fd)
        os.replace(named, path)
        named = None
        try:
            os.fsync(dir_fd)  # makes the rename itself durable
        except OSError:
            pass
    except OSError as exc:
        raise StageError(stage, f"could not write {path}: {exc.strerror or exc}; the file is unchanged") from exc
    finally:
        if named is not None:
            named.unlink(missing_ok=True)
        os.close(dir_fd)


def _open_temp(path: Path, dir_fd: int) -> tuple[int, Path | None]:
    """An unnamed file where the filesystem allows it (Linux), else a named temp file."""
    if hasattr(os, "O_TMPFILE") and Path("/proc/self/fd").is_dir():
        try:
            return os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o600, dir_fd=dir_fd), None
        except OSError:
            pass
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    return fd, Path(name)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
