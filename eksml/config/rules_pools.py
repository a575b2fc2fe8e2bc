"""Node pool rules: sizes, instance types against the GPU catalog, AMIs, MIG layouts, labels, Karpenter."""

from __future__ import annotations

from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.catalog.aws_facts import load_aws_facts
from eksml.config.models import Environment, PoolKind
from eksml.config.rule_base import Finding, names as _names, needs
from eksml.contract.names import TOOLKIT_LABELS
_RESERVED_LABEL_DOMAINS = ("kubernetes.io", "k8s.io")



@needs('node_pools')
def pool_sizes_ordered(env: Environment, _: Catalog) -> Iterator[Finding]:
    for name, pool in env.node_pools.items():
        if not pool.min_size <= pool.desired_size <= pool.max_size:
            yield (
                f"node_pools.{name}",
                f"sizes must satisfy min_size <= desired_size <= max_size, "
                f"got {pool.min_size} <= {pool.desired_size} <= {pool.max_size}",
            )


@needs('node_pools')
def pool_instance_types_match_kind(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    known = [it.name for it in catalog.instance_types()]
    for name, pool in env.node_pools.items():
        gpu_ids: set[str] = set()
        for index, type_name in enumerate(pool.instance_types):
            path = f"node_pools.{name}.instance_types[{index}]"
            instance = catalog.instance_type(type_name)
            if instance is None:
                yield path, f"unknown instance type '{type_name}'; the catalog knows: {', '.join(known)}"
                continue
            if pool.kind.is_gpu and not instance.is_gpu:
                yield path, f"{type_name} has no GPU, but the pool is kind {pool.kind.value}; use a GPU instance type"
                continue
            if not pool.kind.is_gpu and instance.is_gpu:
                yield (
                    path,
                    f"{type_name} carries {instance.gpu_count}x {instance.gpu.id}, but the pool is kind cpu; "
                    "use kind gpu-time-slicing or gpu-mig, or a CPU instance type",
                )
                continue
            if instance.gpu is not None:
                gpu_ids.add(instance.gpu.id)
                if pool.gpu is not None and instance.gpu.id != pool.gpu:
                    yield (
                        path,
                        f"{type_name} carries {instance.gpu.id} GPUs ({instance.gpu.product}), "
                        f"not {pool.gpu} as the pool's gpu field expects",
                    )
            if pool.kind is PoolKind.gpu_mig and instance.gpu is not None and not instance.gpu.mig_capable:
                yield (
                    path,
                    f"{type_name} carries {instance.gpu.id}, which does not support MIG; "
                    f"MIG-capable GPUs: {_names(g.id for g in catalog.gpus() if g.mig_capable)}. "
                    "Use kind gpu-time-slicing on this instance type",
                )
        if pool.kind is PoolKind.gpu_mig and len(gpu_ids) > 1:
            yield (
                f"node_pools.{name}.instance_types",
                f"a MIG pool needs one GPU model for its layout; these types carry {_names(gpu_ids)}",
            )
        if pool.gpu is not None and catalog.gpu(pool.gpu) is None:
            yield f"node_pools.{name}.gpu", f"unknown GPU '{pool.gpu}'; allowed: {_names(g.id for g in catalog.gpus())}"
        if pool.gpu is not None and not pool.kind.is_gpu:
            yield f"node_pools.{name}.gpu", "only GPU pools (gpu-time-slicing, gpu-mig) may declare a gpu"


@needs('node_pools')
def pool_ami_matches_hardware(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    for name, pool in env.node_pools.items():
        ami = pool.resolved_ami_type
        has_driver = "NVIDIA" in ami
        if pool.kind.is_gpu and not has_driver:
            yield (
                f"node_pools.{name}.ami_type",
                f"{ami} has no NVIDIA driver; GPU pools need AL2023_x86_64_NVIDIA or BOTTLEROCKET_x86_64_NVIDIA",
            )
        if not pool.kind.is_gpu and has_driver:
            yield f"node_pools.{name}.ami_type", f"{ami} is a GPU image; a cpu pool uses AL2023_x86_64_STANDARD"
        arch = "arm64" if "ARM_64" in ami else "x86_64"
        for index, type_name in enumerate(pool.instance_types):
            instance = catalog.instance_type(type_name)
            if instance is not None and arch != instance.architecture:
                yield (
                    f"node_pools.{name}.instance_types[{index}]",
                    f"{type_name} is {instance.architecture}, but ami_type {ami} is {arch}",
                )


@needs('node_pools')
def mig_layout_is_placeable(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    for name, pool in env.node_pools.items():
        if pool.mig is None:
            continue
        gpu = catalog.gpu_for(pool.instance_types, pool.gpu)
        if gpu is None or not gpu.mig_capable:
            continue  # reported by pool_instance_types_match_kind
        base = f"node_pools.{name}.mig"
        valid_names = [profile.name for profile in catalog.mig_profiles(gpu.id)]
        unknown = False
        for index, profile_name in enumerate(pool.mig.layout):
            if catalog.mig_profile(gpu.id, profile_name) is None:
                unknown = True
                yield (
                    f"{base}.layout[{index}]",
                    f"'{profile_name}' is not a MIG profile of {gpu.id} ({gpu.product}); "
                    f"allowed: {', '.join(valid_names)}",
                )
        if unknown:
            continue
        if pool.mig.strategy == "single" and len(set(pool.mig.layout)) > 1:
            yield (
                f"{base}.strategy",
                "strategy single exposes every MIG device as nvidia.com/gpu and needs one identical profile on "
                f"every GPU; this layout mixes {_names(set(pool.mig.layout))}: use strategy mixed",
            )
        if catalog.place_mig_layout(gpu.id, pool.mig.layout) is None:
            limits = ", ".join(
                f"{p.name} x{p.max_per_gpu}" for p in catalog.mig_profiles(gpu.id) if p.name in pool.mig.layout
            )
            yield (
                f"{base}.layout",
                f"[{', '.join(pool.mig.layout)}] cannot be placed on one {gpu.id}: no arrangement of these "
                f"profiles fits the GPU's 7 compute and 8 memory slices at their allowed positions "
                f"(at most per GPU: {limits})",
            )


@needs('node_pools', 'karpenter')
def labels_not_reserved(env: Environment, _: Catalog) -> Iterator[Finding]:
    def check(path: str, labels: dict[str, str]) -> Iterator[Finding]:
        for key in labels:
            domain = key.rpartition("/")[0]
            if key in TOOLKIT_LABELS:
                yield f"{path}.{key}", f"'{key}' is set by eksml itself and cannot be overridden"
            elif any(domain == d or domain.endswith("." + d) for d in _RESERVED_LABEL_DOMAINS):
                yield (
                    f"{path}.{key}",
                    f"'{key}' uses a reserved Kubernetes prefix ({domain}/); the kubelet refuses such node labels. "
                    "Use an unprefixed key or your own domain",
                )

    for name, pool in env.node_pools.items():
        yield from check(f"node_pools.{name}.labels", pool.labels)
    for name, pool in env.karpenter.node_pools.items():
        yield from check(f"karpenter.node_pools.{name}.labels", pool.labels)


@needs('node_pools', 'karpenter')
def karpenter_references(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    families = {it.family for it in catalog.instance_types()}
    gpu_pools = env.gpu_pools()
    for name, pool in env.karpenter.node_pools.items():
        base = f"karpenter.node_pools.{name}"
        if pool.overflow_for is not None:
            if pool.overflow_for not in env.node_pools:
                yield (
                    f"{base}.overflow_for",
                    f"no node pool named '{pool.overflow_for}'; GPU pools: {_names(gpu_pools)}",
                )
            elif pool.overflow_for not in gpu_pools:
                yield (
                    f"{base}.overflow_for",
                    f"'{pool.overflow_for}' is a cpu pool; overflow_for must name a GPU pool: {_names(gpu_pools)}",
                )
        for index, family in enumerate(pool.instance_families):
            if family not in families:
                yield (
                    f"{base}.instance_families[{index}]",
                    f"unknown instance family '{family}'; the catalog knows: {_names(families)}",
                )
        gpu_families = [f for f in pool.instance_families if any(it.is_gpu for it in catalog.instance_types_in_family(f))]
        if pool.gpu_limit is not None and not gpu_families:
            yield f"{base}.gpu_limit", "gpu_limit is set but none of the instance families has GPUs"


@needs("node_pools", "karpenter")
def karpenter_overflow_carries_fixed_gpu(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    """An overflow pool copies its fixed pool's GPU sharing config, made for one GPU model: it must offer it."""
    for name, kpool in env.karpenter.node_pools.items():
        fixed = env.node_pools.get(kpool.overflow_for) if kpool.overflow_for else None
        if fixed is None or not fixed.kind.is_gpu:
            continue  # karpenter_references reports a missing or cpu pool
        gpu = catalog.gpu_for(fixed.instance_types, fixed.gpu)
        if gpu is None:
            continue  # pool_instance_types_match_kind reports an unknown GPU
        carries = [
            it.name for family in kpool.instance_families for it in catalog.instance_types_in_family(family)
            if it.gpu is not None and it.gpu.id == gpu.id
        ]
        if not carries:
            yield (
                f"karpenter.node_pools.{name}.instance_families",
                f"overflow_for '{kpool.overflow_for}' needs {gpu.id} GPUs (its sharing config is made for them), "
                f"but none of {', '.join(kpool.instance_families)} carries one",
            )


@needs("node_pools")
def capacity_blocks_on_gpu_pools(env: Environment, _: Catalog) -> Iterator[Finding]:
    """EC2 Capacity Blocks for ML reserve only some GPU and Trainium instance types."""
    allowed = load_aws_facts().capacity_block_types
    for name, pool in env.node_pools.items():
        if pool.capacity_type != "CAPACITY_BLOCK":
            continue
        if not pool.kind.is_gpu:
            yield (
                f"node_pools.{name}.capacity_type",
                "CAPACITY_BLOCK reserves GPU instances (EC2 Capacity Blocks for ML); a cpu pool uses ON_DEMAND or SPOT",
            )
            continue
        for index, type_name in enumerate(pool.instance_types):
            if type_name not in allowed:
                yield (
                    f"node_pools.{name}.instance_types[{index}]",
                    f"{type_name} cannot be reserved as an EC2 Capacity Block; those that can: {_names(allowed)}",
                )


RULES = (
    pool_sizes_ordered,
    pool_instance_types_match_kind,
    pool_ami_matches_hardware,
    mig_layout_is_placeable,
    labels_not_reserved,
    karpenter_references,
    karpenter_overflow_carries_fixed_gpu,
    capacity_blocks_on_gpu_pools,
)
