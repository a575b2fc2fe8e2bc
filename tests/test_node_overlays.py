"""NodeOverlays for Karpenter pools that share GPUs: valid against the karpenter chart's CRD, with the
extended-resource counts the device plugin will advertise, and the chart's feature gate on."""

from __future__ import annotations

import copy

import pytest
import yaml

from eksml.charts.kube_yaml import ManifestObject
from eksml.config.models import Environment
from eksml.outputs import predict_outputs
from eksml.k8s.checks.crd_schema import custom_resource_errors
from eksml.k8s.checks.object_checks import Placed, crd_index
from eksml.k8s.model.platform import build_platform
from eksml.paths import ENVIRONMENTS_DIR

DEV = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())


def with_overflow(**pools) -> Environment:
    data = copy.deepcopy(DEV)
    for name, (fixed, families) in pools.items():
        data["karpenter"]["node_pools"][name] = {
            "instance_families": families, "capacity_types": ["on-demand"], "gpu_limit": 64, "overflow_for": fixed}
    return Environment.model_validate(data)


def karpenter(env: Environment):
    return build_platform(env, predict_outputs(env)).component("karpenter")


def overlays(env: Environment) -> dict[str, dict]:
    return {m["metadata"]["name"]: m for m in karpenter(env).objects if m["kind"] == "NodeOverlay"}


def test_shipped_dev_has_no_shared_karpenter_pool_so_no_overlay_and_no_gate():
    env = Environment.model_validate(DEV)
    assert overlays(env) == {}
    assert "nodeOverlay" not in karpenter(env).values["settings"].get("featureGates", {})


def test_overlays_carry_the_slices_of_each_instance_type():
    env = with_overflow(ts=("a100-timeslice", ["p4d"]), mig=("a100-mig", ["p4de"]))
    found = overlays(env)
    assert set(found) == {"eksml-ts-p4d-24xlarge", "eksml-mig-p4de-24xlarge"}
    # p4d.24xlarge: 8 A100 40GB x 4 time-slicing replicas = 32
    assert found["eksml-ts-p4d-24xlarge"]["spec"]["capacity"] == {"nvidia.com/gpu": "32"}
    # p4de.24xlarge: 8 GPUs x layout [3g.40gb, 2g.20gb, 1g.10gb, 1g.10gb]: 8, 8 and 16
    assert found["eksml-mig-p4de-24xlarge"]["spec"]["capacity"] == {
        "nvidia.com/mig-1g.10gb": "16", "nvidia.com/mig-2g.20gb": "8", "nvidia.com/mig-3g.40gb": "8"}
    requirements = {r["key"]: r["values"] for r in found["eksml-ts-p4d-24xlarge"]["spec"]["requirements"]}
    assert requirements == {"karpenter.sh/nodepool": ["ts"], "node.kubernetes.io/instance-type": ["p4d.24xlarge"]}
    assert karpenter(env).values["settings"]["featureGates"]["nodeOverlay"] is True


def test_a_mig_layout_change_changes_the_overlay():
    data = copy.deepcopy(DEV)
    data["node_pools"]["a100-mig"]["mig"]["layout"] = ["3g.40gb", "3g.40gb"]
    data["serving"]["models"]["mistral-7b"]["mig_profile"] = "3g.40gb"
    data["karpenter"]["node_pools"]["mig"] = {"instance_families": ["p4de"], "capacity_types": ["on-demand"],
                                               "gpu_limit": 16, "overflow_for": "a100-mig"}
    (overlay,) = overlays(Environment.model_validate(data)).values()
    assert overlay["spec"]["capacity"] == {"nvidia.com/mig-3g.40gb": "16"}  # 8 GPUs x 2


def test_the_feature_gate_is_the_charts():
    import tarfile

    from shared_data import SHARED_DIR

    chart = SHARED_DIR / "charts" / "karpenter-1.14.1.tgz"  # the version the shipped environments pin
    with tarfile.open(chart) as archive:
        values = yaml.safe_load(archive.extractfile("karpenter/values.yaml").read())
    assert values["settings"]["featureGates"]["nodeOverlay"] is False  # alpha: off unless eksml turns it on


def test_overlays_validate_against_the_charts_crd(dev_render):
    crds = [Placed(r.name, o, frozenset(), "manifests") for r in dev_render.charts.releases for o in r.objects
            if o.kind == "CustomResourceDefinition"]
    crd = crd_index(crds)[("karpenter.sh", "NodeOverlay")].obj.body
    env = with_overflow(ts=("a100-timeslice", ["p4d"]), mig=("a100-mig", ["p4de"]))
    for overlay in overlays(env).values():
        assert list(custom_resource_errors(overlay, crd, "v1alpha1")) == []
    broken = copy.deepcopy(next(iter(overlays(env).values())))
    broken["spec"]["capacity"] = {"cpu": "4"}  # the CRD allows extended resources only
    broken["spec"]["weight"] = "heavy"
    assert dict(custom_resource_errors(broken, crd, "v1alpha1"))


def test_gpu_nodepools_are_consolidated_only_when_empty():
    env = Environment.model_validate(DEV)
    pools = {m["metadata"]["name"]: m["spec"]["disruption"] for m in karpenter(env).objects if m["kind"] == "NodePool"}
    assert pools["gpu-workloads"]["consolidationPolicy"] == "WhenEmpty"  # g5/g6e/p4d: GPU nodes
    assert pools["training-workloads"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"  # c5/m5/r5: CPU only
