"""Which namespaces the mesh takes in, and the namespace metadata that says so.

With `mesh` on, the injector adds the proxy to every pod of each namespace eksml creates, except
the privileged ones (pod-security exceptions: node agents and the GPU stack, on the host's network
or devices) and Linkerd's own: the control plane's pods carry their proxy from the chart, and the CNI
installer runs on the host network.
"""

from __future__ import annotations

from eksml.components.mesh import CONTROL_PLANE_LABELS, INJECT_ANNOTATION, LINKERD_CNI, LINKERD_CONTROL_PLANE, WEBHOOKS_LABEL
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.pod_security_levels import PRIVILEGED, enforced_level


def meshed(ctx: RenderContext, namespace: str) -> bool:
    return (ctx.env.mesh_on and enforced_level(namespace) != PRIVILEGED
            and namespace not in (LINKERD_CONTROL_PLANE.namespace, LINKERD_CNI.namespace))


def proxied(ctx: RenderContext, namespace: str) -> bool:
    """Its pods run a proxy: the meshed namespaces and the control plane's own."""
    return meshed(ctx, namespace) or (ctx.env.mesh_on and namespace == LINKERD_CONTROL_PLANE.namespace)


def mesh_metadata(ctx: RenderContext, namespace: str) -> tuple[dict[str, str], dict[str, str]]:
    """(labels, annotations) of a namespace eksml creates."""
    if not ctx.env.mesh_on:
        return {}, {}
    if namespace == LINKERD_CONTROL_PLANE.namespace:
        return dict(CONTROL_PLANE_LABELS), {INJECT_ANNOTATION: "disabled"}
    if namespace == LINKERD_CNI.namespace:
        return {WEBHOOKS_LABEL: "disabled"}, {INJECT_ANNOTATION: "disabled"}
    return {}, ({INJECT_ANNOTATION: "enabled"} if meshed(ctx, namespace) else {})
