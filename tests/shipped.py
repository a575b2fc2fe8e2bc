"""The environments the project ships, named once for every test module that walks them."""

from __future__ import annotations

import yaml

from eksml.config.loader import known_environments
from eksml.paths import ENVIRONMENTS_DIR

SHIPPED = known_environments()


def shipped_text(name: str) -> str:
    """The environment file as written, for tests that edit its text."""
    return (ENVIRONMENTS_DIR / f"{name}.yaml").read_text()


def shipped_data(name: str) -> dict:
    """A fresh parse of the environment file, safe to modify."""
    return yaml.safe_load(shipped_text(name))
