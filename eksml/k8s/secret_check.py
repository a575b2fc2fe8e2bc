"""No secret in any rendered file: a Secret object (from a chart or owned by eksml) may carry data
only under the keys listed here, each with why it holds no credential. Everything else must come
from an ExternalSecret (AWS Secrets Manager, or an in-cluster generator) or from cert-manager, so
neither the render directory nor the gitops folder Argo CD reads from git ever holds key material.

To allow a key, add one line to ALLOWED_SECRET_DATA with its reason.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from eksml.errors import Issue
from eksml.k8s.object_checks import Placed

# (namespace, Secret name, data key) -> why the value is not a credential
ALLOWED_SECRET_DATA: Mapping[tuple[str, str, str], str] = {
    ("monitoring", "alertmanager-kube-prometheus-stack-alertmanager", "alertmanager.yaml"):
        "Alertmanager's routing configuration; eksml configures no receiver, so it carries no webhook or key",
}
_DATA_FIELDS = ("data", "stringData")


def secret_data_issues(objects: Sequence[Placed], release_namespaces: Mapping[str, str]) -> list[Issue]:
    issues = []
    for placed in objects:
        if placed.obj.kind != "Secret" or placed.obj.body.get("apiVersion") != "v1":
            continue
        namespace = placed.obj.namespace or release_namespaces.get(placed.release, "default")
        for field in _DATA_FIELDS:
            values = placed.obj.body.get(field) or {}
            keys = sorted(k for k, v in values.items() if v not in (None, "")
                          and (namespace, placed.obj.name, k) not in ALLOWED_SECRET_DATA)
            if keys:
                issues.append(placed.issue(field, (
                    f"Secret {namespace}/{placed.obj.name} would write {', '.join(keys)} into the rendered files "
                    "(and the gitops folder); deliver it through an ExternalSecret or cert-manager, or add the "
                    "key with its reason to ALLOWED_SECRET_DATA if it is no credential")))
    return issues
