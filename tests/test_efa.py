"""EFA for training pools: typed and validated in the environment file, synthesized as launch-template
EFA interfaces (as many as the catalog says the type attaches) in a cluster placement group with a
self-referencing all-traffic security group, one zone's subnet, the device plugin on exactly those
nodes, and training pods that ask for the interfaces."""

from __future__ import annotations

import pytest

from eksml.catalog import load_catalog
from eksml.components.efa import AWS_EFA_DEVICE_PLUGIN, EFA_RESOURCE
from eksml.config import load_environment
from eksml.config.rules_efa import node_efa_interfaces
from eksml.contract.names import POOL_LABEL
from eksml.k8s.model.platform import build_platform
from eksml.outputs import predict_outputs

ENV = load_environment("dev")


def _by_name(resources: dict[str, dict], name: str) -> tuple[str, dict]:
    [found] = [(key, body) for key, body in resources.items() if body.get("name") == name]
    return found


def test_the_catalog_knows_how_many_efa_interfaces_each_type_attaches():
    catalog = load_catalog()
    assert catalog.instance_type("p5.48xlarge").efa_interfaces == 32
    assert catalog.instance_type("p4d.24xlarge").efa_interfaces == 4
    assert catalog.instance_type("g5.xlarge").efa_interfaces == 0
    assert node_efa_interfaces(ENV.node_pools["h100"], catalog) == 32
    assert node_efa_interfaces(ENV.node_pools["a100-timeslice"], catalog) == 0  # efa not set


def test_an_efa_pool_gets_its_interfaces_placement_group_and_security_group(synthesized_environments):
    dev = synthesized_environments["dev"]
    templates = dev.resources("cluster", "aws_launch_template")
    for name, pool in ENV.node_pools.items():
        _, template = _by_name(templates, f"{ENV.cluster.name}-{name}")
        if not pool.efa:
            assert "network_interfaces" not in template and "placement" not in template, name
            continue
        interfaces = template["network_interfaces"]
        assert len(interfaces) == node_efa_interfaces(pool, load_catalog()) == 32
        assert [i["network_card_index"] for i in interfaces] == list(range(32))
        assert [i["device_index"] for i in interfaces] == [0] + [1] * 31
        assert {i["interface_type"] for i in interfaces} == {"efa"}
        key, group = _by_name(dev.resources("cluster", "aws_placement_group"), f"{ENV.cluster.name}-{name}-efa")
        assert group["strategy"] == "cluster" and template["placement"]["group_name"] == f"${{aws_placement_group.{key}.name}}"
        sg_key, sg = _by_name(dev.resources("cluster", "aws_security_group"), f"{ENV.cluster.name}-{name}-efa")
        for rule in (*sg["ingress"], *sg["egress"]):
            assert (rule["protocol"], rule["from_port"], rule["to_port"], rule["self"]) == ("-1", 0, 0, True)
        assert all(f"aws_security_group.{sg_key}.id" in " ".join(i["security_groups"]) for i in interfaces)
        assert len(interfaces[0]["security_groups"]) == 2  # and the cluster's, which the node group adds no more


def test_an_efa_pool_lives_in_its_one_zone_and_the_others_in_every_zone(synthesized_environments):
    dev = synthesized_environments["dev"]
    subnets = dev.resources("network", "aws_subnet")
    private = {body["availability_zone"]: key for key, body in subnets.items() if "private" in body["tags"]["Name"]}
    groups = dev.resources("cluster", "aws_eks_node_group")
    for name, pool in ENV.node_pools.items():
        [group] = [g for g in groups.values() if g["node_group_name"] == name]
        zones = pool.availability_zones or ENV.availability_zones
        assert len(group["subnet_ids"]) == len(zones), name
        for zone, subnet in zip(zones, group["subnet_ids"]) if pool.efa else ():
            assert private[zone] in subnet


def test_the_device_plugin_runs_on_exactly_the_efa_pools_and_training_asks_for_the_interfaces():
    platform = build_platform(ENV, predict_outputs(ENV))
    values = platform.component(AWS_EFA_DEVICE_PLUGIN.name).values
    assert values["supportedInstanceLabels"] == {"keys": [POOL_LABEL], "values": ["h100"]}
    for taint in ENV.node_pools["h100"].taints:
        assert {"key": taint.key, "operator": "Equal", "value": taint.value, "effect": taint.effect} in values["tolerations"]
    [runtime] = [m for m in platform.component("kubeflow-trainer").objects if m["metadata"]["name"] == "pytorch-h100"]
    [job] = runtime["spec"]["template"]["spec"]["replicatedJobs"]
    [container] = job["template"]["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"][EFA_RESOURCE] == "32" == container["resources"]["requests"][EFA_RESOURCE]
    assert {"name": "FI_PROVIDER", "value": "efa"} in container["env"]


@pytest.mark.parametrize("env_name", ["local", "staging", "prod"])
def test_without_an_efa_pool_there_is_no_device_plugin(env_name):
    env = load_environment(env_name)
    names = {c.name for c in build_platform(env, predict_outputs(env)).components}
    assert (AWS_EFA_DEVICE_PLUGIN.name in names) is bool(env.efa_pools)


def test_on_the_emulator_the_efa_pool_keeps_its_interfaces_but_no_placement_group(synthesized_environments):
    local = synthesized_environments["local"]  # synthesized for the emulator, which has no placement groups
    assert local.env.efa_pools and not local.resources("cluster", "aws_placement_group")
    templates = local.resources("cluster", "aws_launch_template")
    for name in local.env.efa_pools:
        _, template = _by_name(templates, f"{local.env.cluster.name}-{name}")
        assert len(template["network_interfaces"]) == 32 and "placement" not in template
