"""cert-manager: issues the webhook certificates KServe needs. No upstream data here: minimal values."""

from __future__ import annotations

from typing import Any

from eksml.components.cert_manager import CERT_MANAGER
from eksml.k8s.model.components.availability import ha_part
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext


class CertManager(DescribedComponent):
    spec = CERT_MANAGER

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        # The chart installs its CRDs only when asked to. Controller and cainjector elect a leader; the
        # webhook admits every certificate: at staging and prod, two of each across zones.
        def part(name: str) -> dict[str, Any]:
            return ha_part(ctx, {"app.kubernetes.io/instance": self.name, "app.kubernetes.io/component": name})

        return {"crds": {"enabled": True}, **part("controller"), "webhook": part("webhook"),
                "cainjector": part("cainjector")}
