"""A served model's `autoscaling`, as a KEDA ScaledObject over vLLM's metrics in Prometheus.

KServe is told the autoscaler is external (no HPA of its own) and KEDA scales the predictor
Deployment KServe creates (`<isvc>-predictor`). queue and concurrency are per-replica averages of
vLLM's waiting and running requests; latency is the p95 time to first token over two minutes.

Scaling back up from zero needs a signal that exists while no replica runs: with no pod, vLLM
exports nothing, so a model at zero is woken by the first non-zero metric only once something
(an operator, a pipeline) starts one replica. That is why scale-to-zero is a dev-only setting.
"""

from __future__ import annotations

from typing import Any

from eksml.config.models_operations import Autoscaling
from eksml.k8s.model.components.monitoring import KubePrometheusStack
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

AUTOSCALER_ANNOTATION = "serving.kserve.io/autoscalerClass"
PROMETHEUS_URL = f"http://{KubePrometheusStack.name}-prometheus.{KubePrometheusStack.namespace}.svc:9090"
# Seconds a model stays at its replica count after the metric falls, before KEDA scales it in.
COOLDOWN_SECONDS = 600


def predictor_deployment(isvc_name: str) -> str:
    return f"{isvc_name}-predictor"


def metric_query(isvc_name: str, namespace: str, metric: str) -> tuple[str, str]:
    """(PromQL, KEDA metricType) for one metric of one InferenceService's predictor pods."""
    pods = f'namespace="{namespace}",pod=~"{predictor_deployment(isvc_name)}-.*"'
    if metric == "queue":
        return f"sum(vllm:num_requests_waiting{{{pods}}})", "AverageValue"
    if metric == "concurrency":
        return f"sum(vllm:num_requests_running{{{pods}}})", "AverageValue"
    return (f"histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{{{pods}}}[2m])))",
            "Value")


def scaled_object(isvc_name: str, namespace: str, model_name: str, scaling: Autoscaling,
                  labels: dict[str, str]) -> Manifest:
    query, metric_type = metric_query(isvc_name, namespace, scaling.metric)
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": metadata(isvc_name, namespace, labels=labels),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": predictor_deployment(isvc_name)},
            "minReplicaCount": scaling.min,
            "maxReplicaCount": scaling.max,
            "cooldownPeriod": COOLDOWN_SECONDS,
            "triggers": [{
                "type": "prometheus",
                "name": f"{model_name}-{scaling.metric}",
                "metricType": metric_type,
                "metadata": {"serverAddress": PROMETHEUS_URL, "query": query, "threshold": str(scaling.target)},
            }],
        },
    }


def predictor_replicas(scaling: Autoscaling | None, fixed: int) -> dict[str, Any]:
    if scaling is None:
        return {"minReplicas": fixed, "maxReplicas": fixed}
    return {"minReplicas": scaling.min, "maxReplicas": scaling.max}
