"""The GPU slice a served model gets on its pool, and how much memory that slice has.

One function for both sides: validation refuses a model that does not fit its slice, and the
Kubernetes layer sizes vLLM (`--gpu-memory-utilization`) and asks for the resource from the same
answer. Time-slicing gives no memory isolation: each replica's fair share is the GPU's memory
divided by the replicas, and vLLM must be told to stay inside it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, Optional, Union

from eksml.catalog import Catalog
from eksml.catalog.model_sizes import nominal_size_gb
from eksml.config.models import Environment, NodePool, PoolKind
from eksml.config.models_serving import HF_PREFIX, ServedModel, is_hub_source

Sharing = Literal["whole", "time-slicing", "mig"]
# vLLM's default share of the memory it may use; the rest covers CUDA context and activations.
USABLE_FRACTION = 0.9
_PROFILE_MEMORY = re.compile(r"\.(\d+)gb$")


@dataclass(frozen=True)
class GpuSlice:
    pool: str  # the pool named (a fixed node group or a Karpenter NodePool)
    sharing: Sharing
    gpu: str  # catalog GPU id(s)
    gpu_memory_gb: float  # the whole GPU, which is what vLLM sees under time-slicing
    memory_gb: float  # this model's share
    profile: Optional[str] = None  # MIG profile
    mig_strategy: Optional[str] = None

    @property
    def usable_gb(self) -> float:
        return round(self.memory_gb * USABLE_FRACTION, 2)

    @property
    def memory_utilization(self) -> float:
        """vLLM's --gpu-memory-utilization: a fraction of the memory the container sees."""
        if self.sharing != "time-slicing":
            return USABLE_FRACTION
        # Rounded down: a replica that takes more than its share starves its neighbours of memory.
        return math.floor(USABLE_FRACTION * self.memory_gb / self.gpu_memory_gb * 100) / 100

    def describe(self) -> str:
        if self.sharing == "mig":
            return f"MIG {self.profile} ({self.memory_gb:g} GB) on pool '{self.pool}'"
        if self.sharing == "time-slicing":
            return f"a time-slicing replica ({self.memory_gb:g} GB of {self.gpu}) on pool '{self.pool}'"
        return f"a whole {self.gpu} ({self.memory_gb:g} GB) on pool '{self.pool}'"


def profile_memory_gb(profile: str) -> Optional[float]:
    match = _PROFILE_MEMORY.search(profile)
    return float(match.group(1)) if match else None


def model_size_gb(model: ServedModel, source: Optional[str] = None) -> Optional[float]:
    """size_gb when given, else the catalog's nominal size for a Hugging Face id; None when unknown."""
    if model.size_gb is not None:
        return model.size_gb
    source = source or model.source
    return None if not is_hub_source(source) else nominal_size_gb(source.removeprefix(HF_PREFIX))


def model_slice(env: Environment, catalog: Catalog, model: ServedModel) -> Union[GpuSlice, str]:
    """The slice, or why there is none (a message naming what is allowed)."""
    pool = env.node_pools.get(model.pool)
    if pool is not None:
        return _fixed_slice(env, catalog, model.pool, pool, model.mig_profile)
    kpool = env.karpenter.node_pools.get(model.pool)
    if kpool is None:
        known = sorted({*env.gpu_pools(), *env.karpenter.node_pools})
        return f"no node pool named '{model.pool}'; GPU pools: {', '.join(known) or '(none)'}"
    if kpool.overflow_for and kpool.overflow_for in env.node_pools:
        fixed = _fixed_slice(env, catalog, kpool.overflow_for, env.node_pools[kpool.overflow_for], model.mig_profile)
        return fixed if isinstance(fixed, str) else GpuSlice(**{**fixed.__dict__, "pool": model.pool})
    gpus = [it.gpu for family in kpool.instance_families for it in catalog.instance_types_in_family(family) if it.is_gpu]
    if not gpus:
        return f"Karpenter pool '{model.pool}' has no GPU instance types ({', '.join(kpool.instance_families)})"
    if model.mig_profile is not None:
        return f"pool '{model.pool}' hands out whole GPUs, not MIG slices; remove mig_profile"
    smallest = min(gpus, key=lambda g: g.memory_gb)
    ids = "/".join(sorted({g.id for g in gpus}))
    return GpuSlice(model.pool, "whole", ids, smallest.memory_gb, smallest.memory_gb)


def _fixed_slice(env: Environment, catalog: Catalog, name: str, pool: NodePool, profile: Optional[str]) -> Union[GpuSlice, str]:
    if not pool.kind.is_gpu:
        gpu_pools = sorted(env.gpu_pools())
        return f"'{name}' is a cpu pool without GPUs; a model needs a GPU pool: {', '.join(gpu_pools) or '(none)'}"
    gpu = catalog.gpu_for(pool.instance_types, pool.gpu)
    if gpu is None:
        return f"the GPU of pool '{name}' is not in the catalog"
    if pool.kind is PoolKind.gpu_time_slicing:
        if profile is not None:
            return f"pool '{name}' uses time-slicing, not MIG; remove mig_profile"
        replicas = pool.time_slicing.replicas
        return GpuSlice(name, "time-slicing", gpu.id, gpu.memory_gb, round(gpu.memory_gb / replicas, 2))
    layout = pool.mig.layout
    if profile is None:
        if pool.mig.strategy == "mixed":
            return (f"pool '{name}' uses MIG strategy mixed: name the slice with mig_profile, "
                    f"one of {', '.join(sorted(set(layout)))}")
        profile = layout[0]
    elif profile not in layout:
        return f"'{profile}' is not in pool '{name}' MIG layout; allowed: {', '.join(sorted(set(layout)))}"
    memory = profile_memory_gb(profile)
    if memory is None:
        return f"cannot tell the memory of MIG profile '{profile}'"
    return GpuSlice(name, "mig", gpu.id, gpu.memory_gb, memory, profile, pool.mig.strategy)
