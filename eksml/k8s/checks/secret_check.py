"""No secret in any rendered file: a Secret object (from a chart or owned by eksml) may carry data
only under the keys ALLOWED_SECRET_DATA lists, each with why it holds no credential. Everything
else must come from an ExternalSecret (AWS Secrets Manager, or an in-cluster generator) or from
cert-manager, so neither the render directory nor the gitops folder Argo CD reads from git ever
holds key material.

The rule itself (which keys may carry data) is eksml/k8s/model/secret_data.py; the render cache
uses it too, to keep secret material out of its folder.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from eksml.errors import Issue
from eksml.k8s.checks.object_checks import Placed
from eksml.k8s.model.secret_data import unallowed_keys


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
