"""Grafana dashboards as ConfigMaps the Grafana sidecar of kube-prometheus-stack picks up (label
grafana_dashboard, in the monitoring namespace, the only one it watches): inference by model and GPUs
by pool, written from the environment."""

from __future__ import annotations

import json
from typing import Any

from eksml.components.dashboards import GRAFANA_DASHBOARDS
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.dashboards import gpu_dashboard, inference_dashboard
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

DASHBOARD_LABEL = "grafana_dashboard"  # the chart's sidecar.dashboards.label, with its labelValue "1"


def dashboard_config_map(name: str, namespace: str, dashboard: dict[str, Any]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(name, namespace, labels={DASHBOARD_LABEL: "1"}),
        "data": {f"{name}.json": json.dumps(dashboard, indent=1, sort_keys=True)},
    }


class GrafanaDashboards(DescribedComponent):
    spec = GRAFANA_DASHBOARDS

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        return [
            dashboard_config_map("eksml-inference", self.namespace, inference_dashboard(ctx.env)),
            dashboard_config_map("eksml-gpus", self.namespace, gpu_dashboard(ctx.env, ctx.catalog)),
        ]
