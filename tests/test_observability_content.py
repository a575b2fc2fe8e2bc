"""Observability written from the environment: monitors for MLflow and every served model, Grafana
dashboards the sidecar picks up (valid JSON, querying only metrics the exporters publish), GPU alerts."""

from __future__ import annotations

import json

from serving_helpers import objects_of, platform_of

from eksml.catalog.exporter_metrics import dcgm_counters, known_metrics
from eksml.k8s.model.components.monitoring import RULES_NAME
from eksml.k8s.model.dashboards import metric_names

ENVS = ("dev", "staging", "prod", "local")


def dashboards(env_name: str) -> dict[str, dict]:
    maps = objects_of(platform_of(env_name), "grafana-dashboards", "ConfigMap")
    assert all(m["metadata"]["labels"]["grafana_dashboard"] == "1" for m in maps)
    return {key: json.loads(body) for m in maps for key, body in m["data"].items()}


def test_dashboards_are_valid_and_query_only_published_metrics():
    known = known_metrics()
    for env_name in ENVS:
        for key, board in dashboards(env_name).items():
            assert board["uid"] and len(board["uid"]) <= 40 and board["title"]
            ids = [p["id"] for p in board["panels"]]
            assert len(ids) == len(set(ids)), key
            for panel in board["panels"]:
                assert set(panel["gridPos"]) == {"x", "y", "w", "h"} and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
                for target in panel.get("targets", []):
                    names = metric_names(target["expr"])
                    assert names, target["expr"]
                    assert names <= known, f"{key} {panel['title']}: unknown {names - known}"
                    assert target["expr"].count("(") == target["expr"].count(")")


def test_inference_dashboard_has_the_panels_and_a_row_per_model():
    board = dashboards("dev")["eksml-inference.json"]
    titles = [p["title"] for p in board["panels"]]
    for wanted in ("Requests per second by model", "P95 latency by model", "Active models",
                   "Error rate (HTTP 5xx)", "Requests by model (last hour)"):
        assert wanted in titles
    assert "mistral-7b on a100-mig (canary 10%)" in titles and "tinyllama on a100-timeslice" in titles
    canary = json.dumps(board)
    assert "mistral-7b|mistral-7b-canary" in canary


def test_gpu_dashboard_has_a_row_per_gpu_pool_with_mig_and_time_slicing_panels():
    board = dashboards("dev")["eksml-gpus.json"]
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert rows == ["pool a100-timeslice (gpu-time-slicing)", "pool a100-mig (gpu-mig)",
                    "pool h100 (gpu-time-slicing)", "pool gpu-workloads (karpenter)"]
    titles = [p["title"] for p in board["panels"]]
    assert "Per MIG slice activity" in titles
    assert titles.count("Time-slice oversubscription (replicas in use per GPU)") == 2


def test_every_served_model_has_a_pod_monitor_covering_both_versions():
    monitors = {m["metadata"]["name"]: m for m in objects_of(platform_of("dev"), "model-serving", "PodMonitor")}
    assert set(monitors) == {"model-tinyllama", "model-mistral-7b"}
    selector = monitors["model-mistral-7b"]["spec"]["selector"]["matchExpressions"][0]
    assert selector["values"] == ["mistral-7b", "mistral-7b-canary"]
    assert monitors["model-tinyllama"]["spec"]["podMetricsEndpoints"][0]["portNumber"] == 8080


def test_mlflow_is_scraped_by_its_charts_service_monitor():
    platform = platform_of("dev")
    mlflow = platform.component("mlflow")
    assert mlflow.values["serviceMonitor"]["enabled"] is True
    assert "kube-prometheus-stack" in mlflow.depends_on  # its CRDs exist when the chart renders the monitor


def test_gpu_alerts_and_their_metrics_are_published():
    rule = next(m for m in objects_of(platform_of("dev"), "kube-prometheus-stack", "PrometheusRule")
                if m["metadata"]["name"] == RULES_NAME)
    rules = next(g for g in rule["spec"]["groups"] if g["name"] == "eksml.gpu")["rules"]
    names = [r["alert"] for r in rules]
    for wanted in ("GPUXidError", "GPUUncorrectableEccErrors", "GPUMemoryNearlyFull", "ExpensiveGPUPoolIdle"):
        assert wanted in names
    idle_pools = {r["labels"]["pool"] for r in rules if r["alert"] == "ExpensiveGPUPoolIdle"}
    assert idle_pools == {"a100-timeslice", "a100-mig", "h100"}
    dcgm = set(dcgm_counters())
    for r in rules:
        used = {n for n in metric_names(r["expr"]) if n.startswith("DCGM_")}
        assert used <= dcgm, r["alert"]


def test_dcgm_exporter_is_configured_with_the_published_counters():
    values = platform_of("dev").component("gpu-operator").values["dcgmExporter"]["config"]
    fields = [line.split(",")[0] for line in values["data"].splitlines() if line]
    assert fields == list(dcgm_counters()) and values["create"] is True
