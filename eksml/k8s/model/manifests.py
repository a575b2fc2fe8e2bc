"""Small builders for manifest fragments every component uses."""

from __future__ import annotations

from typing import Any, Optional

from eksml.k8s.model.records import Manifest, ObjectRef

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
OBJECTS_DIR = "objects"
MANIFESTS_DIR = "manifests"
VALUES_SUFFIX = ".values.yaml"


def values_file(component: str) -> str:
    return f"{component}{VALUES_SUFFIX}"


def manifest_file(release: str) -> str:
    """Where a render writes Helm's full manifest of a release, relative to the render directory."""
    return f"{MANIFESTS_DIR}/{release}.yaml"


def object_path(component: str, manifest: Manifest) -> str:
    """Where a render writes an owned object, relative to the render directory."""
    ref = ObjectRef.of(manifest)
    parts = [ref.kind.lower(), *([ref.namespace] if ref.namespace else []), ref.name]
    return f"{OBJECTS_DIR}/{component}/{'.'.join(parts)}.yaml"


def metadata(name: str, namespace: Optional[str] = None, labels: Optional[dict[str, str]] = None,
             annotations: Optional[dict[str, str]] = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = {MANAGED_BY_LABEL: "eksml", **(labels or {})}
    if annotations:
        meta["annotations"] = annotations
    return meta


def tolerations_for(taints) -> list[dict[str, str]]:
    """Tolerations that match these taints exactly (key, value, effect)."""
    result = []
    for taint in taints:
        toleration = {"key": taint.key, "operator": "Equal" if taint.value is not None else "Exists",
                      "effect": taint.effect}
        if taint.value is not None:
            toleration["value"] = taint.value
        result.append(toleration)
    return result


def granted_role(name: str, namespace: Optional[str], rules: list[dict[str, Any]], account: str,
                 account_namespace: str) -> list[Manifest]:
    """A Role (a ClusterRole when `namespace` is None) and its binding to one service account."""
    kind = "Role" if namespace else "ClusterRole"
    rbac = "rbac.authorization.k8s.io"
    return [
        {"apiVersion": f"{rbac}/v1", "kind": kind, "metadata": metadata(name, namespace), "rules": rules},
        {"apiVersion": f"{rbac}/v1", "kind": f"{kind}Binding", "metadata": metadata(name, namespace),
         "roleRef": {"apiGroup": rbac, "kind": kind, "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": account_namespace}]},
    ]


def synced_objects(manifests) -> list[ObjectRef]:
    """What ExternalSecrets among `manifests` will create (a Secret, or the object their target's
    `manifest` names): a release reading them must wait."""
    refs = []
    for manifest in manifests:
        if manifest.get("kind") == "ExternalSecret":
            target = (manifest.get("spec") or {}).get("target") or {}
            name = target.get("name") or manifest["metadata"]["name"]
            made = target.get("manifest") or {"apiVersion": "v1", "kind": "Secret"}
            refs.append(ObjectRef(made["apiVersion"], made["kind"], name, manifest["metadata"].get("namespace")))
    return refs
