"""The EFS CSI driver (chart, not an EKS add-on, so its pods go through the platform's schema and
placement checks): ReadWriteMany volumes on the data stack's file system through access points.

The controller only calls the EFS API (IRSA role of the AWS layer) and needs no privilege: it runs
restricted. The node plugin mounts NFS on the host (privileged, hostPath /var/lib/kubelet) and
cannot: it lives in kube-system, which Pod Security labels do not govern.
"""

from __future__ import annotations

from typing import Any

from eksml.components.efs_csi import AWS_EFS_CSI_DRIVER
from eksml.contract.names import ADDON_SERVICE_ACCOUNTS, EFS_CSI_IDENTITY
from eksml.k8s.model.components.availability import (
    RESTRICTED_CONTAINER,
    RESTRICTED_POD,
    controller_replicas,
    highly_available,
    zone_spread,
)
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext, ServiceAccountRef
from eksml.k8s.model.hardening import restricted_container_context

CONTROLLER_LABELS = {"app": "efs-csi-controller"}
# Any non-root user: the controller writes only its socket, in an emptyDir.
_CONTROLLER_USER = 65532


def controller_account(ctx: RenderContext) -> ServiceAccountRef:
    """The add-on identity the cluster stack makes (its role ARN is in the irsa_role_arns output)."""
    namespace, name = ADDON_SERVICE_ACCOUNTS[EFS_CSI_IDENTITY]
    return ServiceAccountRef(namespace, name, ctx.outputs.irsa_role_arns[EFS_CSI_IDENTITY])


class EfsCsiDriver(DescribedComponent):
    spec = AWS_EFS_CSI_DRIVER

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = controller_account(ctx)
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
        return {"controller": controller, "sidecars": sidecar_contexts(), "node": node_values()}


def sidecar_contexts() -> dict[str, Any]:
    """The liveness probe and the registrar also run in the node pod, as root (its sockets are root's):
    no runAsNonRoot there, the controller pod's context supplies it. Root keeps access to what it owns."""
    return {
        "csiProvisioner": {"securityContext": RESTRICTED_CONTAINER},
        "livenessProbe": {"securityContext": restricted_container_context()},
        "nodeDriverRegistrar": {"securityContext": restricted_container_context()},
    }


def node_values() -> dict[str, Any]:
    """The node pod keeps the chart's root user (it binds the kubelet's registration and CSI sockets);
    seccomp RuntimeDefault reaches the sidecars (the privileged plugin runs unconfined regardless)."""
    return {"securityContext": {"runAsNonRoot": False, "runAsUser": 0, "runAsGroup": 0, "fsGroup": 0,
                                "seccompProfile": {"type": "RuntimeDefault"}}}
