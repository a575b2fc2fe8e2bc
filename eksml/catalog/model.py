"""The catalog's value types and the query object the rest of eksml talks to.

Nothing here knows about files: `loader.py` builds a `Catalog` from the shipped JSON,
so the data stays the single source of truth and this module stays pure lookups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

from eksml.catalog.mig_layout import find_placement


@dataclass(frozen=True)
class Gpu:
    id: str
    ec2_name: str
    product: str
    memory_gb: int
    mig_capable: bool
    # What DescribeInstanceTypes reports per GPU; the only way to tell A100-40GB from A100-80GB.
    ec2_memory_mib: Optional[int] = None


@dataclass(frozen=True)
class InstanceType:
    name: str
    family: str
    vcpus: int
    memory_gib: int
    architecture: str
    gpu: Optional[Gpu]
    gpu_count: int
    efa: bool
    efa_interfaces: int = 0  # EFA network interfaces an instance may attach (one per network card)

    @property
    def is_gpu(self) -> bool:
        return self.gpu is not None and self.gpu_count > 0


@dataclass(frozen=True)
class MigProfile:
    name: str
    profile_class: str
    compute_slices: int
    memory_slices: int
    start_slots: tuple[int, ...]
    max_per_gpu: int
    resource_name: str


def mixed_strategy_resource_name(profile_name: str) -> str:
    """The device plugin's name under migStrategy=mixed: '+' is not allowed in a resource name."""
    return "nvidia.com/mig-" + profile_name.replace("+", ".")


class Catalog:
    """Read-only lookups over instance types, GPUs and MIG profiles."""

    def __init__(
        self,
        instance_types: Iterable[InstanceType],
        gpus: Iterable[Gpu],
        mig_profiles: Mapping[str, Sequence[MigProfile]],
        compute_slices_per_gpu: int,
        memory_slices_per_gpu: int,
    ) -> None:
        self._instance_types = {it.name: it for it in sorted(instance_types, key=lambda it: it.name)}
        self._gpus = {gpu.id: gpu for gpu in gpus}
        self._mig_profiles = {gpu_id: tuple(profiles) for gpu_id, profiles in mig_profiles.items()}
        self.compute_slices_per_gpu = compute_slices_per_gpu
        self.memory_slices_per_gpu = memory_slices_per_gpu

    def instance_type(self, name: str) -> Optional[InstanceType]:
        return self._instance_types.get(name)

    def instance_types(self) -> list[InstanceType]:
        return list(self._instance_types.values())

    def instance_types_in_family(self, family: str) -> list[InstanceType]:
        return [it for it in self._instance_types.values() if it.family == family]

    def gpu(self, gpu_id: str) -> Optional[Gpu]:
        return self._gpus.get(gpu_id)

    def gpus(self) -> list[Gpu]:
        return list(self._gpus.values())

    def gpu_for(self, instance_types: Sequence[str], declared: Optional[str] = None) -> Optional[Gpu]:
        """The GPU a pool of these instance types carries: the declared one, else the first type's."""
        if declared:
            return self.gpu(declared)
        for name in instance_types:
            instance = self.instance_type(name)
            if instance is not None and instance.gpu is not None:
                return instance.gpu
        return None

    def gpu_from_ec2(self, ec2_name: str, memory_mib: int) -> Optional[Gpu]:
        """Map DescribeInstanceTypes' GpuInfo back to a catalog GPU (the name alone is ambiguous)."""
        for gpu in self._gpus.values():
            if gpu.ec2_name == ec2_name and gpu.ec2_memory_mib == memory_mib:
                return gpu
        return None

    def mig_profiles(self, gpu_id: str) -> list[MigProfile]:
        return list(self._mig_profiles.get(gpu_id, ()))

    def mig_profile(self, gpu_id: str, name: str) -> Optional[MigProfile]:
        for profile in self._mig_profiles.get(gpu_id, ()):
            if profile.name == name:
                return profile
        return None

    def place_mig_layout(self, gpu_id: str, profile_names: Sequence[str]) -> Optional[tuple[int, ...]]:
        """Start memory slot per requested profile (in the given order), or None if the mix cannot coexist.

        Raises ValueError for an unknown or non-MIG GPU or a profile name the GPU does not have,
        so "misspelt" is never confused with "does not fit".
        """
        gpu = self._gpus.get(gpu_id)
        if gpu is None:
            raise ValueError(f"unknown GPU {gpu_id!r}; known: {', '.join(self._gpus)}")
        if not gpu.mig_capable:
            raise ValueError(f"{gpu_id} does not support MIG")
        requested = []
        for name in profile_names:
            profile = self.mig_profile(gpu_id, name)
            if profile is None:
                valid = ", ".join(p.name for p in self._mig_profiles[gpu_id])
                raise ValueError(f"{name!r} is not a MIG profile of {gpu_id}; valid: {valid}")
            requested.append(profile)
        return find_placement(requested, self.compute_slices_per_gpu, self.memory_slices_per_gpu)
