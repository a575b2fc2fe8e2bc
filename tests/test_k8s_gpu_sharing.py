"""The GPU operator's configuration, pool by pool, against the catalog and the upstream formats."""

from __future__ import annotations

import copy
from collections import Counter

import jsonschema
import pytest
import yaml

from eksml.outputs import predict_outputs
from eksml.catalog import load_catalog
from eksml.config import load_environment
from eksml.config.models import Environment, PoolKind
from eksml.gpu.sharing import DEVICE_PLUGIN_CONFIG_LABEL, MIG_CONFIG_LABEL, sharing_labels
from eksml.k8s.model.gpu_config import DEVICE_PLUGIN_CONFIGMAP, MIG_PARTED_CONFIGMAP
from eksml.k8s.model.platform import build_platform
from eksml.k8s.model.pools import pool_gpu
from eksml.contract.outputs import AwsOutputs

from shared_data import UPSTREAM_DIR
from shipped import SHIPPED, shipped_data, with_chart_llm

UPSTREAM = UPSTREAM_DIR / "gpu-operator"
DEV = with_chart_llm(shipped_data("dev"))


def operator(env: Environment):
    platform = build_platform(env, predict_outputs(env))
    component = platform.component("gpu-operator")
    maps = {m["metadata"]["name"]: m for m in component.prerequisites if m["kind"] == "ConfigMap"}
    plugin = {key: yaml.safe_load(text) for key, text in maps[DEVICE_PLUGIN_CONFIGMAP]["data"].items()}
    mig = yaml.safe_load(maps[MIG_PARTED_CONFIGMAP]["data"]["config.yaml"])
    return platform, component.values, plugin, mig


def upstream_mig_parted() -> dict:
    return yaml.safe_load((UPSTREAM / "mig-manager" / "default-mig-parted-config.config.yaml").read_text())


@pytest.mark.parametrize("env_name", SHIPPED)
def test_each_gpu_pool_gets_exactly_its_own_config(env_name):
    env = load_environment(env_name)
    platform, values, plugin, mig = operator(env)
    targets = {p.name: p for p in platform.pools if p.source == "node group"}
    time_slicing = {n: p for n, p in env.node_pools.items() if p.kind is PoolKind.gpu_time_slicing}
    mig_pools = {n: p for n, p in env.node_pools.items() if p.kind is PoolKind.gpu_mig}
    assert time_slicing and mig_pools

    # The keys are exactly the label values the AWS layer puts on those pools' nodes, one per pool.
    plugin_keys = {sharing_labels(n, p)[DEVICE_PLUGIN_CONFIG_LABEL]: n for n, p in time_slicing.items()}
    assert set(plugin) - {"default"} == set(plugin_keys)
    mig_keys = {sharing_labels(n, p)[MIG_CONFIG_LABEL]: n for n, p in mig_pools.items()}
    assert set(mig["mig-configs"]) - {"all-disabled"} == set(mig_keys)
    for name in env.node_pools:  # the scheduler's view of each pool carries the same label
        assert sharing_labels(name, env.node_pools[name]).items() <= targets[name].label_map.items()
    for label_value, name in plugin_keys.items():
        others = [n for n in env.node_pools if n != name]
        assert all(targets[o].label_map.get(DEVICE_PLUGIN_CONFIG_LABEL) != label_value for o in others)

    assert values["devicePlugin"]["config"]["name"] == DEVICE_PLUGIN_CONFIGMAP
    assert values["devicePlugin"]["config"]["default"] in plugin
    assert values["migManager"]["config"]["name"] == MIG_PARTED_CONFIGMAP
    assert values["migManager"]["config"]["default"] in mig["mig-configs"]


@pytest.mark.parametrize("env_name", SHIPPED)
def test_time_slicing_replicas_match_the_environment(env_name):
    env = load_environment(env_name)
    _, _, plugin, _ = operator(env)
    for name, pool in env.node_pools.items():
        if pool.kind is not PoolKind.gpu_time_slicing:
            continue
        sharing = plugin[sharing_labels(name, pool)[DEVICE_PLUGIN_CONFIG_LABEL]]["sharing"]["timeSlicing"]
        assert sharing["resources"] == [{"name": "nvidia.com/gpu", "replicas": pool.time_slicing.replicas}]
        assert sharing["failRequestsGreaterThanOne"] is True
        assert sharing["renameByDefault"] is False  # the resource stays nvidia.com/gpu


def test_time_slicing_config_has_the_upstream_plugin_config_shape():
    env = load_environment("dev")
    _, _, plugin, _ = operator(env)
    example = yaml.safe_load((UPSTREAM / "device-plugin" / "plugin-config.yaml").read_text())
    ours = plugin["a100-timeslice"]
    assert ours["version"] == example["version"]
    upstream_keys = set(example["sharing"]["timeSlicing"])
    # failRequestsGreaterThanOne is a documented device-plugin option the example leaves out.
    assert set(ours["sharing"]["timeSlicing"]) - upstream_keys == {"failRequestsGreaterThanOne"}
    assert set(ours["sharing"]["timeSlicing"]["resources"][0]) == set(example["sharing"]["timeSlicing"]["resources"][0])


def _entry_schema_from_upstream(upstream: dict) -> dict:
    """The shape every mig-configs entry has in NVIDIA's default config, as a JSON schema."""
    keys = {key for entries in upstream["mig-configs"].values() for entry in entries for key in entry}
    assert keys == {"devices", "mig-enabled", "mig-devices", "device-filter"}
    return {
        "type": "object",
        "required": ["devices", "mig-enabled"],
        "additionalProperties": False,
        "properties": {
            "devices": {"anyOf": [{"const": "all"}, {"type": "array", "items": {"type": "integer"}}]},
            "mig-enabled": {"type": "boolean"},
            "mig-devices": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}},
            "device-filter": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        },
    }


@pytest.mark.parametrize("env_name", SHIPPED)
def test_mig_parted_config_matches_the_upstream_format_and_the_pool_layout(env_name):
    env = load_environment(env_name)
    catalog = load_catalog()
    _, _, _, mig = operator(env)
    upstream = upstream_mig_parted()
    assert mig["version"] == upstream["version"] and set(mig) == set(upstream)
    entry_schema = _entry_schema_from_upstream(upstream)
    for entries in upstream["mig-configs"].values():  # the schema describes NVIDIA's own file
        for entry in entries:
            jsonschema.validate(entry, entry_schema)
    assert mig["mig-configs"]["all-disabled"] == upstream["mig-configs"]["all-disabled"]
    upstream_profiles = {p for entries in upstream["mig-configs"].values() for e in entries for p in e.get("mig-devices", {})}
    for name, pool in env.node_pools.items():
        if pool.kind is not PoolKind.gpu_mig:
            continue
        entries = mig["mig-configs"][sharing_labels(name, pool)[MIG_CONFIG_LABEL]]
        for entry in entries:
            jsonschema.validate(entry, entry_schema)
        assert entries == [{"devices": "all", "mig-enabled": True, "mig-devices": dict(Counter(pool.mig.layout))}]
        gpu = pool_gpu(pool, catalog)
        for profile in entries[0]["mig-devices"]:
            assert catalog.mig_profile(gpu.id, profile) is not None, f"{profile} is not a MIG profile of {gpu.id}"
            assert profile in upstream_profiles, f"{profile} is unknown to mig-parted's default config"
        assert catalog.place_mig_layout(gpu.id, pool.mig.layout) is not None


def test_mig_configmap_key_is_the_one_mig_manager_reads():
    upstream = yaml.safe_load((UPSTREAM / "mig-manager" / "0400_configmap.yaml").read_text())
    env = load_environment("dev")
    platform = build_platform(env, predict_outputs(env))
    ours = next(m for m in platform.component("gpu-operator").prerequisites if m["metadata"]["name"] == MIG_PARTED_CONFIGMAP)
    assert set(ours["data"]) == set(upstream["data"]) == {"config.yaml"}


def test_operator_values_reach_the_rendered_clusterpolicy(dev_render):
    """The chart copies these values into the ClusterPolicy, which the render checks strictly against
    the CRD in the chart's crds/; here: what we set is what the operator will read."""
    env = load_environment("dev")
    _, values, _, _ = operator(env)
    [policy] = [o.body for o in dev_render.charts.release("gpu-operator").objects if o.kind == "ClusterPolicy"]
    spec = policy["spec"]
    assert spec["mig"]["strategy"] == values["mig"]["strategy"] == "mixed"
    assert spec["devicePlugin"]["config"]["name"] == values["devicePlugin"]["config"]["name"]
    assert spec["migManager"]["config"]["name"] == values["migManager"]["config"]["name"]
    assert spec["daemonsets"]["tolerations"] == values["daemonsets"]["tolerations"]
    assert spec["driver"]["enabled"] is False and spec["toolkit"]["enabled"] is False  # the AMI has both
    assert spec["dcgmExporter"]["enabled"] is True


def test_mig_strategy_is_mixed_unless_every_mig_pool_is_single():
    env = load_environment("dev")
    assert operator(env)[1]["mig"]["strategy"] == "mixed"
    data = copy.deepcopy(DEV)
    data["node_pools"]["a100-mig"]["mig"] = {"strategy": "single", "layout": ["3g.40gb", "3g.40gb"]}
    data["genai"]["chatqna"]["llm_gpu"] = {"count": 1}
    data["serving"]["models"]["mistral-7b"]["mig_profile"] = "3g.40gb"  # a profile of the new layout
    single = Environment.model_validate(data)
    platform, values, _, _ = operator(single)
    assert values["mig"]["strategy"] == "single"
    mig_pool = next(p for p in platform.pools if p.name == "a100-mig")
    assert mig_pool.resource_map == {"nvidia.com/gpu": 16}  # 8 GPUs x 2 MIG devices, exposed as whole GPUs


def test_operands_tolerate_every_gpu_pool_taint():
    env = load_environment("dev")
    _, values, _, _ = operator(env)
    tolerated = {(t["key"], t["effect"]) for t in values["daemonsets"]["tolerations"]}
    assert ("nvidia.com/gpu", "NoSchedule") in tolerated  # the chart's own default stays
    for pool in env.node_pools.values():
        if pool.kind.is_gpu:
            assert {(t.key, t.effect) for t in pool.taints} <= tolerated
    for pool in env.karpenter.node_pools.values():
        assert {(t.key, t.effect) for t in pool.taints} <= tolerated
    nfd = {(t["key"], t["effect"]) for t in values["node-feature-discovery"]["worker"]["tolerations"]}
    assert tolerated <= nfd
