"""The render check for single points of failure at prod: a Deployment with one replica behind an
Ingress (users reach it) or behind an admission webhook (the API server calls it; with the one pod
gone, every create or update its webhook covers fails or goes unchecked).

A Deployment is behind a Service when the Service's selector matches its pod labels; a Service is
behind an Ingress or a webhook when one names it. An exception needs an entry in
SINGLE_REPLICA_ALLOWED with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from eksml.errors import Issue
from eksml.components.kserve import KSERVE
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.k8s.checks.object_checks import Placed

# (release, Deployment name) -> why one replica is right even at prod.
SINGLE_REPLICA_ALLOWED: dict[tuple[str, str], str] = {
    (KUBE_PROMETHEUS_STACK.name, f"{KUBE_PROMETHEUS_STACK.name}-grafana"):
        "Grafana keeps its state in SQLite on one volume; dashboards come from ConfigMaps, so a restart loses nothing",
    (KSERVE.name, "kserve-controller-manager"):
        "kserve-resources v0.20.0 has no replica setting; running InferenceServices keep serving while it restarts, "
        "only creates and updates of KServe objects wait",
}
_WEBHOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")


def _ingress_services(body: dict) -> Iterator[str]:
    spec = body.get("spec") or {}
    backends = [spec.get("defaultBackend") or {}]
    for rule in spec.get("rules") or []:
        backends += [path.get("backend") or {} for path in (rule.get("http") or {}).get("paths") or []]
    for backend in backends:
        if (backend.get("service") or {}).get("name"):
            yield backend["service"]["name"]


def _webhook_services(body: dict) -> Iterator[tuple[str, str]]:
    for hook in body.get("webhooks") or []:
        service = (hook.get("clientConfig") or {}).get("service") or {}
        if service.get("name"):
            yield service.get("namespace", ""), service["name"]


def _fronted_services(objects: Sequence[Placed]) -> dict[tuple[str, str], str]:
    """(namespace, Service) -> what sends it traffic ("Ingress x" or "webhook y")."""
    fronted: dict[tuple[str, str], str] = {}
    for placed in objects:
        obj = placed.obj
        if obj.kind == "Ingress":
            for name in _ingress_services(obj.body):
                fronted.setdefault((obj.namespace or "", name), f"Ingress {obj.name}")
        elif obj.kind in _WEBHOOK_KINDS:
            for namespace, name in _webhook_services(obj.body):
                fronted.setdefault((namespace, name), f"{obj.kind} {obj.name}")
    return fronted


def _namespace(placed: Placed, namespaces: dict[str, str]) -> str:
    return placed.obj.namespace or namespaces.get(placed.release, "")


def single_replica_issues(objects: Sequence[Placed], release_namespaces: dict[str, str]) -> list[Issue]:
    fronted = _fronted_services(objects)
    selectors: dict[str, list[tuple[dict, str]]] = {}
    for placed in objects:
        if placed.obj.kind == "Service":
            key = (_namespace(placed, release_namespaces), placed.obj.name)
            selector = (placed.obj.body.get("spec") or {}).get("selector") or {}
            if key in fronted and selector:
                selectors.setdefault(key[0], []).append((selector, f"Service {placed.obj.name} ({fronted[key]})"))
    issues = []
    for placed in objects:
        if placed.obj.kind != "Deployment" or (placed.release, placed.obj.name) in SINGLE_REPLICA_ALLOWED:
            continue
        spec = placed.obj.body.get("spec") or {}
        if spec.get("replicas", 1) is None or int(spec.get("replicas", 1)) >= 2:
            continue
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        for selector, via in selectors.get(_namespace(placed, release_namespaces), []):
            if all(labels.get(k) == v for k, v in selector.items()):
                issues.append(placed.issue("spec.replicas", (
                    f"one replica at prod behind {via}: a single node drain takes it down; run 2 or more "
                    "(with a PodDisruptionBudget), or list it in eksml/k8s/checks/replica_check.py SINGLE_REPLICA_ALLOWED "
                    "with the reason")))
                break
    return issues
