"""VolumeSnapshots of EBS volumes: the default VolumeSnapshotClass, its API from the cluster stack's
snapshot-controller add-on, and the object check that holds it to that API."""

from __future__ import annotations

import pytest
from shipped import SHIPPED

from eksml.catalog.addon_apis import addon_crds, addon_releases
from eksml.charts.kube_yaml import ManifestObject
from eksml.config import load_environment
from eksml.k8s.checks.object_checks import Placed, check_objects
from eksml.k8s.model.platform import build_platform
from eksml.outputs import predict_outputs

KIND = "VolumeSnapshotClass"


def snapshot_classes(env_name: str) -> list[dict]:
    env = load_environment(env_name)
    platform = build_platform(env, predict_outputs(env))
    return [m for c in platform.components for m in (*c.prerequisites, *c.objects) if m["kind"] == KIND]


@pytest.mark.parametrize("env_name", SHIPPED)
def test_every_environment_has_one_default_ebs_snapshot_class_kept_where_it_is_protected(env_name):
    [found] = snapshot_classes(env_name)
    assert found["driver"] == "ebs.csi.aws.com"
    assert found["metadata"]["annotations"] == {"snapshot.storage.kubernetes.io/is-default-class": "true"}
    assert found["deletionPolicy"] == ("Retain" if load_environment(env_name).protected else "Delete")


def test_the_add_on_that_serves_the_api_is_installed_by_the_cluster_stack(synthesized_environments):
    for name in (n for n in SHIPPED if not load_environment(n).emulator):  # the emulator has no add-ons
        installed = {a["addon_name"] for a in synthesized_environments[name].resources("cluster", "aws_eks_addon").values()}
        assert set(addon_crds()) <= installed, name


def _placed(body: dict) -> Placed:
    return Placed("storage-classes", ManifestObject("eksml", body), addon_releases(), "objects/storage-classes")


@pytest.mark.parametrize("change, field, words", [
    ({"deletionPolicy": "Keep"}, "deletionPolicy", "'Keep' is not one of ['Delete', 'Retain']"),
    ({"drivr": "ebs.csi.aws.com"}, "", "unknown field"),
    ({"parameters": {"tagSpecification_1": 5}}, "parameters.tagSpecification_1", "5 is not of type 'string'"),
])
def test_a_snapshot_class_is_checked_against_the_add_ons_api(change, field, words):
    [good] = snapshot_classes("dev")
    assert check_objects([_placed(good)], "1.35") == []
    [issue] = check_objects([_placed({**good, **change})], "1.35")
    assert issue.path == f"{KIND} ebs-snapshots" + (f".{field}" if field else "") and words in issue.message, issue


def test_without_the_add_on_no_release_serves_the_api(monkeypatch):
    import eksml.k8s.checks.object_checks as object_checks

    [good] = snapshot_classes("dev")
    monkeypatch.setattr(object_checks, "addon_crds", lambda: {})
    [issue] = check_objects([_placed(good)], "1.35")
    assert "no release installs a CRD for VolumeSnapshotClass" in issue.message
