"""What each pool offers: nodes at min, desired and max size, and the GPU resources those nodes
advertise, per node and in total.

The resources per node come from the same PoolTarget the scheduling check places pods on
(`eksml.k8s.model.pools`), so the capacity report and the scheduler's view cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from eksml.catalog import Catalog, Gpu
from eksml.config.models import Environment, KarpenterPool, NodePool, PoolKind
from eksml.gpu.sharing import GPU_RESOURCE, gpus_per_node, mig_resource_name, pool_gpu
from eksml.k8s.model.records import PoolTarget
from eksml.k8s.model.pools import karpenter_gpu_instance_types, pool_targets

SIZES = ("min", "desired", "max")


@dataclass(frozen=True)
class PoolSupply:
    name: str
    source: str  # "node group" or "karpenter"
    instance_types: tuple[str, ...]  # a Karpenter pool: the GPU types of its families (or its families)
    capacity_type: str
    gpu: Optional[str]
    gpus_per_node: int
    sharing: str
    nodes: dict[str, Optional[int]]  # size -> node count; None: no ceiling declared
    per_node: dict[str, int]  # GPU resource -> units one node advertises
    memory_gb: dict[str, float]  # GPU resource -> nominal GPU memory of one unit
    gpu_limit: Optional[int] = None  # a Karpenter pool's ceiling in GPUs, whatever node sizes it picks

    def total(self, size: str) -> Optional[dict[str, int]]:
        if size == "max" and self.gpu_limit is not None and self.gpus_per_node:
            return {resource: units * self.gpu_limit // self.gpus_per_node for resource, units in self.per_node.items()}
        count = self.nodes[size]
        if count is None:
            return None
        return {resource: units * count for resource, units in self.per_node.items()}

    def as_dict(self) -> dict:
        return {
            "name": self.name, "source": self.source, "instance_types": list(self.instance_types),
            "capacity_type": self.capacity_type, "gpu": self.gpu, "gpus_per_node": self.gpus_per_node,
            "sharing": self.sharing, "nodes": dict(self.nodes), "per_node": dict(self.per_node),
            "memory_gb_per_unit": dict(self.memory_gb), "gpu_limit": self.gpu_limit, "total": {size: self.total(size) for size in SIZES},
        }


def profile_memory_gb(gpu: Optional[Gpu], profile_name: str, catalog: Catalog) -> float:
    """A MIG profile's memory: its share of the GPU's memory slices (3g.40gb of an A100 80GB: 4/8 x 80)."""
    profile = catalog.mig_profile(gpu.id, profile_name) if gpu is not None else None
    if profile is None or gpu is None:
        return 0.0
    return gpu.memory_gb * profile.memory_slices / catalog.memory_slices_per_gpu


def unit_memory(env: Environment, pool: Optional[NodePool], gpu: Optional[Gpu], target: PoolTarget,
                catalog: Catalog) -> dict[str, float]:
    """Nominal memory behind one unit of each resource: a time-slicing replica shares its GPU's memory."""
    whole = float(gpu.memory_gb) if gpu is not None else 0.0
    if pool is None or not pool.kind.is_gpu:  # whole GPUs (Karpenter) or none (CPU pools)
        return {resource: whole for resource in target.resource_map}
    if pool.kind is PoolKind.gpu_time_slicing:
        return {GPU_RESOURCE: round(whole / pool.time_slicing.replicas, 2)}
    if pool.kind is PoolKind.gpu_mig:
        memory = {mig_resource_name(gpu, name, catalog): profile_memory_gb(gpu, name, catalog)
                  for name in pool.mig.layout}
        if GPU_RESOURCE in target.resource_map:  # single strategy: every slice is one nvidia.com/gpu
            return {GPU_RESOURCE: min(memory.values(), default=0.0)}
        return memory
    return {}


def _fixed_supply(env: Environment, name: str, pool: NodePool, target: PoolTarget, catalog: Catalog) -> PoolSupply:
    gpu = pool_gpu(pool, catalog)
    return PoolSupply(
        name=name, source=target.source, instance_types=tuple(pool.instance_types),
        capacity_type=pool.capacity_type, gpu=target.gpu, gpus_per_node=gpus_per_node(pool.instance_types, catalog),
        sharing=target.sharing,
        nodes={"min": pool.min_size, "desired": pool.desired_size, "max": pool.max_size},
        per_node=target.resource_map, memory_gb=unit_memory(env, pool, gpu, target, catalog),
    )


def _karpenter_supply(env: Environment, name: str, kpool: KarpenterPool, target: PoolTarget,
                      catalog: Catalog) -> PoolSupply:
    """Karpenter starts at zero nodes; its ceiling is its GPU limit, which nodes of its largest GPU type
    reach in ceil(limit / GPUs per node)."""
    fixed = env.node_pools.get(kpool.overflow_for) if kpool.overflow_for else None
    gpu = pool_gpu(fixed, catalog) if fixed is not None and fixed.kind.is_gpu else None
    gpu_types = karpenter_gpu_instance_types(kpool, catalog, gpu)
    gpus = gpus_per_node(gpu_types, catalog)
    ceiling = -(-kpool.gpu_limit // gpus) if kpool.gpu_limit and gpus else None
    # Mixed families: the smallest GPU is what a pod can count on.
    whole = gpu or min((catalog.instance_type(t).gpu for t in gpu_types), key=lambda g: g.memory_gb, default=None)
    return PoolSupply(
        name=name, source=target.source, instance_types=tuple(gpu_types or kpool.instance_families),
        capacity_type="/".join(kpool.capacity_types), gpu=target.gpu, gpus_per_node=gpus, sharing=target.sharing,
        nodes={"min": 0, "desired": 0, "max": ceiling},
        per_node=target.resource_map, memory_gb=unit_memory(env, fixed, whole, target, catalog),
        gpu_limit=kpool.gpu_limit if gpus else None,
    )


def pool_supplies(env: Environment, catalog: Catalog) -> tuple[PoolSupply, ...]:
    """Every pool, node groups first, in the order the environment declares them."""
    supplies = []
    for target in pool_targets(env, catalog):
        if target.source == "node group":
            supplies.append(_fixed_supply(env, target.name, env.node_pools[target.name], target, catalog))
        else:
            supplies.append(_karpenter_supply(env, target.name, env.karpenter.node_pools[target.name], target, catalog))
    return tuple(supplies)
