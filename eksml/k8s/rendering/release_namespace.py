"""The written manifest of a release says where each object lands.

`helm install --namespace NS` puts every namespaced object that names no namespace into NS; `helm
template` leaves the field out. Written as Helm prints it, `kubectl apply -f` of the file (or a
reviewer's scanner) would place those objects in `default`. So the file gets `namespace: NS` on
every object whose kind is known to be namespaced: a built-in kind not in the cluster-scoped list,
or a custom kind whose CRD (from any release of the render) says `scope: Namespaced`. Unknown kinds
are left as they are. Only the text is touched, one line per object; nothing else changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from eksml.charts.kube_yaml import ManifestObject
from eksml.k8s.checks.object_checks import BUILTIN_GROUPS, group_of

# Built-in kinds that are not namespaced (Kubernetes API reference, "cluster-scoped" resources).
CLUSTER_SCOPED_BUILTINS = frozenset({
    "Namespace", "Node", "PersistentVolume", "ComponentStatus",
    "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "APIService",
    "StorageClass", "CSIDriver", "CSINode", "VolumeAttachment", "VolumeAttributesClass",
    "PriorityClass", "RuntimeClass", "IngressClass", "IPAddress", "ServiceCIDR",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
    "CertificateSigningRequest", "ClusterTrustBundle", "FlowSchema", "PriorityLevelConfiguration",
    "DeviceClass", "ResourceSlice", "SelfSubjectReview", "TokenReview", "SubjectAccessReview",
    "SelfSubjectAccessReview", "SelfSubjectRulesReview", "List",
})
_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$")
_TOP_FIELD = re.compile(r"^(apiVersion|kind):\s*[\"']?([^\"'\s#]+)")
_METADATA = re.compile(r"^metadata:\s*(?:#.*)?$")


def namespaced_kinds(objects: Iterable[ManifestObject]) -> frozenset[tuple[str, str]]:
    """(group, kind) of the custom kinds the rendered CRDs declare namespaced."""
    found = set()
    for obj in objects:
        if obj.kind != "CustomResourceDefinition":
            continue
        spec = obj.body.get("spec") or {}
        if spec.get("scope") == "Namespaced":
            found.add((str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))))
    return frozenset(found)


def is_namespaced(api_version: str, kind: str, custom: frozenset[tuple[str, str]]) -> bool:
    group = group_of({"apiVersion": api_version})
    if group in BUILTIN_GROUPS:
        return kind not in CLUSTER_SCOPED_BUILTINS
    return (group, kind) in custom


def with_release_namespace(manifest: str, namespace: str, custom: frozenset[tuple[str, str]]) -> str:
    """`manifest` with `namespace: <namespace>` on each namespaced object that names none."""
    lines = manifest.split("\n")
    out: list[str] = []
    start = 0
    for index in range(len(lines) + 1):
        if index == len(lines) or _SEPARATOR.match(lines[index]):
            out += _placed(lines[start:index], namespace, custom)
            if index < len(lines):
                out.append(lines[index])
            start = index + 1
    return "\n".join(out)


def _placed(document: list[str], namespace: str, custom: frozenset[tuple[str, str]]) -> list[str]:
    top = dict(m.groups() for m in map(_TOP_FIELD.match, document) if m)
    if not is_namespaced(top.get("apiVersion", ""), top.get("kind", ""), custom):
        return document
    at = next((i for i, line in enumerate(document) if _METADATA.match(line)), None)
    if at is None:  # no block-style metadata: left as Helm wrote it
        return document
    block = []
    for line in document[at + 1:]:
        if line.strip() and not line[0].isspace():
            break
        block.append(line)
    fields = [line for line in block if line.strip() and not line.lstrip().startswith("#")]
    if not fields:
        return document
    indent = fields[0][: len(fields[0]) - len(fields[0].lstrip())]
    if any(line.startswith(f"{indent}namespace:") for line in fields):
        return document
    return [*document[: at + 1], f"{indent}namespace: {namespace}", *document[at + 1:]]
