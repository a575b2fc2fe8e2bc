"""Reserved capacity: a node group's launch template targets its ODCR or Capacity Block (with the
capacity-block market for a block) on the reservation's zone; a Karpenter pool selects reservations
by id or tags, launches `reserved` first and falls back as declared, and the feature gate is on."""

from __future__ import annotations

from eksml.config import load_environment
from eksml.config.models import NodePool
from eksml.k8s.model.platform import build_platform
from eksml.outputs import predict_outputs
from modules.node_pools import PoolSpec, reserved_capacity

ENV = load_environment("dev")


def test_the_node_groups_launch_template_targets_its_reservation_in_its_zone(synthesized_environments):
    dev = synthesized_environments["dev"]
    for name, pool in ENV.node_pools.items():
        [template] = [t for t in dev.resources("cluster", "aws_launch_template").values()
                      if t["name"] == f"{ENV.cluster.name}-{name}"]
        [group] = [g for g in dev.resources("cluster", "aws_eks_node_group").values() if g["node_group_name"] == name]
        if pool.reservation is None:
            assert "capacity_reservation_specification" not in template, name
            continue
        target = template["capacity_reservation_specification"]["capacity_reservation_target"]
        assert target == {"capacity_reservation_id": pool.reservation.id}
        assert "instance_market_options" not in template and group["capacity_type"] == "ON_DEMAND"  # an ODCR
        assert len(group["subnet_ids"]) == 1 and pool.availability_zones == [pool.reservation.availability_zone]


def test_a_capacity_block_also_takes_the_capacity_block_market():
    pool = NodePool.model_validate({
        **ENV.node_pools["h100"].model_dump(exclude_none=True, mode="json"), "capacity_type": "CAPACITY_BLOCK",
        "reservation": {"type": "capacity-block", "id": "cr-0123456789abcdef0", "availability_zone": "us-east-1a"}})
    settings = reserved_capacity(PoolSpec.from_pool("h100", pool))
    assert settings["instance_market_options"].market_type == "capacity-block"
    assert settings["capacity_reservation_specification"].capacity_reservation_target.capacity_reservation_id == \
        "cr-0123456789abcdef0"
    assert reserved_capacity(PoolSpec.from_pool("cpu", ENV.node_pools["cpu"])) == {}


def test_karpenter_selects_its_reservations_and_launches_reserved_first():
    platform = build_platform(ENV, predict_outputs(ENV))
    karpenter = platform.component("karpenter")
    objects = {(m["kind"], m["metadata"]["name"]): m for m in karpenter.objects}
    for name, kpool in ENV.karpenter.node_pools.items():
        node_class = objects[("EC2NodeClass", name)]["spec"]
        [capacity] = [r for r in objects[("NodePool", name)]["spec"]["template"]["spec"]["requirements"]
                      if r["key"] == "karpenter.sh/capacity-type"]
        assert capacity["values"] == kpool.capacity_types
        if kpool.reservations:
            assert capacity["values"][0] == "reserved" and len(capacity["values"]) > 1  # with fallbacks
            assert node_class["capacityReservationSelectorTerms"] == [{"tags": r.tags} for r in kpool.reservations]
        else:
            assert "capacityReservationSelectorTerms" not in node_class
    assert karpenter.values["settings"]["featureGates"]["reservedCapacity"] is True
