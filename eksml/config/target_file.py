"""A file eksml is about to rewrite in place (promote's target), checked before any lock or write.

The lock opens the file, so the checks come first: opening a FIFO would block forever. A target
must be an existing regular file (a symlink is followed to one), readable and writable by the user;
a read-only file is the user saying "do not change this" and is not replaced. Every refusal is bad
input (exit 2) and names the file with control characters escaped, so the message names this file.
"""

from __future__ import annotations

import os
from pathlib import Path

from eksml.config.loader import _display, check_environment_path, printable, resolve_environment_file
from eksml.errors import ConfigError, Issue


def check_writable_environment_file(ref: str | Path) -> Path:
    """The target's path, once it is known to be a regular, readable and writable environment file."""
    path = resolve_environment_file(ref)
    shown = printable(_display(path))
    check_environment_path(path, shown)  # missing, dangling, a loop, a FIFO, a device, unreadable: exit 2
    if not os.stat(path).st_mode & 0o222 or not os.access(path, os.W_OK):  # no write bit: even root keeps off
        raise ConfigError([Issue(shown, "", "is read-only: eksml does not replace a file the user may not write; "
                                            "make it writable (chmod u+w) to promote into it")])
    real_parent = Path(os.path.realpath(path)).parent
    if not os.access(real_parent, os.W_OK | os.X_OK):
        raise ConfigError([Issue(shown, "", f"its folder {printable(str(real_parent))} is read-only: the file is "
                                            "replaced by a rename there, which needs write permission")])
    return path
