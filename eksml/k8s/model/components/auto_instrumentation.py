"""The OpenTelemetry operator, for one job: ChatQnA's gateway, whose chart fixes its env, is traced
by the operator's Python auto-instrumentation. An `Instrumentation` in ChatQnA's namespace says
where spans go (the collector, OTLP/HTTP); a pod annotation on the gateway asks for it. The webhook's
certificate comes from cert-manager (no Secret in the render).

No log correlation: the gateway logs through GenAIComps' own logger, whose format (fixed in the image,
comps/cores/mega/logger.py) prints no trace ID, and the root-logger setup correlation brings would
only add library noise."""

from __future__ import annotations

from typing import Any

from eksml.components.chatqna import OPEA_CHATQNA
from eksml.components.tracing import OTEL_OPERATOR, OTLP_HTTP_ENDPOINT
from eksml.k8s.model.components.availability import ha_part, highly_available
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

GATEWAY_INSTRUMENTATION = "chatqna-gateway"
INJECT_PYTHON = "instrumentation.opentelemetry.io/inject-python"  # its value names the Instrumentation


def gateway_instrumentation() -> Manifest:
    return {
        "apiVersion": "opentelemetry.io/v1alpha1",
        "kind": "Instrumentation",
        "metadata": metadata(GATEWAY_INSTRUMENTATION, OPEA_CHATQNA.namespace),
        "spec": {
            "exporter": {"endpoint": OTLP_HTTP_ENDPOINT},
            "propagators": ["tracecontext", "baggage"],  # OPEA's microservices read W3C trace context
            "sampler": {"type": "parentbased_always_on"},
            "python": {"env": [  # the collector runs a traces pipeline only
                {"name": "OTEL_METRICS_EXPORTER", "value": "none"},
                {"name": "OTEL_LOGS_EXPORTER", "value": "none"},
            ]},
        },
    }


class OpenTelemetryOperator(DescribedComponent):
    spec = OTEL_OPERATOR

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        ha = ha_part(ctx, {"app.kubernetes.io/name": OTEL_OPERATOR.name})
        values: dict[str, Any] = {"replicaCount": ha["replicaCount"],
                                  "admissionWebhooks": {"certManager": {"enabled": True}}}
        if highly_available(ctx):  # the chart names its budget `pdb`
            values.update(pdb={"create": True, "minAvailable": 1},
                          topologySpreadConstraints=ha["topologySpreadConstraints"])
        return values
