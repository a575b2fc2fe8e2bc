"""The pods as they run with the mesh: Linkerd's injector adds its proxy and network validator to
every pod of a meshed namespace at admission, before Pod Security admission sees the pod. So the
render's checks evaluate each such pod with the containers the injector will add: those the control
plane's own pods carry, rendered by the same chart templates from the same values.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Optional, Sequence

from eksml.components.mesh import CONTROL_PLANE_LABELS, INJECT_ANNOTATION, LINKERD_CONTROL_PLANE
from eksml.k8s.checks.object_checks import Placed
from eksml.k8s.checks.rendered_pods import POD_SPEC_PATHS, pod_spec_of

PROXY, VALIDATOR = "linkerd-proxy", "linkerd-network-validator"
INJECTED_NAMES = (VALIDATOR, PROXY)


def injected_containers(objects: Sequence[Placed]) -> Optional[list[dict[str, Any]]]:
    """The init containers the injector adds (validator, then the proxy as a native sidecar), as the
    control plane's pods have them; None without a control plane."""
    for placed in objects:
        if placed.release != LINKERD_CONTROL_PLANE.name or placed.obj.kind != "Deployment":
            continue
        spec = pod_spec_of(placed.obj.body, placed.obj.kind) or {}
        inits = {c.get("name"): c for c in spec.get("initContainers") or [] if isinstance(c, dict)}
        if PROXY in inits and VALIDATOR in inits:
            return [inits[VALIDATOR], inits[PROXY]]
    return None


def meshed_namespaces(objects: Sequence[Placed]) -> frozenset[str]:
    """Namespaces the injector adds the proxy in, as their Namespace objects say."""
    return frozenset(o.obj.name for o in objects if o.obj.kind == "Namespace" and
                     ((o.obj.body.get("metadata") or {}).get("annotations") or {}).get(INJECT_ANNOTATION) == "enabled")


def proxied_namespaces(objects: Sequence[Placed]) -> frozenset[str]:
    """Namespaces whose pods run the proxy: the meshed ones and the control plane's (its chart adds it)."""
    control_planes = {o.obj.name for o in objects if o.obj.kind == "Namespace" and all(
        ((o.obj.body.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in CONTROL_PLANE_LABELS.items())}
    return meshed_namespaces(objects) | control_planes


def as_admitted(spec: dict[str, Any], annotations: Mapping[str, Any], namespace: str, meshed: frozenset[str],
                injected: Optional[list[dict[str, Any]]]) -> dict[str, Any]:
    """The pod spec Pod Security admission sees: with the injector's containers where it adds them."""
    if (injected is None or namespace not in meshed or annotations.get(INJECT_ANNOTATION) == "disabled"
            or spec.get("hostNetwork")):
        return spec
    return {**spec, "initContainers": [*injected, *(spec.get("initContainers") or [])]}


def admitted_object(placed: Placed, namespace: str, meshed: frozenset[str],
                    injected: Optional[list[dict[str, Any]]]) -> Placed:
    """The object with its pod template as admitted (for placement: the proxy's requests count)."""
    path = POD_SPEC_PATHS.get(placed.obj.kind)
    if path is None or injected is None or namespace not in meshed:
        return placed
    parents, node = [], placed.obj.body
    for key in path:
        parents.append(node)
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return placed
    annotations = (parents[-1].get("metadata") or {}).get("annotations") or {}  # the pod template's
    spec = as_admitted(node, annotations, namespace, meshed, injected)
    for parent, key in reversed(list(zip(parents, path))):
        spec = {**parent, key: spec}
    return replace(placed, obj=replace(placed.obj, body=spec))
