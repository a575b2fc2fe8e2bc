"""kube-prometheus-stack plus the platform's alert rules (a PrometheusRule eksml owns).

No upstream data for this chart here: values are limited to well-known keys. Prometheus is told to
pick up every ServiceMonitor and PrometheusRule in the cluster, not only those labelled for this
release, so the GPU operator's, Argo's and ChatQnA's monitors work without label coordination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from eksml.components.chatqna import OPEA_CHATQNA
from eksml.components.mlflow import MLFLOW
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.serving import MODEL_SERVING
from eksml.config.components import component_enabled
from eksml.k8s.model.components.availability import HA_REPLICAS, highly_available, zone_spread
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.components.external_secrets import external_secrets_enabled
from eksml.k8s.model.components.grafana_admin import grafana_admin_objects, grafana_admin_values
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

RULES_NAME = "eksml-platform-alerts"
# Grafana's sidecars read only ConfigMaps (dashboards, datasources) in the monitoring namespace: this Role
# replaces the chart's, which grants every Secret there too (helm_values: rbac.useExistingRole).
GRAFANA_SIDECAR_ROLE = "grafana-sidecar"


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    duration: Optional[str]  # Prometheus `for`; None when the expression already spans its window
    severity: str
    summary: str
    labels: tuple[tuple[str, str], ...] = ()  # besides severity, e.g. the pool an alert is about
    runbook: Optional[str] = None  # what the on-call does, in one line


GPU_NODE_RUNBOOK = (
    "GPU node groups repair themselves (EKS node auto-repair replaces the node once the node monitoring agent "
    "reports it); on a Karpenter node, cordon and drain it (kubectl drain NODE --ignore-daemonsets) and delete its "
    "NodeClaim so Karpenter launches a healthy one; keep `dmesg | grep -i xid` from the node for the AWS case"
)


def inference_namespaces(ctx: RenderContext) -> list[str]:
    names = [MODEL_SERVING.namespace, *ctx.env.teams]
    if component_enabled(ctx.env, OPEA_CHATQNA):
        names.append(OPEA_CHATQNA.namespace)
    return names


def alert_rules(ctx: RenderContext) -> list[AlertRule]:
    ns = "|".join(inference_namespaces(ctx))
    selector = f'namespace=~"{ns}"'
    return [
        AlertRule(
            "HighInferenceLatency",
            # KServe model servers and vLLM both export request latency histograms.
            f"histogram_quantile(0.95, sum by (namespace, le) (rate(request_predict_seconds_bucket{{{selector}}}[5m]))) > 1"
            f" or histogram_quantile(0.95, sum by (namespace, le) (rate(vllm:e2e_request_latency_seconds_bucket{{{selector}}}[5m]))) > 1",
            "5m", "warning", "p95 inference latency above 1 s for 5 minutes",
        ),
        AlertRule(
            "HighInferenceErrorRate",
            f'sum by (namespace) (rate(http_requests_total{{{selector}, status=~"5.."}}[5m]))'
            f" / sum by (namespace) (rate(http_requests_total{{{selector}}}[5m])) > 0.05",
            "5m", "critical", "more than 5% of inference requests fail (5xx) for 5 minutes",
        ),
        AlertRule(
            "InferenceServiceRestarts",
            f"sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{{{selector}}}[1h])) > 3",
            None, "warning", "an inference pod restarted more than 3 times in the last hour",
        ),
        AlertRule(
            "MLflowDown",
            f'sum(kube_deployment_status_replicas_available{{namespace="{MLFLOW.namespace}"}}) < 1'
            f' or absent(kube_deployment_status_replicas_available{{namespace="{MLFLOW.namespace}"}})',
            "2m", "critical", "no MLflow tracking server replica available for 2 minutes",
        ),
        AlertRule(
            "HighPipelineFailureRate",
            'sum(increase(argo_workflows_total_count{phase=~"Failed|Error"}[1h]))'
            ' / sum(increase(argo_workflows_total_count{phase=~"Succeeded|Failed|Error"}[1h])) > 0.1',
            None, "warning", "more than 10% of Argo workflows failed in the last hour",
        ),
        AlertRule(
            "LowGPUUtilization",
            "avg by (Hostname, gpu, modelName) (DCGM_FI_DEV_GPU_UTIL) < 20",
            "30m", "info", "a GPU was below 20% utilisation for 30 minutes (DCGM): capacity is idle",
        ),
    ]


def gpu_alert_rules(ctx: RenderContext) -> list[AlertRule]:
    """GPU health from the DCGM exporter (its counters are configured in gpu_operator.py)."""
    from eksml.gpu.sharing import pool_gpu
    from eksml.k8s.model.dashboards import on_pool

    rules = [
        AlertRule("GPUXidError", "max by (Hostname, gpu, modelName) (DCGM_FI_DEV_XID_ERRORS{}) > 0", "1m", "critical",
                  "a GPU reported an XID error (driver or hardware fault); drain the node and check dmesg",
                  runbook=GPU_NODE_RUNBOOK),
        # The device plugin stops advertising a GPU it finds unhealthy (fallen off the bus, XID 79):
        # the node then offers fewer GPUs than it has, and its pods wait or fail.
        AlertRule("GPUNodeLostGPUs",
                  'kube_node_status_capacity{resource="nvidia_com_gpu"}'
                  ' - kube_node_status_allocatable{resource="nvidia_com_gpu"} > 0',
                  "5m", "critical", "a node advertises fewer GPUs than it has: a GPU dropped off or is unhealthy",
                  runbook=GPU_NODE_RUNBOOK),
        AlertRule("GPUUncorrectableEccErrors",
                  "increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{}[15m]) > 0 or DCGM_FI_DEV_ROW_REMAP_FAILURE{} > 0",
                  None, "critical", "a GPU had uncorrectable (double-bit) ECC errors or failed to remap a memory row"),
        AlertRule("GPUCorrectableEccErrorsHigh", "increase(DCGM_FI_DEV_ECC_SBE_VOL_TOTAL{}[1h]) > 100", None, "warning",
                  "a GPU corrected more than 100 single-bit ECC errors in an hour: its memory may be failing"),
        # vLLM reserves 90% of what it sees up front, so only the last few percent mean pressure.
        AlertRule("GPUMemoryNearlyFull",
                  "DCGM_FI_DEV_FB_USED{} / (DCGM_FI_DEV_FB_USED{} + DCGM_FI_DEV_FB_FREE{}) > 0.97", "10m", "warning",
                  "a GPU's memory has been over 97% used for 10 minutes: the next allocation may fail"),
    ]
    for name, pool in ctx.env.node_pools.items():
        gpu = pool_gpu(pool, ctx.catalog) if pool.kind.is_gpu else None
        if gpu is None or gpu.memory_gb < 40:  # A100 / H100 class: the pools that cost real money
            continue
        util = "DCGM_FI_PROF_GR_ENGINE_ACTIVE{}" if pool.mig is not None else "DCGM_FI_DEV_GPU_UTIL{}"
        scale = 100 if pool.mig is not None else 1  # GR_ENGINE_ACTIVE is a ratio, GPU_UTIL a percentage
        rules.append(AlertRule(
            "ExpensiveGPUPoolIdle", f"avg({on_pool(util, name)}) * {scale} < 5", "3h", "warning",
            f"pool {name} ({gpu.id}) has been under 5% busy for 3 hours: scale it down", (("pool", name),)))
    return rules


def _rule_entries(rules: list[AlertRule]) -> list[dict[str, Any]]:
    entries = []
    for rule in rules:
        entry: dict[str, Any] = {"alert": rule.name, "expr": rule.expr}
        if rule.duration:
            entry["for"] = rule.duration
        entry["labels"] = {"severity": rule.severity, **dict(rule.labels)}
        entry["annotations"] = {"summary": rule.summary, **({"runbook": rule.runbook} if rule.runbook else {})}
        entries.append(entry)
    return entries


def prometheus_rule(ctx: RenderContext, namespace: str) -> Manifest:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": metadata(RULES_NAME, namespace, labels={"release": KubePrometheusStack.name}),
        "spec": {"groups": [{"name": "eksml.platform", "rules": _rule_entries(alert_rules(ctx))},
                            {"name": "eksml.gpu", "rules": _rule_entries(gpu_alert_rules(ctx))}]},
    }


def grafana_sidecar_role(namespace: str) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": metadata(GRAFANA_SIDECAR_ROLE, namespace),
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "watch", "list"]}],
    }


class KubePrometheusStack(DescribedComponent):
    spec = KUBE_PROMETHEUS_STACK

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        select_all = {
            "ruleSelectorNilUsesHelmValues": False,
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
        }
        # kube_node_labels carries the pool label, so dashboards and alerts can group GPUs by pool.
        values: dict[str, Any] = {"prometheus": {"prometheusSpec": select_all},
                                  "grafana": {**grafana_admin_values(external_secrets_enabled(ctx)),
                                              # its Role (grafana_sidecar_role) covers this namespace only
                                              "sidecar": {"dashboards": {"searchNamespace": self.namespace}}},
                                  "kube-state-metrics": {"metricLabelsAllowlist": ["nodes=[eksml.io/pool]"]}}
        if highly_available(ctx):
            # The operator's chart runs one replica; its admission webhook moves to a Deployment of its own.
            values["prometheusOperator"] = {"admissionWebhooks": {"deployment": {
                "enabled": True, "replicas": HA_REPLICAS,
                "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
                "topologySpreadConstraints": zone_spread({"app": f"{self.name}-operator-webhook"}),
            }}}
        return values

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        return grafana_admin_objects(self.namespace) if external_secrets_enabled(ctx) else []

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        return [prometheus_rule(ctx, self.namespace), grafana_sidecar_role(self.namespace)]
