"""KEDA: scales served models on vLLM's metrics in Prometheus (ScaledObjects from serving.py),
down to zero where the environment allows it. Its operator elects a leader and it serves an
admission webhook, so staging and prod run two of each, spread across zones."""

from __future__ import annotations

from typing import Any

from eksml.components.keda import KEDA
from eksml.k8s.model.components.availability import (
    RESTRICTED_CONTAINER,
    RESTRICTED_POD,
    controller_replicas,
    highly_available,
    zone_spread,
)
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext

# The chart's own part names, which are also each Deployment's `app` label.
_PARTS = {"operator": "keda-operator", "metricServer": "keda-operator-metrics-apiserver",
          "webhooks": "keda-admission-webhooks"}
# The chart spells the metrics server "metricsServer" under topologySpreadConstraints.
_SPREAD_KEYS = {"operator": "operator", "metricServer": "metricsServer", "webhooks": "webhooks"}


class Keda(DescribedComponent):
    spec = KEDA

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        replicas = controller_replicas(ctx)
        values: dict[str, Any] = {
            "operator": {"replicaCount": replicas},
            "metricsServer": {"replicaCount": replicas},
            "webhooks": {"replicaCount": replicas},
            "securityContext": {part: RESTRICTED_CONTAINER for part in _PARTS},
            "podSecurityContext": {part: RESTRICTED_POD for part in _PARTS},
        }
        if highly_available(ctx):
            values["podDisruptionBudget"] = {part: {"minAvailable": 1} for part in _PARTS}
            values["topologySpreadConstraints"] = {
                _SPREAD_KEYS[part]: zone_spread({"app": app}) for part, app in _PARTS.items()}
        return values
