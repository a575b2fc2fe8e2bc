"""NVIDIA GPU operator: device plugin, GPU feature discovery, MIG manager and DCGM exporter.

Driver and container toolkit stay off: the EKS AL2023 / Bottlerocket NVIDIA AMIs ship both, and a
second driver install fights the one on the host. Per-pool sharing comes from two ConfigMaps eksml
owns (see `eksml.gpu.operator_config`); each node picks its entry through the label the AWS layer set.
"""

from __future__ import annotations

from typing import Any

from eksml.catalog.exporter_metrics import dcgm_counters
from eksml.gpu.operator_config import DEFAULT_DEVICE_PLUGIN_CONFIG, MIG_DISABLED_CONFIG
from eksml.gpu.sharing import cluster_mig_strategy
from eksml.components.gpu_operator import GPU_OPERATOR
from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER, RESTRICTED_POD
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.gpu_config import (
    DEVICE_PLUGIN_CONFIGMAP,
    MIG_PARTED_CONFIGMAP,
    configmaps,
)
from eksml.k8s.model.records import Manifest
from eksml.k8s.model.pools import gpu_pool_taints

DCGM_METRICS_CONFIGMAP = "eksml-dcgm-metrics"


def dcgm_metrics_csv() -> str:
    """dcgm-exporter's collectors file: `FIELD, type, help` per line."""
    return "\n".join(f"{field}, {kind}, {field}" for field, kind in dcgm_counters().items()) + "\n"


# The chart's own default toleration; kept because a values list replaces, not extends.
_CHART_DEFAULT_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def operand_tolerations(ctx: RenderContext) -> list[dict[str, str]]:
    """Operands must run on every GPU node, whatever its taints, or the node advertises no GPUs."""
    tolerations = [_CHART_DEFAULT_TOLERATION]
    for taint in gpu_pool_taints(ctx.env):
        toleration = {"key": taint.key, "operator": "Exists", "effect": taint.effect}
        if toleration not in tolerations:
            tolerations.append(toleration)
    return tolerations


# NFD's binaries are static Go and its image runs as a non-root user already; any high uid works
# (the worker only reads host paths mounted read-only).
_NFD_USER = 65532
_NFD_POD = {**RESTRICTED_POD, "runAsUser": _NFD_USER, "runAsGroup": _NFD_USER}
_NFD_CONTAINER = {**RESTRICTED_CONTAINER, "runAsUser": _NFD_USER, "runAsGroup": _NFD_USER}


def nfd_values(tolerations: list[dict[str, str]]) -> dict[str, Any]:
    """node-feature-discovery subchart: restricted pods (the master's container context also covers
    the post-delete prune Job, which has no pod context value); the gc container's is hard-coded."""
    return {
        "master": {"podSecurityContext": _NFD_POD, "securityContext": _NFD_CONTAINER},
        "gc": {"podSecurityContext": _NFD_POD},
        "worker": {"podSecurityContext": _NFD_POD, "securityContext": _NFD_CONTAINER, "tolerations": [
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "value": "", "effect": "NoSchedule"},
            *tolerations,
        ]},
    }


class GpuOperator(DescribedComponent):
    spec = GPU_OPERATOR

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        tolerations = operand_tolerations(ctx)
        return {
            "driver": {"enabled": False},
            "toolkit": {"enabled": False},
            "mig": {"strategy": cluster_mig_strategy(ctx.env)},
            "devicePlugin": {
                "config": {"create": False, "name": DEVICE_PLUGIN_CONFIGMAP, "default": DEFAULT_DEVICE_PLUGIN_CONFIG},
            },
            "migManager": {
                "enabled": True,
                "config": {"create": False, "name": MIG_PARTED_CONFIGMAP, "default": MIG_DISABLED_CONFIG},
            },
            "dcgmExporter": {"enabled": True, "serviceMonitor": {"enabled": ctx.monitoring_enabled},
                             # Exactly the counters eksml's dashboards and GPU alerts query (ECC included).
                             "config": {"name": DCGM_METRICS_CONFIGMAP, "create": True, "data": dcgm_metrics_csv()}},
            "daemonsets": {"tolerations": tolerations},
            "node-feature-discovery": nfd_values(tolerations),
        }

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        # In place before the operator starts, so device plugin pods never wait on a missing ConfigMap.
        return configmaps(ctx.env, self.namespace)
