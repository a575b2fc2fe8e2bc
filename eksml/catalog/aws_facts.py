"""AWS facts the validation rules check against, read from the JSON files next to this module.

Each file names the AWS documentation page it was taken from (`source`), so a reviewer can check a
refusal against AWS rather than against our code. Like loader.py, every file is checked on load.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

FILES = {
    "regions": "aws_regions.json",
    "rds": "rds_postgres.json",
    "retention": "cloudwatch_retention.json",
    "ami": "eks_ami_releases.json",
    "capacity_blocks": "capacity_blocks.json",
    "endpoints": "vpc_interface_endpoints.json",
}


@dataclass(frozen=True)
class AwsFacts:
    zones_by_region: dict[str, tuple[str, ...]]  # region -> full zone names
    rds_engine_majors: tuple[str, ...]
    rds_instance_classes: tuple[str, ...]
    log_retention_days: tuple[int, ...]
    kubernetes_minors: tuple[str, ...]
    capacity_block_types: frozenset[str]
    interface_endpoints: tuple[str, ...]
    sources: dict[str, str]  # file -> its documentation page


@functools.cache
def load_aws_facts() -> AwsFacts:
    package = resources.files("eksml.catalog")
    data = {key: json.loads(package.joinpath(name).read_text(encoding="utf-8")) for key, name in FILES.items()}
    return build_aws_facts(data)


def build_aws_facts(data: dict[str, dict[str, Any]]) -> AwsFacts:
    for key, name in FILES.items():
        source = data[key].get("source")
        if not isinstance(source, str) or not source.startswith("https://"):
            raise ValueError(f"{name}: needs a 'source' naming the AWS documentation page (https://...)")
    regions = _typed(data["regions"], "regions", dict)
    classes = _typed(data["rds"], "instance_classes", dict)
    return AwsFacts(
        zones_by_region={
            region: tuple(f"{region}{letter}" for letter in _strings(letters, f"regions.{region}"))
            for region, letters in regions.items()
        },
        rds_engine_majors=_strings(_typed(data["rds"], "engine_major_versions", list), "engine_major_versions"),
        rds_instance_classes=tuple(
            f"{family}.{size}" for family, sizes in classes.items() for size in _strings(sizes, family)
        ),
        log_retention_days=tuple(_ints(_typed(data["retention"], "retention_days", list))),
        kubernetes_minors=_strings(_typed(data["ami"], "kubernetes_minors", list), "kubernetes_minors"),
        capacity_block_types=frozenset(_strings(_typed(data["capacity_blocks"], "instance_types", list), "instance_types")),
        interface_endpoints=_strings(_typed(data["endpoints"], "services", list), "services"),
        sources={FILES[key]: data[key]["source"] for key in FILES},
    )


def _typed(record: dict[str, Any], key: str, expected: type) -> Any:
    value = record.get(key)
    if not isinstance(value, expected):
        raise ValueError(f"catalog fact '{key}' must be a {expected.__name__}, got {value!r}")
    return value


def _strings(values: list[Any], where: str) -> tuple[str, ...]:
    if not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"catalog fact '{where}' must be a list of non-empty strings")
    return tuple(values)


def _ints(values: list[Any]) -> list[int]:
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError("catalog fact 'retention_days' must be a list of whole numbers")
    return values
