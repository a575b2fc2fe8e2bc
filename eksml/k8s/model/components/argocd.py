"""Argo CD (argo-helm's argo-cd chart) for `delivery: gitops`: on the CPU pool, its UI served as plain
HTTP behind the shared ALB (which terminates TLS) or reached with port-forward.

It comes first after the baseline, so it can take over the releases from the app-of-apps
`eksml render ENV --gitops OUT` writes (eksml/k8s/rendering/gitops.py).
"""

from __future__ import annotations

from typing import Any

from eksml.config.models import PoolKind
from eksml.contract.names import POOL_LABEL
from eksml.components.argocd import ARGOCD
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.hardening import restricted_pod_context

ARGOCD_NAMESPACE = ARGOCD.namespace
# nobody: git and ssh in the argocd image need the uid in /etc/passwd ("No user exists for uid"),
# and 65534 is there besides the image's own 999; redis runs as any uid.
ARGOCD_UID = 65534


def cpu_pool(ctx: RenderContext) -> str | None:
    return next((name for name, pool in ctx.env.node_pools.items() if pool.kind is PoolKind.cpu), None)


class ArgoCd(DescribedComponent):
    spec = ARGOCD

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        pool = cpu_pool(ctx)
        values: dict[str, Any] = {
            "configs": {"params": {"server.insecure": True}},  # TLS ends at the ALB
            "redis-ha": {"enabled": False},
            "global": {"securityContext": restricted_pod_context(ARGOCD_UID)},
            "redis": {"securityContext": restricted_pod_context(ARGOCD_UID)},
            "redisSecretInit": {"securityContext": restricted_pod_context(ARGOCD_UID)},
        }
        if pool is not None:
            values["global"]["nodeSelector"] = {POOL_LABEL: pool}
        return values
