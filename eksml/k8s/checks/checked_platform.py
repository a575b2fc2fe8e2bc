"""The one set of checks every render path runs before it writes anything (plain render and --gitops).

Both paths build the same platform from the same environment and overlays and check the same
objects: the real charts' manifests against schemas and CRDs, the install order, and every pod
placed on a pool. A values overlay refused by `eksml render` is refused by `render --gitops` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from eksml.charts import ChartCache
from eksml.config.models import Environment
from eksml.contract.outputs import AwsOutputs
from eksml.k8s.templating.chart_render import ChartRenders, render_charts
from eksml.k8s.model.records import Placement
from eksml.k8s.model.platform import KubernetesLayer, build_platform
from eksml.k8s.checks.platform_checks import check_rendered_platform
from eksml.k8s.checks.scheduling import check_scheduling


@dataclass(frozen=True)
class CheckedPlatform:
    platform: KubernetesLayer
    placements: tuple[Placement, ...]
    charts: Optional[ChartRenders] = None


def checked_platform(env: Environment, outputs: AwsOutputs, *, values_dir: Optional[Path] = None,
                     with_charts: bool = False, cache: Optional[ChartCache] = None,
                     mirror: Optional[str] = "env") -> CheckedPlatform:
    """Build and check; ConfigError (exit 2) on any problem, before a single file is written."""
    platform = build_platform(env, outputs, values_dir)
    if with_charts:
        charts = render_charts(platform, env, cache=cache, mirror=mirror)
        return CheckedPlatform(platform, tuple(check_rendered_platform(env, platform, charts)), charts)
    return CheckedPlatform(platform, tuple(check_scheduling(platform)))
