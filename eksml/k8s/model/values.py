"""Helm values layering: base file, per-environment overlay, then what the environment computes.

Merging follows Helm's own rules so a render shows exactly what Helm will see: maps merge key by
key, anything else (lists, scalars) is replaced by the later layer, and `null` deletes a key.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from eksml.k8s.model.values_files import read_values_file


def deep_merge(*layers: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = _merge_two(merged, layer)
    return merged


def _merge_two(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge_two(result[key], value)
        else:
            result[key] = _strip_nulls(copy.deepcopy(value))
    return result


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    return value


def layered_values(values_dir: Path, env_name: str, component: str, computed: dict[str, Any]) -> dict[str, Any]:
    """helm_values/<component>.yaml, then helm_values/<env>/<component>.yaml, then computed values."""
    base = read_values_file(values_dir / f"{component}.yaml")
    overlay = read_values_file(values_dir / env_name / f"{component}.yaml")
    return deep_merge(base, overlay, computed)
