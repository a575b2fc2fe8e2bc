"""Argo Workflows with its artifact repository in S3 through IRSA (no static keys).

CRDs: chart 1.x defaults to `crds.full: true`, which installs the full CRDs from a pre-install hook
Job that downloads them from raw.githubusercontent.com at install time. That breaks private or
egress-restricted clusters and makes an install depend on GitHub being reachable. We set
`crds.full: false`: the chart ships minified CRDs in its own templates (schema-less, with
x-kubernetes-preserve-unknown-fields), so the install is self-contained. The cost is no server-side
schema validation of Workflow specs; `argo lint` and the controller still validate them.
"""

from __future__ import annotations

from typing import Any

from eksml.components.argo_workflows import ARGO_WORKFLOWS, ARTIFACT_PREFIX
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.components.tracing import otlp_traces_env
from eksml.k8s.model.context import RenderContext


class ArgoWorkflows(DescribedComponent):
    spec = ARGO_WORKFLOWS

    def values(self, ctx: RenderContext) -> dict[str, Any]:
        sa = ctx.irsa(ARGO_WORKFLOWS)
        # Workflow spans from the controller and argoexec (init, wait); steps' own SDKs read it too.
        traces = otlp_traces_env(ctx)
        return {
            "crds": {"install": True, "full": False},
            # The IRSA trust names exactly this namespace/service account, so workflows that touch
            # artifacts run in the release namespace under it.
            "controller": {
                "workflowNamespaces": [sa.namespace],
                "metricsConfig": {"enabled": ctx.monitoring_enabled},
                "serviceMonitor": {"enabled": ctx.monitoring_enabled},
                "extraEnv": traces,
            },
            "executor": {"env": traces},
            "mainContainer": {"env": traces},
            "workflow": {
                "serviceAccount": {"create": True, "name": sa.name, "annotations": sa.annotations},
                "rbac": {"create": True},
            },
            "useStaticCredentials": False,
            "artifactRepository": {
                "archiveLogs": True,
                "s3": {
                    "bucket": ctx.bucket("artifacts"),
                    "endpoint": f"s3.{ctx.env.region}.amazonaws.com",
                    "region": ctx.env.region,
                    # Argo's default key is <workflow>/<pod> at the bucket's root: its role may write only here.
                    "keyFormat": ARTIFACT_PREFIX + "/{{workflow.name}}/{{pod.name}}",
                    "useSDKCreds": True,
                    "encryptionOptions": {"enableEncryption": True},
                },
            },
        }
