"""A chart whose missing subcharts are all switched off, rendered the way Helm would render it.

Helm refuses to template a chart whose Chart.yaml names a dependency absent from charts/, even one
its `condition` turns off. When every missing dependency is off in the final values (the chart's
values.yaml under ours), a temporary copy of the chart without those entries in Chart.yaml and
Chart.lock renders exactly what Helm would render with them disabled. A missing dependency that is
on stays an error: there is nothing to render it from.
"""

from __future__ import annotations

import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

import yaml

from eksml.charts.package import ChartInfo, Dependency
from eksml.errors import ConfigError, Issue, StageError


def merged_values(defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Our values over the chart's, key by key (Helm's coalescing, for deciding conditions)."""
    merged = dict(defaults)
    for key, value in values.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merged_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def condition_value(condition: Optional[str], values: Mapping[str, Any]) -> Optional[bool]:
    """Helm's rule: the first path of the comma-separated condition that holds a boolean decides."""
    for path in (condition or "").split(","):
        node: Any = values
        for key in path.strip().split("."):
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, bool):
            return node
    return None


def disabled_missing(info: ChartInfo, chart: Path, values: Mapping[str, Any], where: str) -> tuple[Dependency, ...]:
    """The missing dependencies, each off by its condition; ConfigError naming any that is on."""
    final = merged_values(_chart_values(chart, info.name), values)
    enabled = [dep for dep in info.missing if condition_value(dep.condition, final) is not False]
    if enabled:
        raise ConfigError([
            Issue(where, dep.condition.split(",")[0].strip() if dep.condition else "",
                  f"turns on subchart {dep}, which the chart package lacks (it is missing from the chart "
                  f"repository); leave it off{f' ({dep.condition}: false)' if dep.condition else ''} "
                  "or add the subchart to the mirror")
            for dep in enabled
        ])
    return info.missing


def without_dependencies(chart: Path, info: ChartInfo, dropped: tuple[Dependency, ...], into: Path) -> Path:
    """Unpack the chart into `into` and strike the dropped dependencies from Chart.yaml and Chart.lock."""
    names = {dep.name for dep in dropped}
    try:
        with tarfile.open(chart, "r:gz") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise StageError("render", f"cannot unpack {chart.name} to drop its disabled subcharts: {exc}") from None
    root = into / info.name
    for name in ("Chart.yaml", "Chart.lock"):
        path = root / name
        if not path.is_file():
            continue
        data = yaml.safe_load(path.read_text()) or {}
        data["dependencies"] = [dep for dep in data.get("dependencies") or [] if dep.get("name") not in names]
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def _chart_values(chart: Path, name: str) -> dict[str, Any]:
    with tarfile.open(chart, "r:gz") as tar:
        try:
            handle = tar.extractfile(f"{name}/values.yaml")
        except KeyError:
            return {}
        data = yaml.safe_load(handle.read()) if handle is not None else None
    return data if isinstance(data, dict) else {}
