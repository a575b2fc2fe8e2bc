"""The nodes workloads can land on, as the scheduler will see them.

Fixed node groups carry the labels the AWS layer puts on them (`eksml.gpu.sharing.node_labels`);
Karpenter NodePools carry the labels we put in their templates. The GPU resources each advertises
follow from the sharing mode the GPU operator is configured with (`eksml.gpu.sharing`), the same
functions that configure both, so they cannot drift.
"""

from __future__ import annotations

from typing import Optional

from eksml.contract.names import KARPENTER_NODEPOOL_TAG
from eksml.catalog import Catalog, Gpu
from eksml.config.models import Environment, KarpenterPool, NodePool
from eksml.contract.names import POOL_LABEL
from eksml.gpu.sharing import GPU_RESOURCE, gpus_per_node, node_labels, pool_gpu, sharing_resources
from eksml.k8s.model.records import NodeTaint, PoolTarget

KARPENTER_NODEPOOL_LABEL = KARPENTER_NODEPOOL_TAG  # Karpenter labels its nodes as it tags their instances


def _taints(taints) -> tuple[NodeTaint, ...]:
    return tuple(NodeTaint(t.key, t.value, t.effect) for t in taints)


def largest_node(instance_types, catalog: Catalog) -> dict[str, float]:
    """vCPUs and memory of the biggest instance type a pool may start (0 when the catalog knows none)."""
    known = [t for t in (catalog.instance_type(name) for name in instance_types) if t is not None]
    if not known:
        return {}
    return {"node_cpu": float(max(t.vcpus for t in known)), "node_memory_gib": float(max(t.memory_gib for t in known))}


def fixed_pool_target(env: Environment, name: str, pool: NodePool, catalog: Catalog) -> PoolTarget:
    gpus = gpus_per_node(pool.instance_types, catalog)
    resources, per_container, sharing = sharing_resources(env, pool, catalog, gpus)
    gpu = pool_gpu(pool, catalog)
    return PoolTarget(
        name=name,
        source="node group",
        labels=tuple(sorted(node_labels(name, pool).items())),
        taints=_taints(pool.taints),
        gpu_resources=tuple(sorted(resources.items())),
        gpu=gpu.id if gpu else None,
        sharing=sharing,
        max_per_container=tuple(sorted(per_container.items())),
        **largest_node(pool.instance_types, catalog),
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
        fixed = node_labels(kpool.overflow_for, env.node_pools[kpool.overflow_for])
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
        **largest_node([t.name for f in kpool.instance_families for t in catalog.instance_types_in_family(f)], catalog),
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
