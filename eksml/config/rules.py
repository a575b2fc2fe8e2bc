"""Rules that need the whole environment or the GPU catalog.

Each rule yields (field path, message) pairs; the loader attaches the file name. A message says
what is wrong and what is allowed, so a user can fix it without reading our code.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

from eksml.catalog import Catalog, load_catalog
from eksml.config.models import Environment, NodePool, PoolKind, Tier
from eksml.config.network import plan_subnets

Finding = tuple[str, str]
Rule = Callable[[Environment, Catalog], Iterator[Finding]]

# Kubernetes versions that have EKS-optimized AL2023 NVIDIA AMIs (release v20260714: 1.30 to 1.36).
SUPPORTED_KUBERNETES_VERSIONS = ("1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36")
CHATQNA_STAGES = ("embedding", "retrieval", "reranking", "llm")
TOOLKIT_LABELS = ("eksml.io/pool",)
_RESERVED_LABEL_DOMAINS = ("kubernetes.io", "k8s.io")


def _names(items) -> str:
    return ", ".join(sorted(items)) or "(none)"


def tier_is_known(env: Environment, _: Catalog) -> Iterator[Finding]:
    if env.tier is None and env.name not in {t.value for t in Tier}:
        yield "tier", f"cannot derive the tier from name '{env.name}'; set tier to one of: local, dev, staging, prod"


def zones_in_region(env: Environment, _: Catalog) -> Iterator[Finding]:
    seen: set[str] = set()
    for index, zone in enumerate(env.availability_zones):
        if not (zone.startswith(env.region) and len(zone) == len(env.region) + 1 and zone[-1].isalpha()):
            yield (
                f"availability_zones[{index}]",
                f"'{zone}' is not an availability zone of region {env.region} "
                f"(expected {env.region}a, {env.region}b, ...)",
            )
        if zone in seen:
            yield f"availability_zones[{index}]", f"'{zone}' is listed twice"
        seen.add(zone)


def kubernetes_version_supported(env: Environment, _: Catalog) -> Iterator[Finding]:
    if env.cluster.kubernetes_version not in SUPPORTED_KUBERNETES_VERSIONS:
        yield (
            "cluster.kubernetes_version",
            f"'{env.cluster.kubernetes_version}' has no EKS-optimized AL2023 NVIDIA AMI; "
            f"allowed: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}",
        )


def subnets_fit_vpc(env: Environment, _: Catalog) -> Iterator[Finding]:
    network = env.network
    vpc = ipaddress.ip_network(network.vpc_cidr)
    zones = len(env.availability_zones)
    for field in ("private_subnets", "public_subnets"):
        given = getattr(network, field)
        if given is not None and len(given) != zones:
            yield f"network.{field}", f"needs one subnet per availability zone ({zones}), got {len(given)}"
    try:
        plan = plan_subnets(network, zones)
    except ValueError as exc:
        yield "network.vpc_cidr", str(exc)
        return
    placed: list[tuple[str, ipaddress.IPv4Network]] = []
    for field, cidrs in (("private_subnets", plan.private), ("public_subnets", plan.public)):
        for index, cidr in enumerate(cidrs):
            path = f"network.{field}[{index}]"
            subnet = ipaddress.ip_network(cidr)
            if not subnet.subnet_of(vpc):
                yield path, f"{subnet} is outside the VPC CIDR {vpc}"
                continue
            for other_path, other in placed:
                if subnet.overlaps(other):
                    yield path, f"{subnet} overlaps {other} ({other_path})"
            placed.append((path, subnet))
    for index, cidr in enumerate(plan.private):
        if ipaddress.ip_network(cidr).prefixlen > 22:
            yield (
                f"network.private_subnets[{index}]",
                f"{cidr} is too small for pods (every pod takes a VPC address); use /22 or larger",
            )


def public_endpoint_is_narrow_in_prod(env: Environment, _: Catalog) -> Iterator[Finding]:
    if env.resolved_tier is not Tier.prod or not env.cluster.endpoint_public_access:
        return
    if not env.cluster.public_access_cidrs:
        yield (
            "cluster.public_access_cidrs",
            "a public endpoint with no CIDRs is open to 0.0.0.0/0, which prod forbids; "
            "list narrow CIDRs or set endpoint_public_access: false",
        )
    for index, cidr in enumerate(env.cluster.public_access_cidrs):
        if ipaddress.ip_network(cidr).prefixlen == 0:
            yield (
                f"cluster.public_access_cidrs[{index}]",
                f"{cidr} opens the Kubernetes API to the whole internet, which prod forbids; "
                "use narrow CIDRs (VPN, office) or endpoint_public_access: false",
            )


def endpoint_reachable(env: Environment, _: Catalog) -> Iterator[Finding]:
    if not env.cluster.endpoint_public_access and not env.cluster.endpoint_private_access:
        yield "cluster.endpoint_private_access", "with the public endpoint off the private endpoint must be on"


def mlflow_has_its_secret_delivery(env: Environment, _: Catalog) -> Iterator[Finding]:
    if env.addons.mlflow.enabled and not env.addons.external_secrets.enabled:
        yield (
            "addons.external_secrets.enabled",
            "MLflow reads its database password through external-secrets (RDS rotates it); "
            "enable external_secrets or disable mlflow",
        )


def pool_sizes_ordered(env: Environment, _: Catalog) -> Iterator[Finding]:
    for name, pool in env.node_pools.items():
        if not pool.min_size <= pool.desired_size <= pool.max_size:
            yield (
                f"node_pools.{name}",
                f"sizes must satisfy min_size <= desired_size <= max_size, "
                f"got {pool.min_size} <= {pool.desired_size} <= {pool.max_size}",
            )


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
            if instance is not None and arch not in instance.architecture:
                yield (
                    f"node_pools.{name}.instance_types[{index}]",
                    f"{type_name} is {'/'.join(instance.architecture)}, but ami_type {ami} is {arch}",
                )


def _pool_gpu_id(pool: NodePool, catalog: Catalog) -> str | None:
    if pool.gpu:
        return pool.gpu
    for type_name in pool.instance_types:
        instance = catalog.instance_type(type_name)
        if instance is not None and instance.gpu is not None:
            return instance.gpu.id
    return None


def mig_layout_is_placeable(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    for name, pool in env.node_pools.items():
        if pool.mig is None:
            continue
        gpu_id = _pool_gpu_id(pool, catalog)
        gpu = catalog.gpu(gpu_id) if gpu_id else None
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


def genai_references(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    chatqna = env.genai.chatqna
    if chatqna is None or not chatqna.enabled:
        return
    base = "genai.chatqna"
    flow = list(chatqna.flow)
    expected = [stage for stage in CHATQNA_STAGES if stage in flow]
    if flow != expected or len(set(flow)) != len(flow):
        yield f"{base}.flow", f"stages must appear once each, in the order {' >> '.join(CHATQNA_STAGES)}; got {' >> '.join(flow)}"
    for required in ("embedding", "retrieval", "llm"):
        if required not in flow:
            yield f"{base}.flow", f"the flow needs the '{required}' stage (reranking is the only optional one)"
    gpu_pools = env.gpu_pools()
    pool = env.node_pools.get(chatqna.llm_node_pool)
    if pool is None:
        yield f"{base}.llm_node_pool", f"no node pool named '{chatqna.llm_node_pool}'; GPU pools: {_names(gpu_pools)}"
        return
    if not pool.kind.is_gpu:
        yield (
            f"{base}.llm_node_pool",
            f"'{chatqna.llm_node_pool}' is a cpu pool; the LLM needs a GPU pool: {_names(gpu_pools)}",
        )
        return
    gpu = chatqna.llm_gpu
    mixed_mig = pool.mig is not None and pool.mig.strategy == "mixed"
    if gpu.mig_profile is not None:
        if not mixed_mig:
            yield (
                f"{base}.llm_gpu.mig_profile",
                f"pool '{chatqna.llm_node_pool}' is not a mixed-strategy MIG pool, so it has no MIG resources; "
                "use llm_gpu: {count: N}",
            )
        elif gpu.mig_profile not in pool.mig.layout:
            yield (
                f"{base}.llm_gpu.mig_profile",
                f"'{gpu.mig_profile}' is not in pool '{chatqna.llm_node_pool}' layout; "
                f"allowed: {_names(set(pool.mig.layout))}",
            )
    elif mixed_mig:
        yield (
            f"{base}.llm_gpu.count",
            f"pool '{chatqna.llm_node_pool}' uses MIG strategy mixed and offers no plain nvidia.com/gpu; "
            f"request a profile with llm_gpu: {{mig_profile: ...}} from {_names(set(pool.mig.layout))}",
        )
    elif gpu.count is not None and pool.time_slicing is not None and gpu.count > 1:
        yield (
            f"{base}.llm_gpu.count",
            "a time-slicing pool gives each pod at most 1 shared GPU replica (more gives no extra compute); use count: 1",
        )


def names_fit_aws_limits(env: Environment, _: Catalog) -> Iterator[Finding]:
    for index, item in enumerate(env.storage.buckets):
        bucket = env.bucket_name(item)
        if len(bucket) > 63:
            yield f"storage.buckets[{index}]", f"bucket name '{bucket}' is longer than 63 characters; shorten cluster.name or the item"
    if len(env.storage.buckets) != len(set(env.storage.buckets)):
        yield "storage.buckets", "bucket items must be unique"
    if "artifacts" not in env.storage.buckets:
        yield "storage.buckets", "the platform needs an 'artifacts' bucket (MLflow, Argo and KServe use it)"


RULES: tuple[Rule, ...] = (
    tier_is_known,
    zones_in_region,
    kubernetes_version_supported,
    subnets_fit_vpc,
    public_endpoint_is_narrow_in_prod,
    endpoint_reachable,
    pool_sizes_ordered,
    pool_instance_types_match_kind,
    pool_ami_matches_hardware,
    mig_layout_is_placeable,
    labels_not_reserved,
    karpenter_references,
    genai_references,
    names_fit_aws_limits,
    mlflow_has_its_secret_delivery,
)


def check_environment(env: Environment, catalog: Catalog | None = None) -> list[Finding]:
    catalog = catalog or load_catalog()
    return [finding for rule in RULES for finding in rule(env, catalog)]
