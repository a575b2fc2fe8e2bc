"""The one interface every platform component implements (modelled on cdk-eks-blueprints add-ons).

A component is a Helm release plus the objects eksml applies around it: `prerequisites` go in
before the release (config it reads at start), `objects` after it (custom resources that need the
release's CRDs). `values` returns only what the environment computes; the platform layers it over
helm_values/<component>.yaml and helm_values/<env>/<component>.yaml.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Protocol

from eksml.k8s.context import RenderContext
from eksml.k8s.model import ChartRef, Manifest


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


class ComponentDefaults:
    """What a component does unless it says otherwise: always on, no version, nothing computed or added."""

    name: ClassVar[str]
    namespace: ClassVar[str] = ""
    chart: ClassVar[Optional[ChartRef]] = None
    depends_on: ClassVar[tuple[str, ...]] = ()
    provides_api_groups: ClassVar[tuple[str, ...]] = ()
    timeout: ClassVar[str] = "5m"

    def enabled(self, ctx: RenderContext) -> bool:
        return True

    def version(self, ctx: RenderContext) -> Optional[str]:
        return None

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        return {}

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        return []

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        return []


class HelmComponent(ComponentDefaults):
    """A chart whose version and on/off switch live under `env.addons.<addon>`."""

    namespace: ClassVar[str]
    chart: ClassVar[Optional[ChartRef]]
    addon: ClassVar[Optional[str]] = None  # attribute of env.addons
    timeout: ClassVar[str] = "10m"

    def _addon(self, ctx: RenderContext):
        return getattr(ctx.env.addons, self.addon)

    def enabled(self, ctx: RenderContext) -> bool:
        return self._addon(ctx).enabled

    def version(self, ctx: RenderContext) -> Optional[str]:
        return self._addon(ctx).version


class OwnedObjectsComponent(ComponentDefaults):
    """A component with no chart: only objects eksml owns (baseline, models, ingress)."""
