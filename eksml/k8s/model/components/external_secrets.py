"""external-secrets: delivers the RDS master credentials to MLflow from Secrets Manager.

RDS rotates its managed master secret (every 7 days by default), so a Secret written once at deploy
time would go stale; an ExternalSecret refreshes it, and the password never passes through eksml.
"""

from __future__ import annotations

from typing import Any

from eksml.components.external_secrets import EXTERNAL_SECRETS
from eksml.k8s.model.components.availability import ha_part
from eksml.config.components import component_enabled
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext


def external_secrets_enabled(ctx: RenderContext) -> bool:
    """Whether external-secrets is installed (Grafana's admin Secret needs it too)."""
    return component_enabled(ctx.env, EXTERNAL_SECRETS)


class ExternalSecrets(DescribedComponent):
    spec = EXTERNAL_SECRETS

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(EXTERNAL_SECRETS)

        def part(suffix: str) -> dict[str, Any]:
            return ha_part(ctx, {"app.kubernetes.io/name": f"{self.name}{suffix}", "app.kubernetes.io/instance": self.name})

        return {
            "installCRDs": True,
            # The mesh's trust bundle is a ConfigMap (public certificates): a target beyond Secrets.
            "genericTargets": {"enabled": ctx.env.mesh_on},
            "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations},
            # The controller and cert controller elect a leader; the webhook admits every SecretStore.
            **part(""), "webhook": part("-webhook"), "certController": part("-cert-controller"),
        }
