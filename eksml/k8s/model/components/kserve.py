"""KServe in Standard mode (v0.20's name for RawDeployment): plain Deployments and Services, no
Knative, no Istio. Three charts: the CRDs first, then the controller, then the serving runtimes."""

from __future__ import annotations

from typing import Any

from eksml.components.kserve import KSERVE, KSERVE_CRD, KSERVE_RUNTIMES
from eksml.components.serving import MODEL_SERVING
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest


class Kserve(DescribedComponent):
    spec = KSERVE

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        return {
            "kserve": {
                "controller": {"deploymentMode": ctx.env.addons.kserve.deployment_mode},
                "certManager": {"enabled": True},
                "storage": {"s3": {"region": ctx.env.region}},
            }
        }

    def prerequisites(self, ctx: RenderContext) -> list[Manifest]:
        # Model pulls from S3 go through this IRSA service account; the AWS layer trusts exactly this name
        # and makes its role only while models are served (the model-serving component is on).
        if MODEL_SERVING.name not in ctx.platform_components:
            return []
        sa = ctx.irsa(MODEL_SERVING)
        return [{
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(sa.name, sa.namespace, annotations=sa.annotations),
        }]


class KserveRuntimes(DescribedComponent):
    spec = KSERVE_RUNTIMES

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        return {"kserve": {"servingruntime": {"enabled": True}}}
