"""An output folder eksml writes into (`render --out`, `render --gitops`): only its own files are touched.

eksml keeps a manifest of the files it wrote in the folder (MANIFEST_FILE, one relative path a
line). A later render replaces and removes only those; a folder that holds anything else (a user's
notes, another team's Argo CD Applications, the project's README) is refused with exit 2, naming
what would be lost, unless the user passes --force: then eksml overwrites the files it must write
and still removes nothing it did not write. A symlink inside the folder is never written through.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Mapping, Optional

from eksml.errors import ConfigError, Issue

MANIFEST_FILE = ".eksml-files"
_HEADER = "# Files written by eksml into this folder; eksml replaces or removes only these. Do not edit.\n"
_SHOWN_AT_MOST = 10


@dataclass(frozen=True)
class OutputFolder:
    """A checked folder: what eksml owns there, and what it may overwrite (with --force)."""

    root: Path
    owned: frozenset[str]

    def write(self, files: Mapping[str, str]) -> tuple[Path, ...]:
        """Write every file, remove the owned ones no longer written, then record the new manifest."""
        self.root.mkdir(parents=True, exist_ok=True)
        written = []
        for relative, content in sorted(files.items()):
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():
                path.unlink()  # replaced (allowed by --force), never written through
            path.write_text(content)
            written.append(path)
        for stale in sorted(self.owned - set(files)):
            path = self.root / stale
            if path.is_file() and not path.is_symlink():
                path.unlink()
                _remove_empty_parents(path.parent, self.root)
        (self.root / MANIFEST_FILE).write_text(_HEADER + "".join(f"{name}\n" for name in sorted(files)))
        return tuple(written)


def check_output_folder(root: Path, planned: Mapping[str, str], *, force: bool = False,
                        adopt: bool = False) -> OutputFolder:
    """Refuse (ConfigError) a folder holding files eksml did not write; nothing is written here.

    adopt: the folder is eksml's own (the default render folder under .eksml/), so files there
    from before the manifest existed count as eksml's.
    """
    shown = str(root)
    if root.exists() and not root.is_dir():
        raise ConfigError([Issue(shown, "", "is not a folder; name a folder to write the files into")])
    if not root.exists():
        return OutputFolder(root, frozenset())
    present = _files_in(root)
    owned = _read_manifest(root)
    if adopt and not (root / MANIFEST_FILE).exists():
        owned = frozenset(name for name in present if not (root / name).is_symlink())
    blocked = sorted(name for name in planned if (root / name).is_dir() and not (root / name).is_symlink())
    if blocked:
        raise ConfigError([Issue(shown, "", f"holds a folder where eksml writes a file: {_listed(blocked)}; "
                                            "move it away or choose another folder")])
    foreign = sorted(name for name in present if name not in owned or (root / name).is_symlink())
    if foreign and not force:
        overwritten = [name for name in foreign if name in planned]
        detail = f"; {len(overwritten)} of them would be overwritten ({_listed(overwritten)})" if overwritten else ""
        raise ConfigError([Issue(shown, "", (
            f"holds {len(foreign)} file(s) eksml did not write: {_listed(foreign)}{detail}. eksml writes only into "
            "an empty folder or one it wrote before; choose another folder, or pass --force to overwrite the "
            "files it writes (it never removes files it did not write)"
        ))])
    return OutputFolder(root, owned & present)


def _files_in(root: Path) -> frozenset[str]:
    """Every file, symlink and special file below root (relative, POSIX), except the manifest."""
    found = set()
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(directory)
        links = [d for d in dirnames if (base / d).is_symlink()]
        for name in [*filenames, *links]:
            relative = (base / name).relative_to(root).as_posix()
            if relative != MANIFEST_FILE:
                found.add(relative)
    return frozenset(found)


def _read_manifest(root: Path) -> frozenset[str]:
    """The files eksml wrote last time; an entry leaving the folder (.., absolute) is ignored."""
    path = root / MANIFEST_FILE
    if not path.is_file() or path.is_symlink():
        return frozenset()
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return frozenset()
    names = set()
    for line in lines:
        name = line.strip()
        parts = PurePosixPath(name).parts
        if name and not name.startswith("#") and not PurePosixPath(name).is_absolute() and ".." not in parts:
            names.add(name)
    return frozenset(names)


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()  # only when empty
        except OSError:
            return
        directory = directory.parent


def _listed(names: list[str]) -> str:
    shown = ", ".join(_printable(n) for n in names[:_SHOWN_AT_MOST])
    return shown + (f" and {len(names) - _SHOWN_AT_MOST} more" if len(names) > _SHOWN_AT_MOST else "")


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def default_folder(out: Optional[Path], default: Path) -> tuple[Path, bool]:
    """The folder to write and whether it is eksml's own (the default under .eksml/)."""
    return (out, False) if out is not None else (default, True)
