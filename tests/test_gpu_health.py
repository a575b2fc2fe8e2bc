"""GPUs that heal: an alert with a runbook line for a GPU that reports XID errors or drops off."""

from __future__ import annotations

from eksml.config import load_environment
from eksml.outputs import predict_outputs
from eksml.k8s.model.platform import build_platform


def gpu_rules(env_name: str) -> dict[str, dict]:
    env = load_environment(env_name)
    monitoring = build_platform(env, predict_outputs(env)).component("kube-prometheus-stack")
    rule = next(m for m in (*monitoring.prerequisites, *monitoring.objects) if m["kind"] == "PrometheusRule")
    group = next(g for g in rule["spec"]["groups"] if g["name"] == "eksml.gpu")
    return {r["alert"]: r for r in group["rules"]}


def test_a_node_whose_gpu_drops_off_alerts_with_a_runbook():
    rules = gpu_rules("dev")
    lost = rules["GPUNodeLostGPUs"]
    # kube-state-metrics names the extended resource with underscores
    assert 'kube_node_status_capacity{resource="nvidia_com_gpu"}' in lost["expr"]
    assert 'kube_node_status_allocatable{resource="nvidia_com_gpu"}' in lost["expr"]
    assert lost["labels"]["severity"] == "critical" and lost["for"] == "5m"
    for name in ("GPUNodeLostGPUs", "GPUXidError"):
        runbook = rules[name]["annotations"]["runbook"]
        assert "auto-repair" in runbook and "NodeClaim" in runbook and "drain" in runbook
    assert "runbook" not in rules["GPUMemoryNearlyFull"]["annotations"]
