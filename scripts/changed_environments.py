#!/usr/bin/env python3
"""Which environments a change touches, for the CI matrix: changed paths in, a JSON list of names out.

    git diff --name-only BASE...HEAD | python3 scripts/changed_environments.py [--apply]

It runs before `make install`: eksml's strict YAML reader is used when PyYAML is there, a
standard-library line reader otherwise (see read_environment). The list is in promotion order (local, dev,
staging, prod by tier), so a sequential apply goes through the stages the way promotion does.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIER_ORDER = ("local", "dev", "staging", "prod")
# Paths whose change can alter what every environment deploys.
SHARED_PREFIXES = ("eksml/", "modules/", "stacks/")
SHARED_FILES = ("pyproject.toml",)
HELM_VALUES = "helm_values/"
ENVIRONMENTS = "environments/"


@dataclass(frozen=True)
class EnvironmentFile:
    name: str
    tier: str
    emulator: bool


class EnvironmentFileError(ValueError):
    """A file this script cannot read the way eksml reads it: CI stops (exit 2) rather than guess."""


def read_environment(path: Path) -> EnvironmentFile:
    """The top-level `tier:` and `emulator:`, read the way eksml reads them.

    With PyYAML installed this is eksml's own strict reader (eksml/config/yaml_source.py). Before
    `make install` a line reader takes its place; it refuses what it cannot read exactly as the strict
    reader would (a repeated top-level key, emulator other than true/false, flow-style files).
    """
    reader = _strict_reader()
    if reader is None:
        return _read_top_level_lines(path)
    from eksml.errors import ConfigError

    try:
        data = reader(path, str(path))
    except ConfigError as exc:
        raise EnvironmentFileError(str(exc)) from None
    data = data if isinstance(data, dict) else {}
    tier, emulator = data.get("tier"), data.get("emulator", False)
    if tier is not None and not isinstance(tier, str):
        raise EnvironmentFileError(f"{path}: tier: must be one of {', '.join(TIER_ORDER)}")
    if not isinstance(emulator, bool):
        raise EnvironmentFileError(f"{path}: emulator: must be true or false")
    return EnvironmentFile(name=path.stem, tier=tier or path.stem, emulator=emulator)


def _strict_reader():
    try:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        import yaml  # noqa: F401 - only to know whether the strict reader can run

        from eksml.config.yaml_source import read_yaml_file
    except ImportError:
        return None
    return read_yaml_file


_TOP_LEVEL = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(.*)$")
_TRUE, _FALSE = {"true", "True", "TRUE"}, {"false", "False", "FALSE"}


def _read_top_level_lines(path: Path) -> EnvironmentFile:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvironmentFileError(f"{path}: cannot be read as UTF-8 text: {exc}") from None
    seen: dict[str, int] = {}
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("{", "&", "*", "<<")) and not line.startswith(" "):
            raise EnvironmentFileError(f"{path}: line {number}: write the file as block YAML (key: value per line)")
        match = _TOP_LEVEL.match(line)
        if not match:
            continue
        key = match.group(1)
        if key in seen:
            raise EnvironmentFileError(f"{path}: {key}: written twice (lines {seen[key]} and {number}); remove one")
        seen[key] = number
        values[key] = match.group(2).split(" #", 1)[0].strip().strip("'\"") if key in ("tier", "emulator") else ""
    emulator = values.get("emulator", "false")
    if emulator not in _TRUE | _FALSE:
        raise EnvironmentFileError(f"{path}: emulator: '{emulator}' must be true or false")
    tier = values.get("tier") or path.stem
    return EnvironmentFile(name=path.stem, tier=tier, emulator=emulator in _TRUE)


def known_environments(environments_dir: Path) -> dict[str, EnvironmentFile]:
    return {path.stem: read_environment(path) for path in sorted(environments_dir.glob("*.yaml"))}


def touched(path: str, known: Iterable[str]) -> set[str] | None:
    """The environments one changed path affects; None means all of them."""
    path = path.strip().removeprefix("./")
    if path.startswith(SHARED_PREFIXES) or path in SHARED_FILES:
        return None
    if path.startswith(ENVIRONMENTS):
        stem = Path(path).stem
        return {stem} if Path(path).suffix in (".yaml", ".yml") and stem in known else set()
    if path.startswith(HELM_VALUES):
        first, _, rest = path.removeprefix(HELM_VALUES).partition("/")
        if rest and first in known:
            return {first}  # helm_values/<env>/...: that environment's overrides
        return None  # shared values (helm_values/<chart>.yaml or helm_values/<chart>/...)
    return set()


def changed_environments(
    paths: Iterable[str], known: dict[str, EnvironmentFile], *, apply: bool = False, everything: bool = False
) -> list[str]:
    """Names in promotion order; `apply` drops emulator environments (nothing to apply on merge)."""
    selected: set[str] = set(known) if everything else set()
    for path in [] if everything else paths:
        if not path.strip():
            continue
        hit = touched(path, known)
        if hit is None:
            selected = set(known)
            break
        selected |= hit
    if apply:
        selected = {name for name in selected if not known[name].emulator}
    return sorted(selected, key=lambda name: _order(known[name]))


def _order(env: EnvironmentFile) -> tuple[int, str]:
    rank = TIER_ORDER.index(env.tier) if env.tier in TIER_ORDER else len(TIER_ORDER)
    return rank, env.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="changed paths; read from stdin (one per line) when none are given")
    parser.add_argument("--all", action="store_true", help="every environment, whatever changed (e.g. a first push)")
    parser.add_argument("--apply", action="store_true", help="leave out emulator environments: only real ones are applied")
    parser.add_argument("--environments-dir", type=Path, default=ROOT / "environments")
    args = parser.parse_args(argv)
    try:
        known = known_environments(args.environments_dir)
    except EnvironmentFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths = [] if args.all else (args.paths or sys.stdin.read().splitlines())
    print(json.dumps(changed_environments(paths, known, apply=args.apply, everything=args.all)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
