"""AWS Load Balancer Controller (IRSA). No upstream data here: minimal, well-known values."""

from __future__ import annotations

from typing import Any

from eksml.contract.names import IrsaKey, Namespace
from eksml.k8s.components.base import HelmComponent
from eksml.k8s.context import RenderContext
from eksml.k8s.model import ChartRef


class AwsLoadBalancerController(HelmComponent):
    name = "aws-load-balancer-controller"
    namespace = Namespace.KUBE_SYSTEM
    chart = ChartRef("aws-load-balancer-controller", repo="https://aws.github.io/eks-charts")
    addon = "aws_load_balancer_controller"
    provides_api_groups = ("elbv2.k8s.aws",)
    # Its webhook certificate comes from cert-manager: the chart would otherwise generate a CA and a
    # private key into the rendered manifest (and so into git in gitops mode).
    depends_on = ("cert-manager",)

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(IrsaKey.LOAD_BALANCER_CONTROLLER)
        values: dict[str, Any] = {
            "clusterName": ctx.outputs.cluster_name,
            "region": ctx.env.region,
            "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations},
            "enableCertManager": True,
        }
        # Given rather than discovered: discovery reads instance metadata, which pods may not reach.
        # A render from predicted outputs has no VPC id yet; the deploy renders again after the apply.
        if ctx.outputs.vpc_id:
            values["vpcId"] = ctx.outputs.vpc_id
        return values
