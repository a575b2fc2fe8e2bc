"""Every rendered object checked before anything is applied: built-in kinds against the Kubernetes
OpenAPI schema of the environment's version (offline, kubernetes-validate), custom resources against
the CRD a rendered chart installs (strictly), and the order: a CRD, a namespace, cert-manager must
come from the same or an earlier release than what needs them.

Issues name the release's manifest as the file and `<Kind namespace/name>.<field>` as the path.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Optional

import jsonschema

from eksml.catalog.addon_apis import addon_crds, addon_release
from eksml.charts.kube_yaml import ManifestObject
from eksml.components.cert_manager import CERT_MANAGER as CERT_MANAGER_SPEC
from eksml.errors import Issue
from eksml.k8s.checks.clean_memo import known_clean, remember_clean, validation_key
from eksml.k8s.checks.crd_schema import custom_resource_errors, field_path

BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "scheduling.k8s.io",
    "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io", "coordination.k8s.io",
    "apiextensions.k8s.io", "apiregistration.k8s.io", "certificates.k8s.io", "discovery.k8s.io", "node.k8s.io",
    "flowcontrol.apiserver.k8s.io", "events.k8s.io", "resource.k8s.io",
})
# Namespaces every EKS cluster has before anything is installed.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
CERT_MANAGER = CERT_MANAGER_SPEC.name
MAX_ISSUES_PER_OBJECT = 5
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


@functools.lru_cache(maxsize=None)
def _schema_version(kube_version: str) -> str:
    from kubernetes_validate.utils import all_versions, major_minor

    known = all_versions()
    older = [v for v in known if tuple(map(int, major_minor(v).split("."))) <= tuple(map(int, kube_version.split(".")))]
    return (older or known)[-1]


@functools.lru_cache(maxsize=None)
def _definitions(schema_dir: str) -> Any:
    from kubernetes_validate.utils import schema_contents

    return schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", schema_dir)


@functools.lru_cache(maxsize=None)
def builtin_validator(kube_version: str, api_version: str, kind: str) -> Optional[jsonschema.Validator]:
    """kubernetes-validate's strict schema of one kind, built once (its own validate() rereads all
    definitions per object, which made a whole platform take seconds)."""
    from kubernetes_validate.utils import schema_contents
    from referencing import Registry, Resource

    schema_dir = f"v{_schema_version(kube_version)}-local-strict"
    short = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{short}.json", kube_version)
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(_definitions(schema_dir)) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def builtin_issues(placed: Placed, kube_version: str) -> list[Issue]:
    body = placed.obj.body
    validator = builtin_validator(kube_version, str(body.get("apiVersion")), placed.obj.kind)
    if validator is None:
        return [placed.issue("apiVersion", f"Kubernetes {kube_version} serves no {placed.obj.kind} in "
                                           f"{body.get('apiVersion')}")]
    key = validation_key(f"{kube_version} {body.get('apiVersion')} {placed.obj.kind}", body)
    if known_clean(key):
        return []
    issues = []
    for error in list(validator.iter_errors(body))[:MAX_ISSUES_PER_OBJECT]:
        for leaf in _leaves(error):
            message = leaf.message if len(leaf.message) <= 300 else leaf.message[:300] + "..."
            if leaf.validator == "additionalProperties":
                message = f"unknown field {message.split('(')[-1].rstrip(')')} (not in Kubernetes {kube_version})"
            issues.append(placed.issue(field_path(leaf.absolute_path), message))
    if not issues:
        remember_clean(key)
    return issues


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The most specific cause: `oneOf`/`anyOf` failures hide the real one among their context."""
    if not error.context:
        return [error]
    best = jsonschema.exceptions.best_match(error.context)
    return [best] if best is not None else [error]


def crd_index(objects: list[Placed]) -> dict[tuple[str, str], Placed]:
    """(group, kind) -> the CRD and where it is installed; the first installer wins."""
    found: dict[tuple[str, str], Placed] = {}
    for placed in objects:
        if placed.obj.kind == "CustomResourceDefinition":
            spec = placed.obj.body.get("spec") or {}
            found.setdefault((spec.get("group", ""), (spec.get("names") or {}).get("kind", "")), placed)
    return found


def addon_crd_index() -> dict[tuple[str, str], Placed]:
    """The cluster add-ons' CRDs, each from its add-on's release (which every placed object has `before`)."""
    return {(crd["spec"]["group"], crd["spec"]["names"]["kind"]):
            Placed(addon_release(addon), ManifestObject(addon, crd), frozenset(), f"the cluster stack's {addon} add-on")
            for addon, crds in addon_crds().items() for crd in crds}


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
    crds = {**addon_crd_index(), **crd_index(objects)}
    namespaces: dict[str, str] = {}
    for placed in objects:
        if placed.obj.kind == "Namespace":
            namespaces.setdefault(placed.obj.name, placed.release)
    for release, namespace in (release_namespaces or {}).items():  # helm install --create-namespace
        namespaces.setdefault(namespace, release)
    cert_manager_on = any(p.release == CERT_MANAGER for p in objects)
    issues: list[Issue] = []
    for placed in objects:
        if group_of(placed.obj.body) in BUILTIN_GROUPS:
            issues += builtin_issues(placed, kube_version)
        else:
            issues += custom_resource_issues(placed, crds)
        issues += order_issues(placed, namespaces, cert_manager_on)
    return issues
