"""Whole-file rules for capacity reservations: what AWS refuses, refused here first. A node group's
reservation is by ID, in the one zone of the pool's subnets, with the capacity type it needs; a
Capacity Block holds only the instance types that have them; a Karpenter pool reserves only with a
Karpenter version that can (the compatibility table) and `reserved` goes with reservations. (Which
instance types a CAPACITY_BLOCK node group may have, rules_pools checks.)"""

from __future__ import annotations

from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.catalog.aws_facts import load_aws_facts
from eksml.catalog.pin_compatibility import load_compatibility, version_key
from eksml.components.karpenter import KARPENTER
from eksml.config.models import Environment
from eksml.config.rule_base import Finding, names, needs

# The capacity type a reservation's instances run as, per managed node group.
NODE_GROUP_CAPACITY = {"odcr": "ON_DEMAND", "capacity-block": "CAPACITY_BLOCK"}


@needs("node_pools", "availability_zones")
def node_group_reservations(env: Environment, _: Catalog) -> Iterator[Finding]:
    for name, pool in env.node_pools.items():
        path, reservation = f"node_pools.{name}", pool.reservation
        if reservation is None:
            if pool.capacity_type == "CAPACITY_BLOCK":
                yield f"{path}.reservation", ("CAPACITY_BLOCK runs in a Capacity Block the launch template targets: "
                                              "set reservation: {type: capacity-block, id: cr-…, availability_zone: …}")
            continue
        if reservation.id is None:
            yield f"{path}.reservation", ("a launch template targets a reservation by id (cr-…); tags select "
                                          "reservations for Karpenter pools only")
        wanted = NODE_GROUP_CAPACITY[reservation.type]
        if pool.capacity_type != wanted:
            yield f"{path}.capacity_type", (f"a {reservation.type} reservation's instances run as {wanted}, not "
                                            f"{pool.capacity_type}: set capacity_type: {wanted}")
        zone, zones = reservation.availability_zone, env.pool_zones(pool)
        if zone is None:
            yield f"{path}.reservation.availability_zone", "say the reservation's zone: its instances launch only there"
        elif zones != [zone]:
            yield f"{path}.reservation.availability_zone", (
                f"the reservation is in {zone}, but the pool's subnets are in {', '.join(zones)}: set the pool's "
                f"availability_zones to [{zone}]" + ("" if zone in env.availability_zones else
                                                     f" (a zone of the environment: {names(env.availability_zones)})"))


_FEATURE_WORDS = {"reserved": "capacity reservations", "capacity-block": "Capacity Blocks"}


def _version_findings(env: Environment, path: str, features: set[str]) -> Iterator[Finding]:
    key = KARPENTER.addon.key  # type: ignore[union-attr]
    version = getattr(env.addons, key).version or ""
    for feature in sorted(features):
        rule = load_compatibility().feature_rule(key, feature)
        if rule is not None and version and version_key(version) < version_key(rule.since):
            yield f"addons.{key}.version", (f"Karpenter {version} cannot launch into {_FEATURE_WORDS[feature]} "
                                               f"({path}); that needs {rule.since} or newer ({rule.source})")


@needs("karpenter", "addons")  # the environment's sections
def karpenter_reservations(env: Environment, _: Catalog) -> Iterator[Finding]:
    for name, kpool in env.karpenter.node_pools.items():
        path = f"karpenter.node_pools.{name}"
        reserved = "reserved" in kpool.capacity_types
        if reserved and not kpool.reservations:
            yield f"{path}.reservations", "capacity type reserved needs the reservations to launch into (by id or tags)"
        if kpool.reservations and not reserved:
            yield f"{path}.capacity_types", "add reserved: without it Karpenter never launches into the reservations"
        blocks = [r for r in kpool.reservations if r.type == "capacity-block"]
        block_types = load_aws_facts().capacity_block_types
        if blocks and not any(t.split(".", 1)[0] in kpool.instance_families for t in block_types):
            yield f"{path}.instance_families", (f"no instance type of {', '.join(kpool.instance_families)} can be "
                                                f"reserved as an EC2 Capacity Block; those that can: {names(block_types)}")
        if kpool.reservations:
            yield from _version_findings(env, path, {"reserved", *(r.type for r in blocks)})


RULES = (node_group_reservations, karpenter_reservations)
