"""Grafana dashboards written from the environment: inference by model (vLLM) and GPUs per pool (DCGM).

Every query names metrics with a selector (`name{...}`), so `metric_names` can list them and tests
hold them to what the exporters publish (eksml/catalog/exporter_metrics.json). GPUs are mapped to
pools through kube-state-metrics' node labels (the pool label is allow-listed in monitoring.py).
"""

from __future__ import annotations

import re
from typing import Any

from eksml.catalog import Catalog
from eksml.config.models import Environment, PoolKind
from eksml.components.serving import MODEL_SERVING
from eksml.k8s.model.pools import karpenter_gpu_instance_types

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}  # kube-prometheus-stack's default datasource
POOL_NODE_LABEL = "label_eksml_io_pool"  # kube_node_labels' name for eksml.io/pool
_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\{")


def metric_names(expr: str) -> set[str]:
    return set(_SELECTOR.findall(expr))


def pool_nodes(pool: str) -> str:
    """One series per node of the pool, labelled like DCGM's series (Hostname = node name)."""
    return f'label_replace(kube_node_labels{{{POOL_NODE_LABEL}="{pool}"}}, "Hostname", "$1", "node", "(.*)")'


def on_pool(series: str, pool: str) -> str:
    return f"({series} * on (Hostname) group_left () {pool_nodes(pool)})"


class _Board:
    def __init__(self, uid: str, title: str, tags: list[str]):
        self.uid, self.title, self.tags = uid, title, tags
        self.panels: list[dict[str, Any]] = []
        self._y = 0
        self._x = 0

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append({"id": len(self.panels) + 1, "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"x": 0, "y": self._y, "w": 24, "h": 1}, "panels": []})
        self._y += 1

    def panel(self, title: str, exprs: list[tuple[str, str]], kind: str = "timeseries", unit: str = "short",
              width: int = 12) -> None:
        if self._x + width > 24:
            self._newline()
        self.panels.append({
            "id": len(self.panels) + 1, "type": kind, "title": title, "datasource": DATASOURCE,
            "gridPos": {"x": self._x, "y": self._y, "w": width, "h": 8},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
                        for i, (expr, legend) in enumerate(exprs)],
        })
        self._x += width

    def _newline(self) -> None:
        if self._x:
            self._y += 8
            self._x = 0

    def model(self) -> dict[str, Any]:
        return {"uid": self.uid, "title": self.title, "tags": ["eksml", *self.tags], "editable": False,
                "schemaVersion": 39, "version": 1, "time": {"from": "now-6h", "to": "now"}, "refresh": "30s",
                "timezone": "utc", "templating": {"list": []}, "annotations": {"list": []}, "panels": self.panels}


def inference_dashboard(env: Environment) -> dict[str, Any]:
    ns = f'namespace="{MODEL_SERVING.namespace}"'
    board = _Board(f"eksml-inference-{env.name}"[:40], f"Inference ({env.name})", ["inference", "vllm"])
    board.row("All models")
    board.panel("Requests per second by model", [(f"sum by (model_name) (rate(vllm:request_success_total{{{ns}}}[5m]))", "{{model_name}}")], unit="reqps")
    board.panel("P95 latency by model", [(
        f"histogram_quantile(0.95, sum by (model_name, le) (rate(vllm:e2e_request_latency_seconds_bucket{{{ns}}}[5m])))",
        "{{model_name}}")], unit="s")
    board.panel("Active models", [(f"count(count by (model_name) (vllm:num_requests_running{{{ns}}}))", "models")], kind="stat", width=6)
    board.panel("Error rate (HTTP 5xx)", [(
        f'sum(rate(http_requests_total{{{ns}, status="5xx"}}[5m])) / sum(rate(http_requests_total{{{ns}}}[5m]))',
        "errors")], kind="stat", unit="percentunit", width=6)
    board.panel("Requests by model (last hour)", [(f"sum by (model_name) (increase(vllm:request_success_total{{{ns}}}[1h]))", "{{model_name}}")], kind="bargauge")
    for name, model in env.serving.models.items():
        versions = f"{name}|{name}-canary" if model.canary else name
        sel = f'{ns}, model_name=~"{versions}"'
        board.row(f"{name} on {model.pool}" + (f" (canary {model.canary.traffic_percent}%)" if model.canary else ""))
        board.panel("Requests per second by version", [(f"sum by (model_name) (rate(vllm:request_success_total{{{sel}}}[5m]))", "{{model_name}}")], unit="reqps", width=8)
        board.panel("Running / waiting requests", [(f"sum(vllm:num_requests_running{{{sel}}})", "running"),
                                                   (f"sum(vllm:num_requests_waiting{{{sel}}})", "waiting")], width=8)
        board.panel("KV cache usage", [(f"max by (model_name) (vllm:gpu_cache_usage_perc{{{sel}}})", "{{model_name}}")], unit="percentunit", width=8)
    return board.model()


def gpu_pools(env: Environment, catalog: Catalog) -> list[tuple[str, str]]:
    """(pool, sharing) of every pool that may carry GPUs (an overflow NodePool shows as its fixed pool)."""
    pools = [(name, pool.kind.value) for name, pool in env.node_pools.items() if pool.kind.is_gpu]
    for name, kpool in env.karpenter.node_pools.items():
        fixed = env.node_pools.get(kpool.overflow_for) if kpool.overflow_for else None
        if fixed is None and karpenter_gpu_instance_types(kpool, catalog):
            pools.append((name, "karpenter"))
    return pools


def gpu_dashboard(env: Environment, catalog: Catalog) -> dict[str, Any]:
    board = _Board(f"eksml-gpus-{env.name}"[:40], f"GPUs by pool ({env.name})", ["gpu", "dcgm"])
    for name, kind in gpu_pools(env, catalog):
        board.row(f"pool {name} ({kind})")
        mig = kind == PoolKind.gpu_mig.value
        # DCGM reports no GPU_UTIL for MIG instances; the graphics-engine activity works for both.
        util = on_pool("DCGM_FI_PROF_GR_ENGINE_ACTIVE{}", name) if mig else on_pool("DCGM_FI_DEV_GPU_UTIL{}", name)
        board.panel("Utilization", [(f"avg({util})", "average")], unit="percentunit" if mig else "percent", width=8)
        used, free = on_pool("DCGM_FI_DEV_FB_USED{}", name), on_pool("DCGM_FI_DEV_FB_FREE{}", name)
        board.panel("Memory used", [(f"sum({used}) / (sum({used}) + sum({free}))", "used")], unit="percentunit", width=8)
        if mig:
            slices = on_pool('DCGM_FI_PROF_GR_ENGINE_ACTIVE{GPU_I_PROFILE!=""}', name)
            board.panel("Per MIG slice activity", [(f"avg by (Hostname, gpu, GPU_I_PROFILE, GPU_I_ID) ({slices})",
                                                    "{{Hostname}} gpu{{gpu}} {{GPU_I_PROFILE}}#{{GPU_I_ID}}")],
                        unit="percentunit", width=8)
        elif kind == PoolKind.gpu_time_slicing.value:
            requested = (f'sum(kube_pod_container_resource_requests{{resource="nvidia_com_gpu"}} * on (node) group_left () '
                         f'kube_node_labels{{{POOL_NODE_LABEL}="{name}"}})')
            board.panel("Time-slice oversubscription (replicas in use per GPU)",
                        [(f"{requested} / count({on_pool('DCGM_FI_DEV_GPU_UTIL{}', name)})", "replicas per GPU")], width=8)
        else:
            board.panel("GPUs", [(f"count({on_pool('DCGM_FI_DEV_GPU_UTIL{}', name)})", "GPUs")], kind="stat", width=8)
    return board.model()
