"""The written manifests place every namespaced object in its release's namespace (as helm install
does), leave cluster-scoped and unknown kinds alone, and change nothing else."""

from __future__ import annotations

import copy

import pytest

from eksml.charts.kube_yaml import ManifestObject, read_manifest
from eksml.k8s.model.manifests import manifest_file
from eksml.k8s.rendering.release_namespace import namespaced_kinds, with_release_namespace

CRDS = [ManifestObject("crd", {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "spec": {"group": "example.io", "scope": scope, "names": {"kind": kind}},
}) for kind, scope in (("Widget", "Namespaced"), ("ClusterWidget", "Cluster"))]
CUSTOM = namespaced_kinds(CRDS)


def test_every_written_chart_object_says_where_it_lands(dev_render):
    for release in dev_render.charts.releases:
        written = read_manifest((dev_render.out_dir / manifest_file(release.name)).read_text())
        assert len(written) == len(release.objects), release.name
        for before, after in zip(release.objects, written):
            expected = copy.deepcopy(before.body)
            if after.namespace and not before.namespace:
                expected["metadata"]["namespace"] = release.result.namespace
            assert after.body == expected, f"{release.name}: {before}"
            cluster_scoped = before.kind in {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                                             "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
            if cluster_scoped:
                assert after.namespace is None, f"{release.name}: {before} is cluster-scoped"
            elif before.kind in {"Deployment", "Service", "ConfigMap", "ServiceAccount", "Role", "Job"}:
                assert after.namespace, f"{release.name}: {before} names no namespace"


@pytest.mark.parametrize(("text", "placed"), [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n", True),
    ("apiVersion: apps/v1\nkind: \"Deployment\"\nmetadata:\n    # a comment first\n    name: a\n", True),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: other\n", False),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", False),
    ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: a\n", False),
    ("apiVersion: example.io/v1\nkind: Widget\nmetadata:\n  name: a\n", True),
    ("apiVersion: example.io/v1\nkind: ClusterWidget\nmetadata:\n  name: a\n", False),
    ("apiVersion: unknown.io/v1\nkind: Gadget\nmetadata:\n  name: a\n", False),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    namespace: x\n", True),
])
def test_one_document(text, placed):
    result = with_release_namespace(text, "ns", CUSTOM)
    (obj,) = read_manifest(result)
    original = read_manifest(text)[0]
    assert (obj.namespace == "ns" and original.namespace is None) is placed
    if not placed:
        assert result == text


def test_each_document_of_a_stream_on_its_own():
    text = ("---\n# Source: a.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec: {}\n"
            "---\n# Source: b.yaml\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n---\n")
    objects = read_manifest(with_release_namespace(text, "ns", CUSTOM))
    assert [(o.kind, o.namespace) for o in objects] == [("Service", "ns"), ("Namespace", None)]
