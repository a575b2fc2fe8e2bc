"""How a pool's GPUs are shared, and what that makes its nodes look like to the scheduler.

The AWS layer puts `node_labels` on the node groups; the Kubernetes layer selects nodes and names
the GPU operator's per-pool configurations with the same functions, so both sides always agree.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Literal, Optional

from eksml.catalog import Catalog, Gpu
from eksml.catalog.model import mixed_strategy_resource_name
from eksml.config.models import Environment, NodePool, PoolKind
from eksml.contract.names import POOL_LABEL

# The GPU operator's device plugin picks its per-node config from this label (time-slicing).
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
# mig-manager applies the mig-parted config named by this label to every GPU of the node.
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
GPU_RESOURCE = "nvidia.com/gpu"

MigStrategy = Literal["single", "mixed"]

_MAX_LABEL_VALUE = 63


def device_plugin_config_name(pool_name: str) -> str:
    """Key of the pool's entry in the device-plugin config map (time-slicing pools)."""
    return _label_value(pool_name)


def mig_config_name(pool_name: str) -> str:
    """Name of the pool's mig-parted configuration (MIG pools)."""
    return _label_value(f"eksml-{pool_name}")


def sharing_labels(pool_name: str, pool: NodePool) -> dict[str, str]:
    """The one label a GPU pool needs for its sharing mode; none for CPU pools."""
    if pool.kind is PoolKind.gpu_time_slicing:
        return {DEVICE_PLUGIN_CONFIG_LABEL: device_plugin_config_name(pool_name)}
    if pool.kind is PoolKind.gpu_mig:
        return {MIG_CONFIG_LABEL: mig_config_name(pool_name)}
    return {}


def node_labels(pool_name: str, pool: NodePool) -> dict[str, str]:
    """Every label the nodes of a fixed pool carry: its own, its sharing label and the pool label."""
    return {**pool.labels, **sharing_labels(pool_name, pool), POOL_LABEL: pool_name}


def cluster_mig_strategy(env: Environment) -> MigStrategy:
    """The GPU operator has one strategy for the whole cluster: mixed unless every MIG pool is single."""
    strategies = {pool.mig.strategy for pool in env.node_pools.values() if pool.mig is not None}
    return "single" if strategies <= {"single"} else "mixed"


def pool_gpu(pool: NodePool, catalog: Catalog) -> Optional[Gpu]:
    return catalog.gpu_for(pool.instance_types, pool.gpu)


def gpus_per_node(instance_types: list[str], catalog: Catalog) -> int:
    counts = [it.gpu_count for name in instance_types if (it := catalog.instance_type(name)) is not None]
    return max(counts, default=0)


def mig_resource_name(gpu: Optional[Gpu], profile_name: str, catalog: Catalog) -> str:
    """The resource a MIG profile is advertised as under the mixed strategy."""
    profile = catalog.mig_profile(gpu.id, profile_name) if gpu is not None else None
    return profile.resource_name if profile else mixed_strategy_resource_name(profile_name)


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
        resources = {mig_resource_name(gpu, name, catalog): gpus * count for name, count in Counter(layout).items()}
        return resources, {}, f"MIG mixed [{', '.join(layout)}]"
    return {}, {}, "none"


def _label_value(name: str) -> str:
    # Label values stop at 63 characters; a long name keeps a hash so two pools never collide.
    if len(name) <= _MAX_LABEL_VALUE:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_LABEL_VALUE - 9].rstrip('-._')}-{digest}"
