"""Helm values layering: base file, per-environment overlay, then what the environment computes.

Merging follows Helm's own rules so a render shows exactly what Helm will see: maps merge key by
key, anything else (lists, scalars) is replaced by the later layer, and `null` deletes a key.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from eksml.errors import ConfigError, Issue


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


def read_values_file(path: Path) -> dict[str, Any]:
    """A missing file is an empty layer; a file that is not a YAML mapping is bad input."""
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([Issue(str(path), "", f"not valid YAML: {where}{getattr(exc, 'problem', exc)}")]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([Issue(str(path), "", "a Helm values file must be a YAML mapping")])
    return data


def layered_values(values_dir: Path, env_name: str, component: str, computed: dict[str, Any]) -> dict[str, Any]:
    """helm_values/<component>.yaml, then helm_values/<env>/<component>.yaml, then computed values."""
    base = read_values_file(values_dir / f"{component}.yaml")
    overlay = read_values_file(values_dir / env_name / f"{component}.yaml")
    return deep_merge(base, overlay, computed)
