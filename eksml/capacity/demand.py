"""What the rendered platform asks of each pool: every GPU-requesting pod, its requests times its
replicas, and times its autoscaling maximum where one is declared.

The pods come from the scheduling check's placements (values-only render, or the real charts'
manifests), so a pod counts against the pool the scheduler would put it on: the first that accepts
it, node groups before Karpenter NodePools.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Optional, Sequence

from eksml.k8s.model.records import Placement


@dataclass(frozen=True)
class PodDemand:
    workload: str
    source: str
    path: str
    pool: str
    requests: dict[str, int]  # GPU resource -> units one pod asks for
    replicas: int
    max_replicas: Optional[int]

    def total(self, at_max: bool = False) -> dict[str, int]:
        copies = self.max_replicas if at_max and self.max_replicas is not None else self.replicas
        return {resource: units * copies for resource, units in self.requests.items()}

    def as_dict(self) -> dict:
        return {"workload": self.workload, "source": self.source, "path": self.path, "pool": self.pool,
                "requests": dict(self.requests), "replicas": self.replicas, "max_replicas": self.max_replicas,
                "total": self.total(), "total_at_max_replicas": self.total(at_max=True)}


def gpu_demands(placements: Sequence[Placement]) -> tuple[PodDemand, ...]:
    """Every placed pod that asks for a GPU resource (an unplaced one is the scheduling check's error)."""
    demands = []
    for placement in placements:
        workload = placement.workload
        if not workload.asks_for_gpu or not placement.pools:
            continue
        if workload.replicas == 0 and not workload.max_replicas:  # a template (a training runtime) runs nothing
            continue
        demands.append(PodDemand(
            workload=workload.name, source=workload.source, path=workload.path, pool=placement.pools[0],
            requests={name: qty for name, qty in workload.gpu_requests.items() if qty > 0},
            replicas=workload.replicas, max_replicas=workload.max_replicas,
        ))
    return tuple(demands)


def summed(demands: Sequence[PodDemand], pool: str, at_max: bool = False) -> dict[str, int]:
    totals: dict[str, int] = {}
    for demand in demands:
        if demand.pool == pool:
            for resource, units in demand.total(at_max).items():
                totals[resource] = totals.get(resource, 0) + units
    return dict(sorted(totals.items()))


def nodes_needed(units: dict[str, int], per_node: dict[str, int]) -> Optional[int]:
    """Nodes that hold `units` of every resource (None: the pool offers none of one of them).

    Each unit is one slice; a pod asking for one slice fits any node with a free one, so the count is
    the largest ceil(units / per node) over the resources."""
    needed = 0
    for resource, count in units.items():
        offered = per_node.get(resource, 0)
        if offered <= 0:
            return None
        needed = max(needed, ceil(count / offered))
    return needed
