"""AWS Load Balancer Controller (IRSA). No upstream data here: minimal, well-known values."""

from __future__ import annotations

from typing import Any

from eksml.components.load_balancer_controller import AWS_LOAD_BALANCER_CONTROLLER
from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER, RESTRICTED_POD
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext

# The image's own non-root user (distroless nonroot); fsGroup stays the chart's 65534.
_CONTROLLER_USER = 65532


class AwsLoadBalancerController(DescribedComponent):
    spec = AWS_LOAD_BALANCER_CONTROLLER

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(AWS_LOAD_BALANCER_CONTROLLER)
        values: dict[str, Any] = {
            "clusterName": ctx.outputs.cluster_name,
            "region": ctx.env.region,
            "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations},
            "enableCertManager": True,
            "podSecurityContext": {**RESTRICTED_POD, "runAsUser": _CONTROLLER_USER, "runAsGroup": _CONTROLLER_USER,
                                   "fsGroup": 65534},
            "securityContext": RESTRICTED_CONTAINER,
        }
        # Given rather than discovered: discovery reads instance metadata, which pods may not reach.
        # A render from predicted outputs has no VPC id yet; the deploy renders again after the apply.
        if ctx.outputs.vpc_id:
            values["vpcId"] = ctx.outputs.vpc_id
        return values
