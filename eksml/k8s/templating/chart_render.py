"""Every release of the platform rendered by the real Helm, in parallel, in install order's spirit.

A release starts as soon as the releases it depends on are rendered, because their CRDs decide the
`--api-versions` it is templated with (a chart renders a ServiceMonitor only when the cluster will
serve monitoring.coreos.com/v1). Helm runs as a subprocess, so threads give real parallelism.
Charts come through the cache, from the environment's mirror (or EKSML_CHART_MIRROR) or publisher.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from eksml.charts import ChartCache, ChartRequest, chart_mirror
from eksml.charts.kube_yaml import ManifestObject
from eksml.charts.render_cache import RenderCache, render_key
from eksml.charts.post_render import patches_text
from eksml.charts.template import ReleaseRender, render_release, values_text
from eksml.config.models import Environment
from eksml.errors import ConfigError, StageError
from eksml.k8s.model.manifests import synced_objects
from eksml.k8s.model.records import RenderedComponent
from eksml.k8s.model.platform import KubernetesLayer, dependencies_of
from eksml.k8s.model.secret_data import unallowed_keys

PARALLEL_RENDERS = 6
RENDERS_FOLDER = "renders"  # beside the chart packages: one cache folder to clear


@dataclass(frozen=True)
class ChartRender:
    """One release as Helm renders it, with the eksml objects applied around it."""

    component: RenderedComponent
    request: ChartRequest
    result: ReleaseRender
    objects: tuple[ManifestObject, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.component.name


@dataclass(frozen=True)
class ChartRenders:
    releases: tuple[ChartRender, ...]  # install order

    def release(self, name: str) -> ChartRender:
        return next(r for r in self.releases if r.name == name)

    def all_objects(self) -> list[tuple[str, ManifestObject]]:
        return [(r.name, o) for r in self.releases for o in r.objects]


def crd_api_versions(objects) -> list[str]:
    """`group/version` and `group/version/Kind` for every version the CRDs serve, as Helm expects."""
    found: list[str] = []
    for obj in objects:
        if obj.kind != "CustomResourceDefinition":
            continue
        spec = obj.body.get("spec") or {}
        group, kind = spec.get("group", ""), (spec.get("names") or {}).get("kind", "")
        for version in spec.get("versions") or []:
            if isinstance(version, dict) and version.get("served", True):
                found += [f"{group}/{version.get('name')}", f"{group}/{version.get('name')}/{kind}"]
    return found


def chart_request(component: RenderedComponent, mirror: Optional[str]) -> ChartRequest:
    chart = component.chart
    assert chart is not None and component.version
    return ChartRequest.of(chart.name, component.version, chart.repo, release=component.name).from_mirror(mirror)


def render_charts(
    platform: KubernetesLayer,
    env: Environment,
    *,
    cache: Optional[ChartCache] = None,
    mirror: Optional[str] = "env",
    helm: Optional[Path] = None,
    workers: int = PARALLEL_RENDERS,
) -> ChartRenders:
    """Each release rendered once its dependencies are; bad values in any release are reported together.

    mirror: "env" takes the environment's `charts.mirror` (or EKSML_CHART_MIRROR); None means each
    chart's publisher; a URL means that repository.
    """
    cache = cache or ChartCache()
    mirror = chart_mirror(env) if mirror == "env" else mirror
    if helm is None:
        from eksml.kube_tools import helm_binary

        helm = helm_binary()
    releases = [c for c in platform.components if c.is_release and c.version]
    deps = {c.name: dependencies_of(c.name, platform.components) for c in releases}
    results: dict[str, tuple[ReleaseRender, tuple[ManifestObject, ...]]] = {}
    errors: dict[str, Exception] = {}

    renders = RenderCache(cache.root / RENDERS_FOLDER) if RenderCache.enabled() else None

    def one(component: RenderedComponent, api_versions: list[str]):
        chart = cache.get(chart_request(component, mirror)).path
        return _render_one(component, api_versions, chart, env, helm, renders)

    pending = list(releases)
    running: dict[Future, str] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while pending or running:
            for component in list(pending):
                needed = [d for d in deps[component.name] if d in {r.name for r in releases}]
                if any(d not in results and d not in errors for d in needed):
                    continue
                pending.remove(component)
                if any(d in errors for d in needed):
                    continue  # its own error would only repeat the dependency's
                apis = crd_api_versions(o for d in needed for o in results[d][1])
                running[pool.submit(one, component, apis)] = component.name
            if not running:
                break
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                try:
                    results[name] = future.result()
                except (ConfigError, StageError) as exc:
                    errors[name] = exc
    _raise_errors(errors, releases)
    rendered = []
    for component in platform.components:
        if component.name in results:
            result, objects = results[component.name]
            rendered.append(ChartRender(component, chart_request(component, mirror), result, objects))
    return ChartRenders(tuple(rendered))


def _render_one(component: RenderedComponent, api_versions: list[str], chart: Path, env: Environment,
                helm: Path, renders: Optional[RenderCache]) -> tuple[ReleaseRender, tuple[ManifestObject, ...]]:
    # A Secret the component's own ExternalSecret makes is the cluster's: the chart's fallback copy
    # (made only when `lookup` finds none, which `helm template` never does) is not what installs.
    left_out = [s.name for s in synced_objects(component.prerequisites) if s.kind == "Secret"]
    kube_version = env.cluster.kubernetes_version
    key = renders and render_key(helm, chart, component.name, component.namespace, values_text(component.values),
                                 kube_version, api_versions, left_out, patches_text(component.patches))
    cached = renders.load(key) if renders and key else None
    if cached:
        return cached
    result = render_release(chart, component.name, component.namespace, component.values, kube_version,
                            api_versions, helm=helm, patches=component.patches).without("Secret", left_out)
    objects = tuple(result.objects())  # parsed once: large CRDs make YAML the slow part
    if renders and key and not _secret_material(component.namespace, objects):
        renders.store(key, result, objects)
    return result, objects


def _secret_material(namespace: str, objects: Sequence[ManifestObject]) -> bool:
    """The render check refuses these; the cache must not keep them meanwhile."""
    return any(unallowed_keys(o.namespace or namespace, o.body) for o in objects)


def _raise_errors(errors: dict[str, Exception], releases: list[RenderedComponent]) -> None:
    """Bad input anywhere wins (exit 2, every issue); else the first operational failure in install order."""
    if not errors:
        return
    issues = [issue for name in (c.name for c in releases) if isinstance(errors.get(name), ConfigError)
              for issue in errors[name].issues]  # type: ignore[union-attr]
    if issues:
        raise ConfigError(issues)
    raise next(errors[c.name] for c in releases if c.name in errors)


def owned_objects(component: RenderedComponent) -> list[ManifestObject]:
    source = f"eksml: {component.name}"
    return [ManifestObject(source, m) for m in (*component.prerequisites, *component.objects)]

