"""The one interface every platform component implements (modelled on cdk-eks-blueprints add-ons).

A component is a Helm release plus the objects eksml applies around it: `prerequisites` go in
before the release (config it reads at start), `objects` after it (custom resources that need the
release's CRDs). `values` returns only what the environment computes; the platform layers it over
helm_values/<component>.yaml and helm_values/<env>/<component>.yaml.

What a component is (name, namespace, chart, add-on, dependencies, identity, UIs) is its description
in eksml/components; a class here adds only behaviour. A description without a class gets
`DescribedComponent` as it is.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Protocol

from eksml.charts.post_render import Patch
from eksml.components.spec import ComponentSpec
from eksml.config.components import component_enabled
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.records import ChartRef, Manifest


class Component(Protocol):
    name: str
    namespace: str
    chart: Optional[ChartRef]
    depends_on: tuple[str, ...]
    provides_api_groups: tuple[str, ...]
    timeout: str

    def enabled(self, ctx: RenderContext) -> bool: ...

    def version(self, ctx: RenderContext) -> Optional[str]: ...

    def values(self, ctx: RenderContext) -> dict[str, Any]: ...

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]: ...

    def objects(self, ctx: RenderContext) -> list[Manifest]: ...

    def patches(self, ctx: RenderContext) -> list[Patch]: ...


class DescribedComponent:
    """A component exactly as its description says: a subclass names its `spec` and overrides behaviour."""

    spec: ClassVar[ComponentSpec]
    name: ClassVar[str]
    namespace: ClassVar[str]
    chart: ClassVar[Optional[ChartRef]]
    depends_on: ClassVar[tuple[str, ...]]
    provides_api_groups: ClassVar[tuple[str, ...]]
    timeout: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("spec")
        if spec is not None:
            cls.name, cls.namespace, cls.timeout = spec.name, spec.namespace, spec.timeout
            cls.chart = ChartRef(spec.chart.name, repo=spec.chart.repo) if spec.chart else None
            cls.depends_on = spec.dependency_names
            cls.provides_api_groups = spec.provides_api_groups

    @classmethod
    def of(cls, spec: ComponentSpec) -> type["DescribedComponent"]:
        """The class of a description that needs no behaviour of its own."""
        return type(f"Described[{spec.name}]", (cls,), {"spec": spec})

    def enabled(self, ctx: RenderContext) -> bool:
        return component_enabled(ctx.env, self.spec)

    def version(self, ctx: RenderContext) -> Optional[str]:
        if self.spec.chart is None or self.spec.addon is None:
            return None
        return getattr(ctx.env.addons, self.spec.addon.key).version

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        return {}

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        return []

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        return []

    def patches(self, ctx: RenderContext) -> list[Patch]:
        """What the release's chart hard-codes and eksml changes after rendering; prefer values."""
        return []
