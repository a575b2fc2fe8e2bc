"""Whole-file rules for where a node pool runs and its EFA: the zones it names are the environment's,
and an EFA pool has EFA on every instance type and one zone (its cluster placement group is in one)."""

from __future__ import annotations

from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.config.models import Environment, NodePool
from eksml.config.rule_base import Finding, names, needs


def node_efa_interfaces(pool: NodePool, catalog: Catalog) -> int:
    """The EFA interfaces every node of the pool attaches: the fewest among its types (0 without EFA)."""
    if not pool.efa:
        return 0
    counts = [it.efa_interfaces for name in pool.instance_types if (it := catalog.instance_type(name)) is not None]
    return min(counts, default=0)


@needs("node_pools", "availability_zones")
def pool_zones_are_the_environments(env: Environment, _: Catalog) -> Iterator[Finding]:
    for name, pool in env.node_pools.items():
        for index, zone in enumerate(pool.availability_zones or []):
            if zone not in env.availability_zones:
                yield (f"node_pools.{name}.availability_zones[{index}]",
                       f"'{zone}' is not a zone of this environment; its zones: {names(env.availability_zones)}")
        zones = pool.availability_zones or []
        if len(set(zones)) != len(zones):
            yield f"node_pools.{name}.availability_zones", "name each zone once"


@needs("node_pools", "availability_zones")
def efa_pools_are_capable_and_in_one_zone(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    for name, pool in env.efa_pools.items():
        for index, type_name in enumerate(pool.instance_types):
            found = catalog.instance_type(type_name)
            if found is not None and not found.efa:
                capable = [t.name for t in catalog.instance_types_in_family(found.family) if t.efa]
                yield (f"node_pools.{name}.instance_types[{index}]",
                       f"{type_name} has no EFA, so efa: true cannot be met; with EFA in its family: "
                       f"{names(capable) if capable else 'none'}")
        zones = env.pool_zones(pool)
        if len(zones) != 1:
            yield (f"node_pools.{name}.availability_zones",
                   f"an EFA pool runs in one cluster placement group, which is in one zone; it would span "
                   f"{', '.join(zones)}: set availability_zones to one of them")


RULES = (pool_zones_are_the_environments, efa_pools_are_capable_and_in_one_zone)
