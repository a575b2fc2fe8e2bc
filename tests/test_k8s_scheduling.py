"""The static scheduling check: GPU workloads must land on a pool that has what they ask for."""

from __future__ import annotations

import copy
import dataclasses
import shutil

import pytest
import yaml

from eksml.outputs import predict_outputs
from eksml.config import load_environment
from eksml.config.models import Environment
from eksml.errors import ConfigError
from eksml.k8s.model.platform import KubernetesLayer, build_platform
from eksml.k8s.rendering.render import render_platform
from eksml.k8s.checks.scheduling import check_scheduling, place, platform_workloads
from eksml.contract.outputs import AwsOutputs
from eksml.paths import HELM_VALUES_DIR
from shipped import SHIPPED, dev_with_chart_llm, shipped_data, with_chart_llm

DEV = with_chart_llm(shipped_data("dev"))


def unchecked_env(change) -> Environment:
    """An environment the loader's rules would reject: the scheduling check must stand on its own."""
    data = copy.deepcopy(DEV)
    change(data)
    return Environment.model_validate(data)


def with_values(platform: KubernetesLayer, component: str, change) -> KubernetesLayer:
    rendered = platform.component(component)
    values = copy.deepcopy(rendered.values)
    change(values)
    swapped = dataclasses.replace(rendered, values=values)
    return dataclasses.replace(platform, components=tuple(swapped if c.name == component else c for c in platform.components))


def llm_placement(platform: KubernetesLayer):
    workload = next(w for w in platform_workloads(platform) if w.name == "opea-chatqna: vllm")
    return place(workload, platform.pools)


@pytest.mark.parametrize("env_name", SHIPPED)
def test_shipped_llm_lands_on_its_mig_pool_only(env_name):
    env = load_environment(env_name)
    platform = build_platform(env, predict_outputs(env))
    placements = check_scheduling(platform)
    if env.genai.chatqna.llm_from_serving is not None:  # the chart runs no LLM of its own
        assert not [p for p in placements if p.workload.name.startswith("opea-chatqna: vllm")]
        return
    vllm = next(p for p in placements if p.workload.name == "opea-chatqna: vllm")
    assert vllm.pools == (env.genai.chatqna.llm_node_pool,)
    assert vllm.workload.gpu_requests == {"nvidia.com/mig-3g.40gb": 1}
    reasons = dict(vllm.rejections)
    assert any("asks for nvidia.com/mig-3g.40gb but the pool offers nvidia.com/gpu" in r for r in reasons["h100"])
    assert "taint gpu=h100:NoSchedule is not tolerated" in reasons["h100"]


def test_llm_asking_for_a_profile_outside_the_layout_is_rejected_and_nothing_is_written(tmp_path):
    env = unchecked_env(lambda d: d["genai"]["chatqna"].update(llm_gpu={"mig_profile": "4g.40gb"}))
    out = tmp_path / "render"
    with pytest.raises(ConfigError) as caught:
        render_platform(env, predict_outputs(env), out)
    assert not out.exists()
    [issue] = caught.value.issues
    assert (issue.file, issue.path) == ("opea-chatqna.values.yaml", "vllm")
    assert "workload opea-chatqna: vllm asks for nvidia.com/mig-4g.40gb: 1 and fits no pool" in issue.message
    assert ("a100-mig rejected: asks for nvidia.com/mig-4g.40gb but the pool offers nvidia.com/mig-1g.10gb x16, "
            "nvidia.com/mig-2g.20gb x8, nvidia.com/mig-3g.40gb x8 (MIG mixed") in issue.message
    for pool in env.node_pools:  # every pool considered is named with its reasons
        assert f"{pool} rejected:" in issue.message


def test_missing_toleration_is_caught():
    env = dev_with_chart_llm()
    platform = with_values(build_platform(env, predict_outputs(env)), "opea-chatqna",
                           lambda v: v["vllm"].update(tolerations=[]))
    with pytest.raises(ConfigError) as caught:
        check_scheduling(platform)
    [issue] = caught.value.issues
    assert "a100-mig rejected: taint gpu=mig:NoSchedule is not tolerated\n" in issue.message


def test_wrong_toleration_value_is_caught():
    env = dev_with_chart_llm()
    platform = with_values(build_platform(env, predict_outputs(env)), "opea-chatqna",
                           lambda v: v["vllm"].update(tolerations=[{"key": "gpu", "operator": "Equal", "value": "true",
                                                                   "effect": "NoSchedule"}]))
    assert llm_placement(platform).pools == ()
    platform = with_values(platform, "opea-chatqna",
                           lambda v: v["vllm"].update(tolerations=[{"key": "gpu", "operator": "Exists"}]))
    assert llm_placement(platform).pools == ("a100-mig",)


def test_selector_matching_no_pool_is_caught_through_an_overlay(tmp_path):
    values_dir = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, values_dir)
    (values_dir / "dev").mkdir()
    (values_dir / "dev" / "opea-chatqna.yaml").write_text("vllm:\n  nodeSelector:\n    workload-type: training\n")
    env = dev_with_chart_llm()
    with pytest.raises(ConfigError) as caught:
        render_platform(env, predict_outputs(env), tmp_path / "out", values_dir=values_dir)
    [issue] = caught.value.issues
    assert ("a100-mig rejected: nodeSelector workload-type=training does not match "
            "(the pool has workload-type=production-inference)\n") in issue.message
    assert "h100 rejected: nodeSelector eksml.io/pool=a100-mig does not match (the pool has eksml.io/pool=h100)" in issue.message
    assert not (tmp_path / "out").exists()


def test_required_node_affinity_is_evaluated():
    env = dev_with_chart_llm()
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "workload-type", "operator": "In", "values": ["research"]}]},
    ]}}}
    platform = with_values(build_platform(env, predict_outputs(env)), "opea-chatqna",
                           lambda v: v["vllm"].update(affinity=affinity))
    placement = llm_placement(platform)
    assert placement.pools == ()
    assert "required node affinity matches none of the pool's labels" in dict(placement.rejections)["a100-mig"]


def test_gpu_workload_without_selector_or_affinity_is_rejected():
    env = dev_with_chart_llm()
    platform = with_values(build_platform(env, predict_outputs(env)), "opea-chatqna",
                           lambda v: v["vllm"].pop("nodeSelector"))
    with pytest.raises(ConfigError) as caught:
        check_scheduling(platform)
    assert "has no nodeSelector or required node affinity" in caught.value.issues[0].message


def test_time_slicing_pool_refuses_more_than_one_replica_per_container():
    def change(data):
        data["genai"]["chatqna"].update(llm_node_pool="h100", llm_gpu={"count": 2})
    env = unchecked_env(change)
    with pytest.raises(ConfigError) as caught:
        check_scheduling(build_platform(env, predict_outputs(env)))
    assert ("h100 rejected: asks for 2 nvidia.com/gpu but time-slicing x2 gives a container at most 1 "
            "(failRequestsGreaterThanOne)") in caught.value.issues[0].message

    ok = unchecked_env(lambda d: d["genai"]["chatqna"].update(llm_node_pool="h100", llm_gpu={"count": 1}))
    platform = build_platform(ok, predict_outputs(ok))
    assert llm_placement(platform).pools == ("h100",)


def test_llm_on_a_pool_with_karpenter_overflow_can_use_both():
    def change(data):
        data["genai"]["chatqna"].update(llm_node_pool="a100-timeslice", llm_gpu={"count": 1})
        data["karpenter"]["node_pools"]["timeslice-overflow"] = {
            "instance_families": ["p4d"], "capacity_types": ["spot", "on-demand"], "overflow_for": "a100-timeslice",
            "taints": [{"key": "capacity", "value": "spot", "effect": "NoSchedule"}],
        }
    env = unchecked_env(change)
    platform = build_platform(env, predict_outputs(env))
    placement = llm_placement(platform)
    assert placement.pools == ("a100-timeslice", "timeslice-overflow")
    overflow = next(p for p in platform.pools if p.name == "timeslice-overflow")
    assert overflow.resource_map == {"nvidia.com/gpu": 32}  # p4d: 8 A100 x 4 time-slicing replicas


def test_operator_daemonsets_missing_a_pool_taint_is_caught():
    env = dev_with_chart_llm()
    platform = with_values(build_platform(env, predict_outputs(env)), "gpu-operator",
                           lambda v: v["daemonsets"].update(tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]))
    with pytest.raises(ConfigError) as caught:
        check_scheduling(platform)
    paths = {(i.path, i.message.split(" of pool ")[1].split(":")[0]) for i in caught.value.issues}
    assert paths == {("daemonsets.tolerations", "gpu-workloads")}  # the Karpenter GPU pool's nvidia.com/gpu taint


def test_owned_inference_services_are_checked_too():
    from eksml.k8s.checks.scheduling import workloads_in_manifest

    env = dev_with_chart_llm()
    platform = build_platform(env, predict_outputs(env))
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": "llama", "namespace": "inference"},
        "spec": {"predictor": {
            "nodeSelector": {"eksml.io/pool": "a100-mig"},
            "model": {"modelFormat": {"name": "huggingface"},
                      "resources": {"limits": {"nvidia.com/mig-2g.20gb": 1}}},
        }},
    }
    [workload] = workloads_in_manifest("inference", isvc)
    assert workload.source == "objects/inference/inferenceservice.inference.llama.yaml"
    assert workload.path == "spec.predictor" and workload.gpu_requests == {"nvidia.com/mig-2g.20gb": 1}
    assert place(workload, platform.pools).pools == ()  # no toleration for gpu=mig
    isvc["spec"]["predictor"]["tolerations"] = [{"key": "gpu", "operator": "Equal", "value": "mig", "effect": "NoSchedule"}]
    [workload] = workloads_in_manifest("inference", isvc)
    assert place(workload, platform.pools).pools == ("a100-mig",)
