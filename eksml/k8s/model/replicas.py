"""How many copies of a pod template run: the replica count next to it, and the autoscaling ceiling
where one is declared (chart values' `autoscaling.maxReplicas`, KServe's `maxReplicas`)."""

from __future__ import annotations

from typing import Any, Optional


def _count(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def replica_counts(node: dict[str, Any], owner: Optional[dict[str, Any]] = None) -> tuple[int, Optional[int]]:
    """(replicas, autoscaling maximum or None) for a pod template `node`, whose controller spec is `owner`
    (a Deployment's spec holds `replicas` one level above its pod spec)."""
    replicas = None
    for source in (node, owner or {}):
        for key in ("replicaCount", "replicas", "minReplicas"):
            replicas = replicas if replicas is not None else _count(source.get(key))
    autoscaling = node.get("autoscaling")
    maximum = _count(node.get("maxReplicas"))
    if isinstance(autoscaling, dict) and autoscaling.get("enabled") is True:
        maximum = _count(autoscaling.get("maxReplicas")) or maximum
    base = 1 if replicas is None else replicas
    return base, (max(maximum, base) if maximum is not None else None)
