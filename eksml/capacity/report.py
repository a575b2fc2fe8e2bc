"""The capacity report: supply per pool, demand per pool, team quotas, and what does not add up.

A pool whose pods need more nodes than its desired size is over-subscribed (a warning: the pool
must scale up before they all run); more than its max size is an error, because no scaling helps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Sequence

from eksml.capacity.cost import CostReport
from eksml.capacity.demand import PodDemand, nodes_needed, summed
from eksml.capacity.supply import SIZES, PoolSupply
from eksml.config.models import Environment
from eksml.gpu.sharing import GPU_RESOURCE

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    subject: str  # "pool a100-mig", "team research"
    field: str  # where in the environment file the fix goes
    message: str

    def as_dict(self) -> dict:
        return {"severity": self.severity, "subject": self.subject, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class PoolLoad:
    """One pool's demand against its supply."""

    supply: PoolSupply
    demand: dict[str, int]  # at declared replicas
    demand_at_max: dict[str, int]  # at autoscaling maximum
    nodes_needed: Optional[int]
    nodes_needed_at_max: Optional[int]

    def as_dict(self) -> dict:
        return {"pool": self.supply.name, "demand": self.demand, "demand_at_max_replicas": self.demand_at_max,
                "nodes_needed": self.nodes_needed, "nodes_needed_at_max_replicas": self.nodes_needed_at_max}


@dataclass(frozen=True)
class TeamQuota:
    team: str
    gpu_quota: int
    offered: dict[str, Optional[int]]  # size -> nvidia.com/gpu units all pools advertise (None: no ceiling)

    def as_dict(self) -> dict:
        return {"team": self.team, "gpu_quota": self.gpu_quota, "offered_nvidia_com_gpu": dict(self.offered)}


@dataclass(frozen=True)
class CapacityReport:
    env: str
    supplies: tuple[PoolSupply, ...]
    demands: tuple[PodDemand, ...]
    loads: tuple[PoolLoad, ...]
    quotas: tuple[TeamQuota, ...]
    findings: tuple[Finding, ...]
    cost: Optional[CostReport] = None

    def supply(self, pool: str) -> PoolSupply:
        return next(s for s in self.supplies if s.name == pool)

    def load(self, pool: str) -> PoolLoad:
        return next(load for load in self.loads if load.supply.name == pool)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    def as_dict(self) -> dict:
        return {"environment": self.env, "pools": [s.as_dict() for s in self.supplies],
                "demand": [d.as_dict() for d in self.demands], "load": [load.as_dict() for load in self.loads],
                "teams": [q.as_dict() for q in self.quotas], "findings": [f.as_dict() for f in self.findings],
                "cost": self.cost.as_dict() if self.cost else None}


def _size_field(supply: PoolSupply) -> str:
    if supply.source == "node group":
        return f"node_pools.{supply.name}.max_size"
    return f"karpenter.node_pools.{supply.name}.gpu_limit"


def pool_loads(supplies: Sequence[PoolSupply], demands: Sequence[PodDemand]) -> tuple[PoolLoad, ...]:
    loads = []
    for supply in supplies:
        demand, at_max = summed(demands, supply.name), summed(demands, supply.name, at_max=True)
        loads.append(PoolLoad(supply, demand, at_max, nodes_needed(demand, supply.per_node),
                              nodes_needed(at_max, supply.per_node)))
    return tuple(loads)


def load_findings(loads: Sequence[PoolLoad], demands: Sequence[PodDemand]) -> list[Finding]:
    findings = []
    for load in loads:
        supply, desired, ceiling = load.supply, load.supply.nodes["desired"], load.supply.nodes["max"]
        needed = load.nodes_needed_at_max if load.nodes_needed_at_max is not None else load.nodes_needed
        pods = ", ".join(d.workload for d in demands if d.pool == supply.name)
        asked = ", ".join(f"{units} {resource}" for resource, units in load.demand_at_max.items())
        if needed is not None and ceiling is not None and needed > ceiling:
            findings.append(Finding("error", f"pool {supply.name}", _size_field(supply), (
                f"the pods on pool {supply.name} ({pods}) ask for {asked} at their maximum replicas, which needs "
                f"{needed} nodes, but the pool has at most {ceiling}; raise its size or lower their replicas")))
        elif supply.source == "node group" and load.nodes_needed and load.nodes_needed > desired:
            findings.append(Finding("warning", f"pool {supply.name}", f"node_pools.{supply.name}.desired_size", (
                f"pool {supply.name} is over-subscribed at desired size: its pods need {load.nodes_needed} nodes, "
                f"desired is {desired}; they run only once the pool scales up")))
    return findings


def team_quotas(env: Environment, supplies: Sequence[PoolSupply]) -> tuple[TeamQuota, ...]:
    offered: dict[str, Optional[int]] = {}
    for size in SIZES:
        totals = [s.total(size) for s in supplies if GPU_RESOURCE in s.per_node]
        offered[size] = None if any(t is None for t in totals) else sum(t[GPU_RESOURCE] for t in totals)
    return tuple(TeamQuota(team, config.gpu_quota, offered) for team, config in env.teams.items())


def quota_findings(quotas: Sequence[TeamQuota]) -> list[Finding]:
    """The ResourceQuota counts requests.nvidia.com/gpu: compare with what the pools advertise as that."""
    findings = []
    for quota in quotas:
        ceiling = quota.offered["max"]
        if ceiling is not None and quota.gpu_quota > ceiling:
            findings.append(Finding("warning", f"team {quota.team}", f"teams.{quota.team}.gpu_quota", (
                f"team {quota.team}'s gpu_quota of {quota.gpu_quota} is more than the {ceiling} {GPU_RESOURCE} "
                "all pools advertise at max size: the quota can never be used up")))
    if quotas:
        total, desired = sum(q.gpu_quota for q in quotas), quotas[0].offered["desired"]
        if desired is not None and total > desired:
            findings.append(Finding("warning", "teams", "teams", (
                f"the teams' quotas add up to {total} {GPU_RESOURCE}, more than the {desired} the pools advertise "
                "at desired size: they are over-subscribed")))
    return findings
