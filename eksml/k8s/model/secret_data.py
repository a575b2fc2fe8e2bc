"""Which data a rendered Secret may carry: only keys listed here, each with why it holds no credential.

To allow a key, add one line to ALLOWED_SECRET_DATA with its reason. Used by the secret check (a
render that breaks the rule is refused) and by the render cache (such a render is never kept).
"""

from __future__ import annotations

from typing import Mapping

from eksml.components.monitoring import KUBE_PROMETHEUS_STACK

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
