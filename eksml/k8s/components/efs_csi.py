"""The EFS CSI driver (chart, not an EKS add-on, so its pods go through the platform's schema and
placement checks): ReadWriteMany volumes on the data stack's file system through access points.

The controller only calls the EFS API (IRSA role of the AWS layer) and needs no privilege: it runs
restricted. The node plugin mounts NFS on the host (privileged, hostPath /var/lib/kubelet) and
cannot: it lives in kube-system, which Pod Security labels do not govern.
"""

from __future__ import annotations

from typing import Any

from eksml.contract.names import IrsaKey, Namespace
from eksml.k8s.components.availability import (
    RESTRICTED_CONTAINER,
    RESTRICTED_POD,
    controller_replicas,
    highly_available,
    zone_spread,
)
from eksml.k8s.components.base import HelmComponent
from eksml.k8s.context import RenderContext
from eksml.k8s.model import ChartRef

CONTROLLER_LABELS = {"app": "efs-csi-controller"}
# Any non-root user: the controller writes only its socket, in an emptyDir.
_CONTROLLER_USER = 65532


class EfsCsiDriver(HelmComponent):
    name = "aws-efs-csi-driver"
    namespace = Namespace.KUBE_SYSTEM
    chart = ChartRef("aws-efs-csi-driver", repo="https://kubernetes-sigs.github.io/aws-efs-csi-driver")
    addon = "aws_efs_csi_driver"

    def enabled(self, ctx: RenderContext) -> bool:
        return ctx.env.storage.efs and self._addon(ctx).enabled

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(IrsaKey.EFS_CSI)
        controller: dict[str, Any] = {
            "replicaCount": controller_replicas(ctx),
            "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations},
            "tags": {"eksml.io/cluster": ctx.env.cluster.name},
            "securityContext": {**RESTRICTED_POD, "runAsUser": _CONTROLLER_USER, "runAsGroup": _CONTROLLER_USER,
                                "fsGroup": _CONTROLLER_USER},
            "containerSecurityContext": {**RESTRICTED_CONTAINER, "privileged": False},
            "podDisruptionBudget": {"enabled": highly_available(ctx), "minAvailable": 1},
        }
        if highly_available(ctx):
            controller["topologySpreadConstraints"] = [
                {k: v for k, v in c.items() if k != "labelSelector"} for c in zone_spread(CONTROLLER_LABELS)]
        return {"controller": controller}
