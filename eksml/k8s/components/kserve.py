"""KServe in Standard mode (v0.20's name for RawDeployment): plain Deployments and Services, no
Knative, no Istio. Three charts: the CRDs first, then the controller, then the serving runtimes."""

from __future__ import annotations

from typing import Any

from eksml.contract.names import IrsaKey, Namespace
from eksml.k8s.components.base import HelmComponent
from eksml.k8s.context import RenderContext
from eksml.k8s.manifests import metadata
from eksml.k8s.model import ChartRef, Manifest

_OCI = "oci://ghcr.io/kserve/charts"


class KserveCrd(HelmComponent):
    name = "kserve-crd"
    namespace = Namespace.KSERVE
    chart = ChartRef(f"{_OCI}/kserve-crd")
    addon = "kserve"
    provides_api_groups = ("serving.kserve.io",)


class Kserve(HelmComponent):
    name = "kserve"
    namespace = Namespace.KSERVE
    chart = ChartRef(f"{_OCI}/kserve-resources")
    addon = "kserve"
    depends_on = ("kserve-crd", "cert-manager")  # CRDs, and certificates for its webhooks

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        return {
            "kserve": {
                "controller": {"deploymentMode": ctx.env.addons.kserve.deployment_mode},
                "certManager": {"enabled": True},
                "storage": {"s3": {"region": ctx.env.region}},
            }
        }

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        # Model pulls from S3 go through this IRSA service account; the AWS layer trusts exactly this name.
        sa = ctx.irsa(IrsaKey.KSERVE)
        return [{
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(sa.name, sa.namespace, annotations=sa.annotations),
        }]


class KserveRuntimes(HelmComponent):
    name = "kserve-runtime-configs"
    namespace = Namespace.KSERVE
    chart = ChartRef(f"{_OCI}/kserve-runtime-configs")
    addon = "kserve"
    depends_on = ("kserve",)  # ClusterServingRuntimes pass through the controller's webhook

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        return {"kserve": {"servingruntime": {"enabled": True}}}
