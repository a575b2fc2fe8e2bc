"""Every rendered object checked before anything is applied: built-in kinds against the Kubernetes
OpenAPI schema of the environment's version (offline, kubernetes-validate), custom resources against
the CRD a rendered chart installs (strictly), and the order: a CRD, a namespace, cert-manager must
come from the same or an earlier release than what needs them.

Issues name the release's manifest as the file and `<Kind namespace/name>.<field>` as the path.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional

from eksml.charts.kube_yaml import ManifestObject
from eksml.errors import Issue
from eksml.k8s.crd_schema import custom_resource_errors, field_path

BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "scheduling.k8s.io",
    "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io", "coordination.k8s.io",
    "apiextensions.k8s.io", "apiregistration.k8s.io", "certificates.k8s.io", "discovery.k8s.io", "node.k8s.io",
    "flowcontrol.apiserver.k8s.io", "events.k8s.io", "resource.k8s.io",
})
# Namespaces every EKS cluster has before anything is installed.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
CERT_MANAGER = "cert-manager"
_INJECT_CA = "cert-manager.io/inject-ca-from"


@dataclass(frozen=True)
class Placed:
    """An object, the release that applies it, and the releases installed before that one."""

    release: str
    obj: ManifestObject
    before: frozenset[str]  # releases guaranteed to be installed earlier
    file: str  # the rendered file it is written to (manifests/<release>.yaml, objects/...)

    def issue(self, field: str, message: str) -> Issue:
        where = str(self.obj) + (f".{field}" if field else "")
        return Issue(self.file, where, message)


def group_of(body: dict) -> str:
    return str(body.get("apiVersion", "")).rpartition("/")[0]


@functools.lru_cache(maxsize=1)
def _kubernetes_validate():
    import kubernetes_validate

    return kubernetes_validate


def builtin_issues(placed: Placed, kube_version: str) -> list[Issue]:
    kv = _kubernetes_validate()
    body = placed.obj.body
    try:
        kv.validate(body, f"{kube_version}.0", strict=True)
    except kv.SchemaNotFoundError:
        return [placed.issue("apiVersion", f"Kubernetes {kube_version} serves no {body.get('kind')} in "
                                           f"{body.get('apiVersion')}")]
    except kv.ValidationError as error:
        message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
        if error.validator == "additionalProperties":
            message = f"unknown field: {message.split('(')[-1].rstrip(')')}"
        return [placed.issue(field_path(error.absolute_path), message)]
    return []


def crd_index(objects: list[Placed]) -> dict[tuple[str, str], Placed]:
    """(group, kind) -> the CRD and where it is installed; the first installer wins."""
    found: dict[tuple[str, str], Placed] = {}
    for placed in objects:
        if placed.obj.kind == "CustomResourceDefinition":
            spec = placed.obj.body.get("spec") or {}
            found.setdefault((spec.get("group", ""), (spec.get("names") or {}).get("kind", "")), placed)
    return found


def custom_resource_issues(placed: Placed, crds: dict[tuple[str, str], Placed]) -> list[Issue]:
    body = placed.obj.body
    group, version = group_of(body), str(body.get("apiVersion", "")).rpartition("/")[2]
    crd = crds.get((group, placed.obj.kind))
    if crd is None:
        return [placed.issue("apiVersion", f"no release installs a CRD for {placed.obj.kind} in {group}; "
                                           "enable the component that provides it")]
    if crd.release != placed.release and crd.release not in placed.before:
        return [placed.issue("apiVersion", f"its CRD comes from release {crd.release}, which is not installed "
                                           f"before {placed.release}")]
    return [placed.issue(path, message) for path, message in custom_resource_errors(body, crd.obj.body, version)]


def order_issues(placed: Placed, namespaces: dict[str, str], cert_manager_on: bool) -> list[Issue]:
    issues = []
    namespace = placed.obj.namespace
    if namespace and namespace not in SYSTEM_NAMESPACES:
        creator = namespaces.get(namespace)
        if creator is None:
            issues.append(placed.issue("metadata.namespace", f"namespace {namespace} is created by no release "
                                                             "or eksml object"))
        elif creator != placed.release and creator not in placed.before:
            issues.append(placed.issue("metadata.namespace", f"namespace {namespace} is created by {creator}, "
                                                             f"which is not installed before {placed.release}"))
    annotations = (placed.obj.body.get("metadata") or {}).get("annotations") or {}
    if placed.obj.kind.endswith("WebhookConfiguration") and _INJECT_CA in annotations:
        if not cert_manager_on:
            issues.append(placed.issue("metadata.annotations", "its certificate comes from cert-manager, which "
                                                               "is not enabled"))
        elif placed.release != CERT_MANAGER and CERT_MANAGER not in placed.before:
            issues.append(placed.issue("metadata.annotations", f"its certificate comes from cert-manager, which is "
                                                               f"not installed before {placed.release}"))
    return issues


def check_objects(objects: list[Placed], kube_version: str,
                  release_namespaces: Optional[dict[str, str]] = None) -> list[Issue]:
    """Every issue over the whole platform (empty when all is well)."""
    crds = crd_index(objects)
    namespaces = dict(release_namespaces or {})  # helm install --create-namespace creates these
    for placed in objects:
        if placed.obj.kind == "Namespace":
            namespaces.setdefault(placed.obj.name, placed.release)
    cert_manager_on = any(p.release == CERT_MANAGER for p in objects)
    issues: list[Issue] = []
    for placed in objects:
        if group_of(placed.obj.body) in BUILTIN_GROUPS:
            issues += builtin_issues(placed, kube_version)
        else:
            issues += custom_resource_issues(placed, crds)
        issues += order_issues(placed, namespaces, cert_manager_on)
    return issues
