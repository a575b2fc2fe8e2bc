"""The helm_values/ folder read through the same gate as environment files.

Every overlay (helm_values/<component>.yaml and helm_values/<env>/<component>.yaml) is read with the
strict, bounded environment reader (size, nesting depth, anchors and aliases, duplicate keys, UTF-8,
YAML 1.1/1.2 ambiguities), whether or not its component is enabled, so a broken file is found the
day it is written and not the day its component is switched on. Anything in the folder that no
component reads (a `.yml` spelling, a folder or device named like an overlay, a file for a component
without a chart) is refused rather than silently ignored. A README is allowed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Iterable

from eksml.config.loader import printable
from eksml.config.yaml_source import read_yaml_file
from eksml.errors import ConfigError, Issue

ALLOWED_NOTES = frozenset({"README.md"})


def read_values_file(path: Path) -> dict[str, Any]:
    """A missing file is an empty layer; anything else must be a regular file holding a YAML mapping."""
    shown = printable(str(path))
    problem = _not_a_regular_file(path)
    if problem == "missing":
        return {}
    if problem:
        raise ConfigError([Issue(shown, "", problem)])
    try:
        data = read_yaml_file(path, shown)
    except ConfigError as exc:
        raise ConfigError([Issue(i.file, printable(i.path), printable(i.message)) for i in exc.issues]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([Issue(shown, "", "a Helm values file must be a YAML mapping")])
    return data


def check_values_folder(values_dir: Path, env_name: str, readers: Iterable[str], others: Iterable[str],
                        environments: Iterable[str]) -> None:
    """Every entry of helm_values/ and helm_values/<env>/ is an overlay a component reads, and parses.

    readers: components with a chart (they read overlays); others: components without one;
    environments: names whose folder helm_values/<name>/ is an environment's overlay folder.
    """
    readers, others = sorted(readers), set(others)
    issues: list[Issue] = []
    env_dirs = set(environments) | {env_name}
    for directory, nested in ((values_dir, True), (values_dir / env_name, False)):
        if not directory.is_dir():
            continue
        for entry in sorted(directory.iterdir()):
            if nested and entry.is_dir() and not entry.is_symlink() and entry.name in env_dirs:
                continue  # another environment's overlays: read when that environment renders
            issues += _check_entry(entry, readers, others, nested)
    if issues:
        raise ConfigError(issues)


def _check_entry(entry: Path, readers: list[str], others: set[str], top: bool) -> list[Issue]:
    shown = printable(str(entry))
    if entry.name in ALLOWED_NOTES and entry.is_file() and not entry.is_symlink():
        return []
    if entry.suffix != ".yaml":
        hint = f"; rename it to {entry.stem}.yaml" if entry.suffix == ".yml" and entry.stem in readers else ""
        where = "an environment's overlay folder is named after an environment file" if top and entry.is_dir() else (
            f"overlays are named <component>.yaml{hint}")
        return [Issue(shown, "", f"no component reads this: {where}; components: {', '.join(readers)}")]
    if entry.stem in others:
        return [Issue(shown, "", f"'{entry.stem}' has no Helm chart, so no values file is read for it; remove the file")]
    if entry.stem not in readers:
        return [Issue(shown, "", f"no component named '{printable(entry.stem)}'; components: {', '.join(readers)}")]
    try:
        read_values_file(entry)
    except ConfigError as exc:
        return list(exc.issues)
    return []


def _not_a_regular_file(path: Path) -> str | None:
    """Why path cannot be an overlay, 'missing' when nothing is there, None for a regular file.

    Checked before opening: a FIFO would block the read forever, a device never ends."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return "is a symlink to nothing (dangling); remove it or point it at a values file"
        return "missing"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return None
    kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else (
        "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    return f"is {kind}; a Helm values overlay must be a regular YAML file"
