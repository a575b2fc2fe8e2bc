"""`eksml capacity ENV --add 'NAME: RESOURCE xN'`: would N more pods asking for one RESOURCE each
fit, on which pool, how many more nodes that takes beyond desired size, and what those cost.

The new pods are assumed pinned to the pool they are tried on (selector and tolerations to match);
a pool is tried when its nodes advertise RESOURCE, node groups first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from eksml.capacity.cost import node_price
from eksml.capacity.demand import nodes_needed
from eksml.capacity.report import CapacityReport
from eksml.catalog import Catalog
from eksml.catalog.prices import PriceTable
from eksml.errors import ConfigError, Issue

_ADD = re.compile(r"^\s*(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\s*:\s*(?P<resource>[a-zA-Z0-9./_-]+)\s+x\s*(?P<count>\d{1,5})\s*$")


@dataclass(frozen=True)
class Addition:
    name: str
    resource: str
    count: int


def parse_addition(text: str) -> Addition:
    found = _ADD.match(text)
    if found is None or int(found["count"]) < 1:
        raise ConfigError([Issue("--add", "", (
            f"'{text[:80]}' is not 'NAME: RESOURCE xN' (for example 'chat: nvidia.com/mig-3g.40gb x6'): a lower-case "
            "name, a GPU resource and a replica count of at least 1"))])
    resource = found["resource"]
    if "/" not in resource:
        resource = f"nvidia.com/{resource}"
    return Addition(found["name"], resource, int(found["count"]))


@dataclass(frozen=True)
class PoolOption:
    pool: str
    nodes_needed: int  # for the pool's current demand plus the addition
    desired: int
    maximum: Optional[int]
    extra_nodes: int  # beyond desired size
    extra_usd_per_hour: Optional[float]  # None: not priced

    @property
    def fits(self) -> bool:
        return self.maximum is None or self.nodes_needed <= self.maximum

    def as_dict(self, hours_per_month: int) -> dict:
        monthly = None if self.extra_usd_per_hour is None else round(self.extra_usd_per_hour * hours_per_month, 2)
        return {"pool": self.pool, "fits": self.fits, "nodes_needed": self.nodes_needed, "desired": self.desired,
                "max": self.maximum, "extra_nodes": self.extra_nodes, "extra_usd_per_hour": self.extra_usd_per_hour,
                "extra_usd_per_month": monthly}


@dataclass(frozen=True)
class WhatIf:
    addition: Addition
    options: tuple[PoolOption, ...]
    offered_resources: tuple[str, ...]  # what the pools do offer, when none offers the resource

    @property
    def chosen(self) -> Optional[PoolOption]:
        """The pool that fits with the fewest extra nodes (the first such, in pool order)."""
        fitting = [o for o in self.options if o.fits]
        return min(fitting, key=lambda o: o.extra_nodes, default=None)


def what_if(report: CapacityReport, addition: Addition, region: str, prices: PriceTable, catalog: Catalog) -> WhatIf:
    options = []
    for supply in report.supplies:
        if addition.resource not in supply.per_node:
            continue
        demand = dict(report.load(supply.name).demand)
        demand[addition.resource] = demand.get(addition.resource, 0) + addition.count
        needed = nodes_needed(demand, supply.per_node) or 0
        desired = supply.nodes["desired"] or 0
        extra = max(0, needed - desired)
        price = node_price(supply, region, prices, catalog)
        options.append(PoolOption(supply.name, needed, desired, supply.nodes["max"], extra,
                                  None if price is None else round(extra * price.usd, 6)))
    offered = tuple(sorted({r for s in report.supplies for r in s.per_node}))
    return WhatIf(addition, tuple(options), offered)


def describe(result: WhatIf, hours_per_month: int) -> str:
    add = result.addition
    head = f"What if {add.name} adds {add.count} x {add.resource}?"
    if not result.options:
        return f"{head}\n  It fits no pool: none offers {add.resource}; the pools offer {', '.join(result.offered_resources)}."
    lines = [head]
    for o in result.options:
        ceiling = "no limit" if o.maximum is None else str(o.maximum)
        cost = ("not priced" if o.extra_usd_per_hour is None
                else f"${o.extra_usd_per_hour:,.2f}/hour, ${o.extra_usd_per_hour * hours_per_month:,.2f}/month")
        verdict = (f"fits: {o.nodes_needed} nodes (desired {o.desired}, max {ceiling}), {o.extra_nodes} more, {cost}"
                   if o.fits else f"does not fit: needs {o.nodes_needed} nodes, max {ceiling}")
        lines.append(f"  {o.pool}: {verdict}")
    chosen = result.chosen
    lines.append(f"  Answer: on {chosen.pool}, {chosen.extra_nodes} more node(s)." if chosen
                 else "  Answer: it does not fit, even at max size.")
    return "\n".join(lines)
