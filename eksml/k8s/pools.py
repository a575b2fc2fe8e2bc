"""The nodes workloads can land on, as the scheduler will see them.

Fixed node groups carry the labels the AWS layer puts on them (the pool's labels, the GPU sharing
label from `eksml.gpu_sharing`, and `eksml.io/pool`); Karpenter NodePools carry the labels we put
in their templates. The GPU resources each advertises follow from the sharing mode the GPU
operator is configured with — the same functions configure both, so they cannot drift.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal, Optional

from eksml.catalog import Catalog, Gpu
from eksml.config.models import Environment, KarpenterPool, NodePool, PoolKind
from eksml.gpu_sharing import sharing_labels
from eksml.k8s.model import NodeTaint, PoolTarget

POOL_LABEL = "eksml.io/pool"
GPU_RESOURCE = "nvidia.com/gpu"
KARPENTER_NODEPOOL_LABEL = "karpenter.sh/nodepool"

MigStrategy = Literal["single", "mixed"]


def cluster_mig_strategy(env: Environment) -> MigStrategy:
    """The GPU operator has one strategy for the whole cluster: mixed unless every MIG pool is single."""
    strategies = {pool.mig.strategy for pool in env.node_pools.values() if pool.mig is not None}
    return "single" if strategies <= {"single"} else "mixed"


def pool_gpu(pool: NodePool, catalog: Catalog) -> Optional[Gpu]:
    if pool.gpu:
        return catalog.gpu(pool.gpu)
    for type_name in pool.instance_types:
        instance = catalog.instance_type(type_name)
        if instance is not None and instance.gpu is not None:
            return instance.gpu
    return None


def gpus_per_node(instance_types: list[str], catalog: Catalog) -> int:
    counts = [it.gpu_count for name in instance_types if (it := catalog.instance_type(name)) is not None]
    return max(counts, default=0)


def fixed_pool_labels(name: str, pool: NodePool) -> dict[str, str]:
    """Exactly the node labels the AWS layer sets (modules/node_pools.py)."""
    return {**pool.labels, **sharing_labels(name, pool), POOL_LABEL: name}


def _taints(taints) -> tuple[NodeTaint, ...]:
    return tuple(NodeTaint(t.key, t.value, t.effect) for t in taints)


def sharing_resources(
    env: Environment, pool: NodePool, catalog: Catalog, gpus: int
) -> tuple[dict[str, int], dict[str, int], str]:
    """(resources per node, per-container maximum, description) for a GPU pool's sharing mode."""
    if pool.kind is PoolKind.gpu_time_slicing:
        replicas = pool.time_slicing.replicas
        return {GPU_RESOURCE: gpus * replicas}, {GPU_RESOURCE: 1}, f"time-slicing x{replicas}"
    if pool.kind is PoolKind.gpu_mig:
        layout = pool.mig.layout
        if cluster_mig_strategy(env) == "single":
            return {GPU_RESOURCE: gpus * len(layout)}, {}, f"MIG single [{', '.join(layout)}]"
        gpu = pool_gpu(pool, catalog)
        resources: dict[str, int] = {}
        for profile_name, count in Counter(layout).items():
            profile = catalog.mig_profile(gpu.id, profile_name) if gpu else None
            resource = profile.resource_name if profile else "nvidia.com/mig-" + profile_name.replace("+", ".")
            resources[resource] = gpus * count
        return resources, {}, f"MIG mixed [{', '.join(layout)}]"
    return {}, {}, "none"


def fixed_pool_target(env: Environment, name: str, pool: NodePool, catalog: Catalog) -> PoolTarget:
    gpus = gpus_per_node(pool.instance_types, catalog)
    resources, per_container, sharing = sharing_resources(env, pool, catalog, gpus)
    gpu = pool_gpu(pool, catalog)
    return PoolTarget(
        name=name,
        source="node group",
        labels=tuple(sorted(fixed_pool_labels(name, pool).items())),
        taints=_taints(pool.taints),
        gpu_resources=tuple(sorted(resources.items())),
        gpu=gpu.id if gpu else None,
        sharing=sharing,
        max_per_container=tuple(sorted(per_container.items())),
    )


def karpenter_gpu_instance_types(kpool: KarpenterPool, catalog: Catalog, gpu: Optional[Gpu] = None) -> list[str]:
    """GPU instance types in the pool's families; only those carrying `gpu` when given."""
    return [
        it.name
        for family in kpool.instance_families
        for it in catalog.instance_types_in_family(family)
        if it.is_gpu and (gpu is None or it.gpu.id == gpu.id)
    ]


def karpenter_pool_labels(env: Environment, name: str, kpool: KarpenterPool) -> dict[str, str]:
    """An overflow pool looks like the fixed pool it extends, so the same selectors land on it."""
    if kpool.overflow_for and kpool.overflow_for in env.node_pools:
        fixed = fixed_pool_labels(kpool.overflow_for, env.node_pools[kpool.overflow_for])
        return {**kpool.labels, **fixed}
    return {**kpool.labels, POOL_LABEL: name}


def karpenter_pool_taints(env: Environment, kpool: KarpenterPool) -> tuple[NodeTaint, ...]:
    own = _taints(kpool.taints)
    if kpool.overflow_for and kpool.overflow_for in env.node_pools:
        copied = _taints(env.node_pools[kpool.overflow_for].taints)
        return copied + tuple(t for t in own if t not in copied)
    return own


def karpenter_pool_target(env: Environment, name: str, kpool: KarpenterPool, catalog: Catalog) -> PoolTarget:
    labels = {**karpenter_pool_labels(env, name, kpool), KARPENTER_NODEPOOL_LABEL: name}
    fixed = env.node_pools.get(kpool.overflow_for) if kpool.overflow_for else None
    if fixed is not None and fixed.kind.is_gpu:
        gpu = pool_gpu(fixed, catalog)
        gpus = gpus_per_node(karpenter_gpu_instance_types(kpool, catalog, gpu), catalog)
        resources, per_container, sharing = sharing_resources(env, fixed, catalog, gpus)
        sharing = f"{sharing} (overflow for {kpool.overflow_for})"
        gpu_id = gpu.id if gpu else None
    else:
        gpu_types = karpenter_gpu_instance_types(kpool, catalog)
        gpus = gpus_per_node(gpu_types, catalog)
        resources = {GPU_RESOURCE: gpus} if gpus else {}
        per_container = {}
        sharing = "whole GPUs" if gpus else "none"
        gpu_ids = sorted({catalog.instance_type(t).gpu.id for t in gpu_types})
        gpu_id = "/".join(gpu_ids) or None
    return PoolTarget(
        name=name,
        source="karpenter",
        labels=tuple(sorted(labels.items())),
        taints=karpenter_pool_taints(env, kpool),
        gpu_resources=tuple(sorted(resources.items())),
        gpu=gpu_id,
        sharing=sharing,
        max_per_container=tuple(sorted(per_container.items())),
    )


def pool_targets(env: Environment, catalog: Catalog) -> tuple[PoolTarget, ...]:
    fixed = tuple(fixed_pool_target(env, name, pool, catalog) for name, pool in env.node_pools.items())
    elastic = tuple(
        karpenter_pool_target(env, name, kpool, catalog) for name, kpool in env.karpenter.node_pools.items()
    )
    return fixed + elastic


def gpu_pool_taints(env: Environment) -> list[NodeTaint]:
    """Every taint on a node that may carry a GPU: GPU node groups and every Karpenter NodePool."""
    taints: list[NodeTaint] = []
    for pool in env.node_pools.values():
        if pool.kind.is_gpu:
            taints += _taints(pool.taints)
    for kpool in env.karpenter.node_pools.values():
        taints += karpenter_pool_taints(env, kpool)
    return list(dict.fromkeys(taints))
