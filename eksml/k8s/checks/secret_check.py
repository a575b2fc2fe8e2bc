"""No secret in any rendered file: a Secret object (from a chart or owned by eksml) may carry data
only under the keys listed here, each with why it holds no credential. Everything else must come
from an ExternalSecret (AWS Secrets Manager, or an in-cluster generator) or from cert-manager, so
neither the render directory nor the gitops folder Argo CD reads from git ever holds key material.

To allow a key, add one line to ALLOWED_SECRET_DATA with its reason.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.errors import Issue
from eksml.k8s.checks.object_checks import Placed

# (namespace, Secret name, data key) -> why the value is not a credential
ALLOWED_SECRET_DATA: Mapping[tuple[str, str, str], str] = {
    (KUBE_PROMETHEUS_STACK.namespace, f"alertmanager-{KUBE_PROMETHEUS_STACK.name}-alertmanager", "alertmanager.yaml"):
        "Alertmanager's routing configuration; eksml configures no receiver, so it carries no webhook or key",
}
# An Argo CD repository entry (label argocd.argoproj.io/secret-type: repository) eksml writes in
# gitops mode: where charts come from, no credential.
REPOSITORY_KEYS = frozenset({"type", "name", "url", "enableOCI"})
_REPOSITORY_LABEL = ("argocd.argoproj.io/secret-type", "repository")
_DATA_FIELDS = ("data", "stringData")


def unallowed_keys(namespace: str, body: dict) -> dict[str, list[str]]:
    """field (data / stringData) -> the keys of a v1 Secret that carry a value eksml did not allow."""
    if body.get("kind") != "Secret" or body.get("apiVersion") != "v1":
        return {}
    meta = body.get("metadata") or {}
    name = str(meta.get("name", ""))
    labels = meta.get("labels") or {}
    repository = labels.get(_REPOSITORY_LABEL[0]) == _REPOSITORY_LABEL[1]
    found = {}
    for field in _DATA_FIELDS:
        keys = sorted(k for k, v in (body.get(field) or {}).items() if v not in (None, "")
                      and (namespace, name, k) not in ALLOWED_SECRET_DATA
                      and not (repository and k in REPOSITORY_KEYS))
        if keys:
            found[field] = keys
    return found


def secret_message(namespace: str, name: str, keys: list[str]) -> str:
    return (f"Secret {namespace}/{name} would write {', '.join(keys)} into the rendered files (and the gitops "
            "folder); deliver it through an ExternalSecret or cert-manager, or add the key with its reason to "
            "ALLOWED_SECRET_DATA if it is no credential")


def secret_data_issues(objects: Sequence[Placed], release_namespaces: Mapping[str, str]) -> list[Issue]:
    issues = []
    for placed in objects:
        namespace = placed.obj.namespace or release_namespaces.get(placed.release, "default")
        for field, keys in unallowed_keys(namespace, placed.obj.body).items():
            issues.append(placed.issue(field, secret_message(namespace, placed.obj.name, keys)))
    return issues
