"""In gitops mode `eksml status --context` reports each Argo CD Application's sync and health; the
cluster is a stand-in lister that answers as the Kubernetes API would (CustomObjectsApi items)."""

from __future__ import annotations

import pytest

from eksml.outputs import predict_outputs
from eksml.config import load_environment
from eksml.errors import StageError
from eksml.k8s.model.applications import application_status
from eksml.k8s.rendering.gitops import gitops_files
from eksml.k8s.model.platform import build_platform
from eksml.contract.outputs import AwsOutputs


def application(name: str, sync: str | None, health: str | None, revision: str = "abc123def4567") -> dict:
    status = {}
    if sync is not None:
        status["sync"] = {"status": sync, "revision": revision}
    if health is not None:
        status["health"] = {"status": health}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name}, "status": status}


def test_each_application_with_its_sync_and_health():
    env = load_environment("staging")
    asked = []

    def lister(namespace, selector):
        asked.append((namespace, selector))
        return [application("mlflow", "Synced", "Healthy"), application("karpenter", "OutOfSync", "Degraded"),
                application("kserve", None, None)]

    statuses = application_status(env, None, None, list_applications=lister)
    assert asked == [("argocd", "eksml.io/environment=staging")]
    by_name = {s.name: s for s in statuses}
    assert [s.name for s in statuses] == sorted(by_name)
    assert by_name["mlflow"].healthy
    assert not by_name["karpenter"].healthy and by_name["karpenter"].health == "Degraded"
    assert (by_name["kserve"].sync, by_name["kserve"].health) == ("Unknown", "Unknown")


def test_the_applications_eksml_renders_carry_the_label_status_selects_by():
    env = load_environment("staging")
    platform = build_platform(env, predict_outputs(env))
    files = gitops_files(env, platform, {r.name: [] for r in platform.releases if r.patches})
    applications = [m for m in files.values() if isinstance(m, dict) and m.get("kind") == "Application"]
    assert applications
    for manifest in applications:
        assert manifest["metadata"]["labels"]["eksml.io/environment"] == "staging"
        assert manifest["metadata"]["namespace"] == "argocd"


def test_no_application_or_an_unreachable_cluster_is_an_operational_error():
    env = load_environment("staging")
    with pytest.raises(StageError) as none:
        application_status(env, None, None, list_applications=lambda namespace, selector: [])
    assert none.value.stage == "status" and "no Argo CD Application of 'staging'" in str(none.value)

    def unreachable(namespace, selector):
        raise ConnectionError("connection refused")

    with pytest.raises(StageError) as caught:
        application_status(env, None, None, list_applications=unreachable)
    assert "cannot list Argo CD Applications: connection refused" in str(caught.value)
