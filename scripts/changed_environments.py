#!/usr/bin/env python3
"""Which environments a change touches, for the CI matrix: changed paths in, a JSON list of names out.

    git diff --name-only BASE...HEAD | python3 scripts/changed_environments.py [--apply]

Standard library only: it runs before `make install`. The list is in promotion order (local, dev,
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


def read_environment(path: Path) -> EnvironmentFile:
    """Only the top-level `tier:` and `emulator:` keys, by pattern: no YAML library before install."""
    text = path.read_text()
    tier = re.search(r"^tier:\s*['\"]?([a-z]+)", text, re.MULTILINE)
    emulator = re.search(r"^emulator:\s*(true|True|yes)\b", text, re.MULTILINE)
    return EnvironmentFile(name=path.stem, tier=tier.group(1) if tier else path.stem, emulator=emulator is not None)


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
    known = known_environments(args.environments_dir)
    paths = [] if args.all else (args.paths or sys.stdin.read().splitlines())
    print(json.dumps(changed_environments(paths, known, apply=args.apply, everything=args.all)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
