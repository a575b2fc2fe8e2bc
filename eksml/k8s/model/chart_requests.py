"""The charts an environment installs: each enabled component's chart at its pinned version.

The one place the chart cache meets the component catalog. Whether a component is on and which
version it pins depend on the environment file alone, so they are asked with a context that holds
only the environment (no AWS outputs, no cluster): `eksml charts pull` works before any apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from eksml.charts.sources import ChartRequest, chart_mirror
from eksml.config.models import Environment
from eksml.k8s.model.components import catalog


@dataclass(frozen=True)
class _EnvironmentOnly:
    """What `enabled()` and `version()` of a component read: the environment."""

    env: Environment


def wanted_charts(env: Environment, mirror: Optional[str] = None) -> list[ChartRequest]:
    """One request per enabled release, pointed at the mirror when there is one."""
    ctx = _EnvironmentOnly(env)
    requests = []
    for component in catalog():
        chart = getattr(component, "chart", None)
        if chart is None or not component.enabled(ctx):
            continue
        version = component.version(ctx)
        if not version:
            continue
        request = ChartRequest.of(chart.name, version, chart.repo, release=component.name)
        requests.append(request.from_mirror(mirror))
    return requests


def environment_charts(env: Environment) -> list[ChartRequest]:
    """wanted_charts with the mirror the environment (or EKSML_CHART_MIRROR) names."""
    return wanted_charts(env, chart_mirror(env))
