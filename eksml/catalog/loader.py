"""Build the `Catalog` from the JSON files shipped next to this module.

The files are hand-edited, so every record is checked on load: a typo should fail loudly
here rather than surface later as a pool that never schedules.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from eksml.catalog.model import Catalog, Gpu, InstanceType, MigProfile, mixed_strategy_resource_name

INSTANCE_TYPES_FILE = "instance_types.json"
MIG_PROFILES_FILE = "mig_profiles.json"


@functools.cache
def load_catalog() -> Catalog:
    package = resources.files("eksml.catalog")
    instance_data = json.loads(package.joinpath(INSTANCE_TYPES_FILE).read_text(encoding="utf-8"))
    mig_data = json.loads(package.joinpath(MIG_PROFILES_FILE).read_text(encoding="utf-8"))
    return build_catalog(instance_data, mig_data)


def build_catalog(instance_data: dict[str, Any], mig_data: dict[str, Any]) -> Catalog:
    slices = _fields(mig_data["slices_per_gpu"], MIG_PROFILES_FILE, "slices_per_gpu", {"compute": int, "memory": int})
    mig_profiles = _mig_profiles(mig_data, slices["memory"])
    gpus = {
        gpu_id: _gpu(gpu_id, raw, mig_capable=gpu_id in mig_profiles)
        for gpu_id, raw in instance_data["gpus"].items()
    }
    unknown = set(mig_profiles) - set(gpus)
    if unknown:
        raise ValueError(f"{MIG_PROFILES_FILE}: MIG profiles for GPUs missing from {INSTANCE_TYPES_FILE}: {sorted(unknown)}")
    instance_types = [_instance_type(name, raw, gpus) for name, raw in instance_data["instance_types"].items()]
    return Catalog(instance_types, gpus.values(), mig_profiles, slices["compute"], slices["memory"])


def _gpu(gpu_id: str, raw: dict[str, Any], mig_capable: bool) -> Gpu:
    fields = _fields(raw, INSTANCE_TYPES_FILE, f"gpus.{gpu_id}",
                     {"ec2_name": str, "ec2_memory_mib": int, "product": str, "memory_gb": int})
    return Gpu(id=gpu_id, mig_capable=mig_capable, **fields)


def _instance_type(name: str, raw: dict[str, Any], gpus: dict[str, Gpu]) -> InstanceType:
    where = f"instance_types.{name}"
    fields = _fields(raw, INSTANCE_TYPES_FILE, where,
                     {"vcpus": int, "memory_gib": int, "architecture": str, "efa": bool},
                     optional={"gpu": str, "gpu_count": int, "efa_interfaces": int})
    if fields["efa"] != (fields.get("efa_interfaces", 0) > 0):
        raise ValueError(f"{INSTANCE_TYPES_FILE}: {where}: efa_interfaces (>0) goes with efa: true, and only with it")
    gpu_id = fields.pop("gpu", None)
    gpu_count = fields.pop("gpu_count", 0)
    if (gpu_id is None) != (gpu_count == 0):
        raise ValueError(f"{INSTANCE_TYPES_FILE}: {where}: set both gpu and gpu_count (>0), or neither")
    if gpu_id is not None and gpu_id not in gpus:
        raise ValueError(f"{INSTANCE_TYPES_FILE}: {where}: unknown GPU {gpu_id!r}")
    family = name.split(".", 1)[0]
    return InstanceType(name=name, family=family, gpu=gpus.get(gpu_id) if gpu_id else None,
                        gpu_count=gpu_count, **fields)


def _mig_profiles(mig_data: dict[str, Any], memory_slots: int) -> dict[str, list[MigProfile]]:
    classes = {
        class_name: _fields(raw, MIG_PROFILES_FILE, f"profile_classes.{class_name}",
                            {"compute_slices": int, "memory_slices": int, "start_slots": list, "max_per_gpu": int},
                            optional={"nvml_profile_id": int})
        for class_name, raw in mig_data["profile_classes"].items()
    }
    for class_name, rule in classes.items():
        if any(start + rule["memory_slices"] > memory_slots for start in rule["start_slots"]):
            raise ValueError(f"{MIG_PROFILES_FILE}: profile class {class_name} has a placement past slot {memory_slots}")

    by_gpu: dict[str, list[MigProfile]] = {}
    for gpu_id, names in mig_data["gpus"].items():
        if set(names) != set(classes):
            raise ValueError(f"{MIG_PROFILES_FILE}: gpus.{gpu_id} must name exactly the classes {sorted(classes)}")
        by_gpu[gpu_id] = [
            MigProfile(
                name=names[class_name],
                profile_class=class_name,
                compute_slices=rule["compute_slices"],
                memory_slices=rule["memory_slices"],
                start_slots=tuple(rule["start_slots"]),
                max_per_gpu=rule["max_per_gpu"],
                resource_name=mixed_strategy_resource_name(names[class_name]),
            )
            for class_name, rule in classes.items()  # file order = stable, smallest first
        ]
    return by_gpu


def _fields(raw: dict[str, Any], file: str, where: str, required: dict[str, type],
            optional: dict[str, type] | None = None) -> dict[str, Any]:
    """Type-check one JSON record; bool is rejected where int is expected (JSON true is not 1 GiB)."""
    optional = optional or {}
    unknown = set(raw) - set(required) - set(optional)
    missing = set(required) - set(raw)
    if unknown or missing:
        raise ValueError(f"{file}: {where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    for key, value in raw.items():
        expected = required.get(key) or optional[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ValueError(f"{file}: {where}.{key}: expected {expected.__name__}, got {value!r}")
    return dict(raw)
