"""The UIs and model endpoints of `access`, behind one shared ALB (an ingress group).

Every Ingress joins the group named after the cluster, so the AWS Load Balancer Controller makes one
load balancer for all of them; each target gets its own host under `access.domain`. Internal unless
`scheme: internet-facing`, which validation allows only with allowed CIDRs and an ACM certificate:
then the ALB listens on HTTPS only and answers HTTP with a redirect. Targets are pods (`ip` mode),
so each UI's namespace (all deny ingress by default) gets a NetworkPolicy admitting the VPC on the
port the Service sends to.
A canary model's host splits traffic between its two predictor Services with ALB weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

from eksml.config.models_serving import Access
from eksml.components import uis
from eksml.components.serving import MODEL_SERVING, PREDICTOR_PORT, predictor_service
from eksml.contract.names import ENVIRONMENT_TAG
from eksml.components.access import SHARED_ALB_ACCESS
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

INGRESS_CLASS = "alb"
_ALB = "alb.ingress.kubernetes.io"


@dataclass(frozen=True)
class Backend:
    """A Service a chart creates, as the chart names it for eksml's release name and values."""

    component: str
    namespace: str
    service: str
    port: int
    health_path: str
    target_port: Any  # the pod port behind the Service (ALB ip targets reach it directly)


# From the UIs the components describe. Service names follow each chart's fullname for eksml's release
# name; ports are the charts' values (tests compare them with the Services the real charts render).
UI_BACKENDS: dict[str, Backend] = {
    name: Backend(spec.name, spec.namespace, ui.service, ui.port, ui.health_path, ui.target_port)
    for name, (spec, ui) in uis().items()
}


def _annotations(ctx: RenderContext, access: Access, health_path: str) -> dict[str, str]:
    secure = access.certificate_arn is not None
    annotations = {
        f"{_ALB}/group.name": ctx.env.cluster.name,
        f"{_ALB}/scheme": access.scheme,
        f"{_ALB}/target-type": "ip",
        f"{_ALB}/healthcheck-path": health_path,
        f"{_ALB}/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}] if secure else [{"HTTP": 80}]),
        f"{_ALB}/tags": f"{ENVIRONMENT_TAG}={ctx.env.name}",
    }
    if secure:
        annotations[f"{_ALB}/certificate-arn"] = access.certificate_arn
        annotations[f"{_ALB}/ssl-redirect"] = "443"
    if access.allowed_cidrs:
        annotations[f"{_ALB}/inbound-cidrs"] = ",".join(access.allowed_cidrs)
    return annotations


def ingress(ctx: RenderContext, access: Access, name: str, namespace: str, host: str, service: str,
            port: Any, health_path: str, extra: Optional[dict[str, str]] = None) -> Manifest:
    port_ref = {"name": port} if isinstance(port, str) else {"number": port}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(name, namespace, annotations={**_annotations(ctx, access, health_path), **(extra or {})}),
        "spec": {
            "ingressClassName": INGRESS_CLASS,
            "rules": [{"host": host, "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": service, "port": port_ref}},
            }]}}],
        },
    }


def allow_from_vpc(ctx: RenderContext, backend: Backend, target: str) -> Manifest:
    """ALB targets are pod IPs: the load balancer's addresses are in the VPC, not in any namespace."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(f"allow-alb-{target}", backend.namespace),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": ctx.env.network.vpc_cidr}}],
                         "ports": [{"protocol": "TCP", "port": backend.target_port}]}],
        },
    }


def model_ingress(ctx: RenderContext, access: Access, name: str) -> Manifest:
    model = ctx.env.serving.models[name]
    host = f"{name}.{access.domain}"
    namespace = MODEL_SERVING.namespace
    if model.canary is None:
        return ingress(ctx, access, f"model-{name}", namespace, host, predictor_service(name), PREDICTOR_PORT, "/v1/models")
    share = model.canary.traffic_percent
    action = f"{name}-split"
    forward = {"type": "forward", "forwardConfig": {"targetGroups": [
        {"serviceName": predictor_service(name), "servicePort": str(PREDICTOR_PORT), "weight": 100 - share},
        {"serviceName": predictor_service(f"{name}-canary"), "servicePort": str(PREDICTOR_PORT), "weight": share},
    ]}}
    return ingress(ctx, access, f"model-{name}", namespace, host, action, "use-annotation", "/v1/models",
                   {f"{_ALB}/actions.{action}": json.dumps(forward)})


class SharedAlbAccess(DescribedComponent):
    spec = SHARED_ALB_ACCESS

    def enabled(self, ctx: RenderContext) -> bool:
        access = ctx.env.access
        return (access is not None and bool(access.expose or access.models)
                and ctx.env.addons.aws_load_balancer_controller.enabled)

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        access = ctx.env.access
        manifests: list[Manifest] = []
        for target in access.expose:
            backend = UI_BACKENDS[target]
            manifests.append(ingress(ctx, access, f"ui-{target}", backend.namespace, f"{target}.{access.domain}",
                                     backend.service, backend.port, backend.health_path))
            manifests.append(allow_from_vpc(ctx, backend, target))
        for name in access.models:
            manifests.append(model_ingress(ctx, access, name))
        return manifests
