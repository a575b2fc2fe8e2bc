"""High availability of platform controllers: at staging and prod, every controller with a leader
election or a webhook runs at least two replicas, spread across the environment's zones, behind a
PodDisruptionBudget; dev and local keep one replica to save nodes."""

from __future__ import annotations

from typing import Any

from eksml.config.models import Tier
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata

ZONE_KEY = "topology.kubernetes.io/zone"
HA_TIERS = (Tier.staging, Tier.prod)
HA_REPLICAS = 2


def highly_available(ctx: RenderContext) -> bool:
    return ctx.env.resolved_tier in HA_TIERS


def controller_replicas(ctx: RenderContext) -> int:
    return HA_REPLICAS if highly_available(ctx) else 1


def zone_spread(match_labels: dict[str, str]) -> list[dict[str, Any]]:
    """One replica per zone where possible; never blocks scheduling when a zone has no room."""
    return [{
        "maxSkew": 1,
        "topologyKey": ZONE_KEY,
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": match_labels},
    }]


def ha_part(ctx: RenderContext, match_labels: dict[str, str], replicas_key: str = "replicaCount") -> dict[str, Any]:
    """Replicas, PDB and zone spread in the shape most charts share; one replica and no PDB below staging."""
    if not highly_available(ctx):
        return {replicas_key: 1}
    return {replicas_key: HA_REPLICAS, "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
            "topologySpreadConstraints": zone_spread(match_labels)}


def disruption_budget(name: str, namespace: str, match_labels: dict[str, str]) -> dict[str, Any]:
    """For a chart without its own PodDisruptionBudget: a drain leaves one replica serving."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(name, namespace),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": match_labels}},
    }


def zone_anti_affinity(match_labels: dict[str, str]) -> dict[str, Any]:
    """For a chart that takes `affinity` but no spread constraints: replicas prefer different zones."""
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
        "weight": 100,
        "podAffinityTerm": {"topologyKey": ZONE_KEY, "labelSelector": {"matchLabels": match_labels}},
    }]}}


# Restricted Pod Security for a container whose image runs as a non-root user.
RESTRICTED_CONTAINER: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESTRICTED_POD: dict[str, Any] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
