"""external-secrets: delivers the RDS master credentials to MLflow from Secrets Manager.

RDS rotates its managed master secret (every 7 days by default), so a Secret written once at deploy
time would go stale; an ExternalSecret refreshes it, and the password never passes through eksml.
"""

from __future__ import annotations

from typing import Any, Optional

from eksml.contract.names import IrsaKey, Namespace
from eksml.k8s.components.availability import ha_part
from eksml.k8s.components.base import HelmComponent
from eksml.k8s.context import RenderContext
from eksml.k8s.model import ChartRef


class ExternalSecrets(HelmComponent):
    name = "external-secrets"
    namespace = Namespace.EXTERNAL_SECRETS
    chart = ChartRef("external-secrets", repo="https://charts.external-secrets.io")
    provides_api_groups = ("external-secrets.io", "generators.external-secrets.io")

    def enabled(self, ctx: RenderContext) -> bool:
        # MLflow is its only consumer; validation refuses mlflow without it.
        return ctx.env.addons.mlflow.enabled and ctx.env.addons.external_secrets.enabled

    def version(self, ctx: RenderContext) -> Optional[str]:
        return ctx.env.addons.external_secrets.version

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(IrsaKey.EXTERNAL_SECRETS)
        def part(suffix: str) -> dict[str, Any]:
            return ha_part(ctx, {"app.kubernetes.io/name": f"{self.name}{suffix}", "app.kubernetes.io/instance": self.name})

        return {
            "installCRDs": True,
            "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations},
            # The controller and cert controller elect a leader; the webhook admits every SecretStore.
            **part(""), "webhook": part("-webhook"), "certController": part("-cert-controller"),
        }
