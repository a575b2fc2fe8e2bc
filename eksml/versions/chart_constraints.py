"""Each pinned chart's own `kubeVersion`, checked at validate time when the chart is already cached.

Render enforces it anyway (Helm refuses to template); validate says it earlier, before any apply.
Validate never downloads: a chart not in the cache is checked when it is rendered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from eksml.charts.cache import ChartCache
from eksml.charts.kube_version import satisfies
from eksml.charts.package import read_chart
from eksml.config.models import Environment
from eksml.errors import Issue, StageError
from eksml.k8s.model.chart_requests import environment_charts


def cached_chart_issues(env: Environment, shown: str, cache: Optional[ChartCache] = None) -> list[Issue]:
    """One issue per cached chart whose kubeVersion the cluster's Kubernetes version does not satisfy."""
    cache = cache or ChartCache()
    kubernetes = env.cluster.kubernetes_version
    issues = []
    for request in environment_charts(env):
        constraint = _constraint(cache.path_of(request))
        if constraint and satisfies(kubernetes, constraint) is False:
            issues.append(Issue(
                shown, "cluster.kubernetes_version",
                f"chart {request.name} {request.version} (release {request.release}) declares kubeVersion "
                f"'{constraint}', which Kubernetes {kubernetes} does not satisfy (source: the chart's Chart.yaml); "
                "pin a chart version that supports it, or another Kubernetes version"))
    return issues


def _constraint(package: Path) -> Optional[str]:
    if not package.is_file():
        return None
    try:
        return read_chart(package).kube_version
    except (StageError, OSError, ValueError):
        return None  # a damaged cache entry is refetched and reported by render, not here
