"""Environment files: typed models, whole-file rules, and the loader that applies both.

Names load on first use, so `eksml.config.yaml_source` (the one YAML reading) can be imported
without pydantic, e.g. by scripts/changed_environments.py in CI before `make install`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Environment": "eksml.config.models",
    "NodePool": "eksml.config.models",
    "PoolKind": "eksml.config.models",
    "Tier": "eksml.config.models",
    "known_environments": "eksml.config.loader",
    "environment_warnings": "eksml.config.loader",
    "load_environment": "eksml.config.loader",
    "resolve_environment_file": "eksml.config.loader",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eksml.config' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
