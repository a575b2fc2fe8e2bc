"""external-secrets: delivers the RDS master credentials to MLflow from Secrets Manager.

RDS rotates its managed master secret (every 7 days by default), so a Secret written once at deploy
time would go stale; an ExternalSecret refreshes it, and the password never passes through eksml.
"""

from __future__ import annotations

from typing import Any, Optional

from eksml.contract.names import IrsaKey, Namespace
from eksml.k8s.components.base import HelmComponent
from eksml.k8s.context import RenderContext
from eksml.k8s.model import ChartRef


def external_secrets_enabled(ctx: RenderContext) -> bool:
    """Installed with MLflow (validation refuses mlflow without it); Grafana's admin Secret uses it too."""
    return ctx.env.addons.mlflow.enabled and ctx.env.addons.external_secrets.enabled


class ExternalSecrets(HelmComponent):
    name = "external-secrets"
    namespace = Namespace.EXTERNAL_SECRETS
    chart = ChartRef("external-secrets", repo="https://charts.external-secrets.io")
    provides_api_groups = ("external-secrets.io", "generators.external-secrets.io")

    def enabled(self, ctx: RenderContext) -> bool:
        return external_secrets_enabled(ctx)

    def version(self, ctx: RenderContext) -> Optional[str]:
        return ctx.env.addons.external_secrets.version

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(IrsaKey.EXTERNAL_SECRETS)
        return {
            "installCRDs": True,
            "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations},
        }
