"""Assemble the platform for one environment: enabled components, final values, install order.

Order is topological over `depends_on` (catalog order breaks ties). Every component depends on the
cluster baseline (namespaces, quotas, policies). A dependency on a disabled component is dropped.
Custom resources are checked against the order: a CR may only be applied by a component that comes
after (or, for post-release objects, is) the component installing its CRD.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from eksml.catalog.addon_apis import addon_api_groups
from eksml.config.models import Environment
from eksml.k8s.model.components import Component, catalog
from eksml.k8s.model.components.baseline import ClusterBaseline
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.records import ObjectRef, PoolTarget, RenderedComponent
from eksml.k8s.model.values import layered_values
from eksml.k8s.model.values_files import check_values_folder
from eksml.contract.outputs import AwsOutputs

BASELINE = ClusterBaseline.name
# API groups the Kubernetes API server serves itself (no CRD needed).
BUILTIN_API_GROUPS = frozenset({
    "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "scheduling.k8s.io",
    "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io", "coordination.k8s.io",
})


@dataclass(frozen=True)
class KubernetesLayer:
    env_name: str
    components: tuple[RenderedComponent, ...]  # install order
    pools: tuple[PoolTarget, ...]
    predicted: bool

    def component(self, name: str) -> RenderedComponent:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(name)

    @property
    def releases(self) -> tuple[RenderedComponent, ...]:
        return tuple(c for c in self.components if c.is_release)


def build_platform(
    env: Environment,
    outputs: AwsOutputs,
    values_dir: Optional[Path] = None,
    components: Optional[Sequence[Component]] = None,
) -> KubernetesLayer:
    base_ctx = RenderContext.build(env, outputs, values_dir)
    known = list(components or catalog())
    _check_values_files(base_ctx, env, known)
    enabled = [c for c in known if c.enabled(base_ctx)]
    names = {c.name for c in enabled}
    ctx = dataclasses.replace(base_ctx, platform_namespaces=tuple(c.namespace for c in enabled if c.namespace),
                              platform_components=tuple(c.name for c in enabled))
    rendered = []
    for component in enabled:
        deps = tuple(d for d in component.depends_on if d in names)
        if component.name != BASELINE and BASELINE in names:
            deps = (BASELINE, *deps)
        values = layered_values(ctx.values_dir, env.name, component.name, component.values(ctx)) if component.chart else {}
        rendered.append(RenderedComponent(
            name=component.name,
            namespace=component.namespace,
            chart=component.chart,
            version=component.version(ctx),
            values=values,
            depends_on=deps,
            prerequisites=tuple(component.prerequisites(ctx)),
            objects=tuple(component.objects(ctx)),
            provides_api_groups=tuple(component.provides_api_groups),
            timeout=component.timeout,
            patches=tuple(component.patches(ctx)) if component.chart else (),
        ))
    ordered = install_order(rendered)
    check_custom_resources(ordered)
    return KubernetesLayer(env.name, ordered, ctx.pools, outputs.predicted)


def install_order(components: Sequence[RenderedComponent]) -> tuple[RenderedComponent, ...]:
    by_name = {c.name: c for c in components}
    for component in components:
        unknown = [d for d in component.depends_on if d not in by_name]
        if unknown:
            raise ValueError(f"{component.name} depends on unknown component(s): {', '.join(unknown)}")
    placed: list[RenderedComponent] = []
    done: set[str] = set()
    remaining = list(components)
    while remaining:
        ready = next((c for c in remaining if all(d in done for d in c.depends_on)), None)
        if ready is None:
            raise ValueError(f"dependency cycle among: {', '.join(c.name for c in remaining)}")
        placed.append(ready)
        done.add(ready.name)
        remaining.remove(ready)
    return tuple(placed)


def dependencies_of(name: str, components: Sequence[RenderedComponent]) -> set[str]:
    """Transitive dependencies: only these are guaranteed to be installed before `name`."""
    by_name = {c.name: c for c in components}
    seen: set[str] = set()
    stack = list(by_name[name].depends_on)
    while stack:
        dep = stack.pop()
        if dep not in seen:
            seen.add(dep)
            stack.extend(by_name[dep].depends_on)
    return seen


def check_custom_resources(components: Sequence[RenderedComponent]) -> None:
    providers = {group: c.name for c in components for group in c.provides_api_groups}
    for component in components:
        before = dependencies_of(component.name, components)
        phases = [(m, before) for m in component.prerequisites] + [(m, before | {component.name}) for m in component.objects]
        for manifest, available in phases:
            group = ObjectRef.of(manifest).api_group
            if group in BUILTIN_API_GROUPS or group in addon_api_groups():  # served before any release
                continue
            provider = providers.get(group)
            if provider is None or provider not in available:
                raise ValueError(
                    f"{component.name} applies {ObjectRef.of(manifest)} ({manifest['apiVersion']}) but the CRD "
                    f"comes from {provider or 'no enabled component'}, which is not installed before it"
                )


def _check_values_files(ctx: RenderContext, env: Environment, components: Sequence[Component]) -> None:
    """Every overlay is read through the gate, enabled or not; a file no component reads is refused."""
    from eksml.config.loader import known_environments

    check_values_folder(ctx.values_dir, env.name, [c.name for c in components if c.chart],
                        [c.name for c in components if not c.chart], known_environments())
