"""The OpenTelemetry collector (contrib build, for its awsxray exporter): OTLP over gRPC and HTTP in,
batched traces out to AWS X-Ray through IRSA. The whole collector config is eksml's own ConfigMap
(the chart's `configMap.existingName`): merged over the chart's, its Jaeger, Zipkin and debug
pipelines would stay, as a values file cannot delete a chart's default keys through eksml's layers.

Senders, where the collector is on (each in its component's values; its NetworkPolicy flow in its spec):
- Argo Workflows: the controller and argoexec (init and wait) spans, and the steps' main containers,
  through OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (traces only: the collector has no metrics pipeline).
- ChatQnA: OPEA's microservices through TELEMETRY_ENDPOINT (OTLP/HTTP), TEI through OTLP_ENDPOINT
  (gRPC, W3C trace context from its callers), from one ConfigMap the chart's `global.extraEnvConfig`
  adds to every OPEA sub-chart's container. The gateway's env is fixed by the chart, so the OpenTelemetry
  operator's Python auto-instrumentation traces it (auto_instrumentation.py).
- Team workloads (agents, pipelines) set OTEL_EXPORTER_OTLP_ENDPOINT to OTLP_ENDPOINT.
Not wired: vLLM's --otlp-traces-endpoint needs OpenTelemetry packages the stock vllm-openai image
does not install (vllm-project/vllm requirements/common.txt lists none).
"""

from __future__ import annotations

from typing import Any

import yaml

from eksml.components.tracing import OTEL_COLLECTOR, OTLP_ENDPOINT, OTLP_GRPC_PORT, OTLP_HTTP_PORT
from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER, RESTRICTED_POD, controller_replicas
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

_OFF_PORTS = ("jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin")
_USER = 10001  # the collector image's own non-root user


CONFIG_MAP = "opentelemetry-collector-config"
HEALTH_PORT = 13133  # the chart's probes ask the health_check extension here


def otlp_traces_env(ctx: RenderContext) -> list[dict[str, str]]:
    """The standard OpenTelemetry SDK variable for traces only, where the collector runs (else none)."""
    return [{"name": "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "value": OTLP_ENDPOINT}] if ctx.tracing_enabled else []


def collector_config(region: str) -> dict[str, Any]:
    at = "${env:MY_POD_IP}"
    return {
        "extensions": {"health_check": {"endpoint": f"{at}:{HEALTH_PORT}"}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"{at}:{OTLP_GRPC_PORT}"},
                                             "http": {"endpoint": f"{at}:{OTLP_HTTP_PORT}"}}}},
        "processors": {"batch": {},
                       "memory_limiter": {"check_interval": "5s", "limit_percentage": 80, "spike_limit_percentage": 25}},
        "exporters": {"awsxray": {"region": region}},
        "service": {"extensions": ["health_check"], "pipelines": {
            "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["awsxray"]},
        }},
    }


class OpenTelemetryCollector(DescribedComponent):
    spec = OTEL_COLLECTOR

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(OTEL_COLLECTOR)
        return {
            "mode": "deployment",
            "replicaCount": controller_replicas(ctx),
            # It calls no Kubernetes API (no k8sattributes processor); IRSA's token is its own projected volume.
            "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations,
                               "automountServiceAccountToken": False},
            "configMap": {"create": False, "existingName": CONFIG_MAP},
            "ports": {name: {"enabled": False} for name in _OFF_PORTS},
            "podSecurityContext": {**RESTRICTED_POD, "runAsUser": _USER, "runAsGroup": _USER},
            "securityContext": RESTRICTED_CONTAINER,
        }

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        config = yaml.safe_dump(collector_config(ctx.env.region), sort_keys=False)
        return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(CONFIG_MAP, OTEL_COLLECTOR.namespace),
                 "data": {"relay": config}}]
