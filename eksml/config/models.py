"""Typed environment file (environments/<name>.yaml).

Shape-level rules live here (types, enums, ranges, Kubernetes name syntax);
rules that need the whole file or the GPU catalog live in `rules.py`, so every
problem is reported at once with its field path.
"""

from __future__ import annotations

import ipaddress
import re
from enum import Enum
from typing import Annotated, Literal, Optional

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from eksml.config.models_addons import Addon, Addons  # noqa: F401 (Addon: re-exported)
from eksml.config.models_delivery import GitOps
from eksml.config.models_operations import Backups, Logs, Mesh, Training
from eksml.config.models_serving import Access, Serving
from eksml.config.models_genai import GenAI
from eksml.config.models_reservations import Reservation
from eksml.config.value_checks import admin_arn, chart_version, dns_label, instance_family, model_id
from eksml.contract.names import BACKUPS_BUCKET, bucket_name

# Kubernetes qualified name: optional DNS-1123 subdomain prefix + "/" + name part.
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


def _label_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        raise ValueError(f"label key '{key}': prefix '{prefix}' must be a lowercase DNS subdomain")
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        raise ValueError(
            f"label key '{key}': name part must be 1-63 characters of letters, digits, '-', '_', '.', "
            "starting and ending with a letter or digit"
        )
    return key


def _label_value(value: str) -> str:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise ValueError(
            f"label value '{value}' must be at most 63 characters of letters, digits, '-', '_', '.', "
            "starting and ending with a letter or digit"
        )
    return value


def _cidr(value: str) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid IPv4 CIDR block ({exc})") from None
    if net.version != 4:
        raise ValueError(f"'{value}' must be an IPv4 CIDR block")
    return value


DnsLabel = Annotated[str, AfterValidator(dns_label)]
# Numbers and switches are strict: YAML `true` is not 1 node, and "yes" is not a boolean.
Int = StrictInt
Bool = StrictBool
AdminArn = Annotated[str, AfterValidator(admin_arn)]
InstanceFamily = Annotated[str, AfterValidator(instance_family)]
ChartVersion = Annotated[str, AfterValidator(chart_version)]
ModelId = Annotated[str, AfterValidator(model_id)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
Cidr = Annotated[str, AfterValidator(_cidr)]


class Strict(BaseModel):
    """Unknown fields are an error: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Tier(str, Enum):
    """Promotion order: local is a sandbox, then dev -> staging -> prod."""

    local = "local"
    dev = "dev"
    staging = "staging"
    prod = "prod"


TIER_ORDER = (Tier.local, Tier.dev, Tier.staging, Tier.prod)
MAX_KARPENTER_GPUS = 10_000
MAX_KARPENTER_CPUS = 1_000_000
MAX_CONSOLIDATE_AFTER_SECONDS = 720 * 3600


class PoolKind(str, Enum):
    cpu = "cpu"
    gpu_time_slicing = "gpu-time-slicing"
    gpu_mig = "gpu-mig"

    @property
    def is_gpu(self) -> bool:
        return self is not PoolKind.cpu


class StateConfig(Strict):
    bucket: str = Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
    key_prefix: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._/-]+$")


class NetworkConfig(Strict):
    vpc_cidr: Cidr
    nat_gateways: Literal["single", "one_per_az"] = "single"
    # One subnet per availability zone, in the same order. Derived from vpc_cidr when omitted:
    # large private subnets (pods take VPC-CNI addresses), small public ones for load balancers.
    private_subnets: Optional[list[Cidr]] = None
    public_subnets: Optional[list[Cidr]] = None
    interface_endpoints: list[str] = Field(default_factory=lambda: ["ecr.api", "ecr.dkr", "sts"])


class ClusterConfig(Strict):
    name: DnsLabel
    kubernetes_version: str = Field(pattern=r"^1\.\d{2}$")
    endpoint_public_access: Bool = True
    endpoint_private_access: Bool = True
    public_access_cidrs: list[Cidr] = Field(default_factory=list)
    admins: list[AdminArn] = Field(default_factory=list)
    log_types: list[Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]] = Field(
        default_factory=lambda: ["api", "audit", "authenticator"]
    )
    # EKS-optimized AMI release for every node group (e.g. "1.33.5-20260714"); promotion copies it.
    ami_release_version: Optional[str] = None


class Taint(Strict):
    key: LabelKey
    value: Optional[LabelValue] = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class TimeSlicing(Strict):
    # The device plugin rejects fewer than 2 replicas; more than 48 per GPU is never useful.
    replicas: Int = Field(ge=2, le=48)


class MigConfig(Strict):
    strategy: Literal["mixed", "single"] = "mixed"
    layout: list[str] = Field(min_length=1, max_length=7)


AmiType = Literal[
    "AL2023_x86_64_STANDARD",
    "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_STANDARD",
    "AL2023_ARM_64_NVIDIA",
    "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_x86_64_NVIDIA",
]


class NodePool(Strict):
    kind: PoolKind
    instance_types: list[str] = Field(min_length=1, max_length=20)
    gpu: Optional[str] = None  # the GPU the pool expects, e.g. A100-80GB; checked against the catalog
    capacity_type: Literal["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"] = "ON_DEMAND"
    ami_type: Optional[AmiType] = None  # derived from kind when omitted
    min_size: Int = Field(ge=0, le=450)
    desired_size: Int = Field(ge=0, le=450)
    max_size: Int = Field(ge=1, le=450)
    disk_size_gb: Optional[Int] = Field(default=None, ge=20, le=16384)
    max_unavailable: Int = Field(default=1, ge=1, le=100)
    time_slicing: Optional[TimeSlicing] = None
    mig: Optional[MigConfig] = None
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    # EFA interfaces on every node (as many as the instance type has), in a cluster placement group.
    efa: Bool = False
    availability_zones: Optional[list[str]] = Field(default=None, min_length=1, max_length=6)  # default: all
    reservation: Optional[Reservation] = None  # an ODCR or Capacity Block the launch template targets

    @model_validator(mode="after")
    def _kind_matches_sharing(self) -> "NodePool":
        if self.kind is PoolKind.gpu_time_slicing and self.time_slicing is None:
            raise ValueError("kind gpu-time-slicing needs time_slicing: {replicas: N}")
        if self.kind is not PoolKind.gpu_time_slicing and self.time_slicing is not None:
            raise ValueError(f"time_slicing is only allowed on kind gpu-time-slicing, not {self.kind.value}")
        if self.kind is PoolKind.gpu_mig and self.mig is None:
            raise ValueError("kind gpu-mig needs mig: {strategy: mixed|single, layout: [...]}")
        if self.kind is not PoolKind.gpu_mig and self.mig is not None:
            raise ValueError(f"mig is only allowed on kind gpu-mig, not {self.kind.value}")
        return self

    @property
    def resolved_ami_type(self) -> str:
        if self.ami_type:
            return self.ami_type
        return "AL2023_x86_64_NVIDIA" if self.kind.is_gpu else "AL2023_x86_64_STANDARD"

    @property
    def resolved_disk_size_gb(self) -> int:
        # GPU images (CUDA, vLLM, TGI) are tens of GB; the default 20 GB root fills up on first pull.
        return self.disk_size_gb or (200 if self.kind.is_gpu else 50)

    @property
    def workload_type(self) -> Optional[str]:
        return self.labels.get("workload-type")


class MlflowDb(Strict):
    instance_class: str = Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    allocated_storage_gb: Int = Field(ge=20, le=65536)
    engine_version: str = "16"
    multi_az: Bool = False
    deletion_protection: Bool = True
    backup_retention_days: Int = Field(default=7, ge=0, le=35)


class StorageConfig(Strict):
    buckets: list[DnsLabel] = Field(default_factory=lambda: ["artifacts", "datasets", "logs"])
    efs: Bool = True
    mlflow_db: MlflowDb
    # Days before objects in the logs bucket expire.
    log_retention_days: Int = Field(default=90, ge=1)


class KarpenterPool(Strict):
    instance_families: list[InstanceFamily] = Field(min_length=1)
    # reserved: the capacity reservations below first, then the others as fallbacks.
    capacity_types: list[Literal["reserved", "spot", "on-demand"]] = Field(min_length=1)
    reservations: list[Reservation] = Field(default_factory=list, max_length=20)
    # Ceilings guard against typos (a GPU limit of 10^40 would render as a 41-digit quantity).
    gpu_limit: Optional[Int] = Field(default=None, ge=1, le=MAX_KARPENTER_GPUS)
    cpu_limit: Optional[Int] = Field(default=None, ge=1, le=MAX_KARPENTER_CPUS)
    taints: list[Taint] = Field(default_factory=list)
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    # A fixed GPU pool this NodePool adds elastic capacity to: its labels, taints and
    # GPU sharing label are copied so the same workloads can land on either.
    overflow_for: Optional[str] = None
    consolidate_after: str = Field(default="5m", pattern=r"^\d+[smh]$")

    @field_validator("consolidate_after")
    @classmethod
    def _bounded_duration(cls, value: str) -> str:
        seconds = int(value[:-1]) * {"s": 1, "m": 60, "h": 3600}[value[-1]]
        if seconds > MAX_CONSOLIDATE_AFTER_SECONDS:
            raise ValueError(f"'{value}' is longer than 720h (30 days); Karpenter would practically never consolidate")
        return value


class KarpenterConfig(Strict):
    node_pools: dict[DnsLabel, KarpenterPool] = Field(default_factory=dict)


class Team(Strict):
    gpu_quota: Int = Field(ge=0, le=10000)


class Charts(Strict):
    """Where charts come from: every chart from one mirror repository (air-gapped companies), else
    each from its publisher. EKSML_CHART_MIRROR overrides it for one run."""

    mirror: Optional[str] = None  # http(s):// chart repository (with index.yaml) or oci:// registry path

    @field_validator("mirror")
    @classmethod
    def _repository_url(cls, url: Optional[str]) -> Optional[str]:
        if url is not None and not re.match(r"^(https?|oci)://[^/\s]+(/\S*)?$", url):
            raise ValueError(f"'{url}' is not a chart repository URL: use https://host/path (a Helm repository "
                             "with index.yaml) or oci://registry/path")
        return url


class Environment(Strict):
    name: DnsLabel
    tier: Optional[Tier] = None  # derived from the name when it is local/dev/staging/prod
    emulator: Bool = False  # true: AWS calls go to the local emulator (moto), never to a real account
    # The AWS account this environment lives in; Terraform refuses to run with credentials of another.
    account_id: Optional[str] = Field(default=None, pattern=r"^\d{12}$")
    region: str
    availability_zones: list[str] = Field(min_length=2, max_length=6)
    tags: dict[str, str] = Field(default_factory=dict)
    state: StateConfig
    network: NetworkConfig
    cluster: ClusterConfig
    node_pools: dict[DnsLabel, NodePool] = Field(min_length=1)
    storage: StorageConfig
    karpenter: KarpenterConfig = Field(default_factory=KarpenterConfig)
    addons: Addons
    genai: GenAI = Field(default_factory=GenAI)
    teams: dict[DnsLabel, Team] = Field(default_factory=dict)
    charts: Charts = Field(default_factory=Charts)
    serving: Serving = Field(default_factory=Serving)  # models served on KServe (rules_serving.py)
    access: Optional[Access] = None  # UIs and endpoints behind the shared ALB; none exposed when absent
    delivery: Literal["helm", "gitops"] = "helm"  # gitops: Argo CD syncs what `render --gitops` writes
    gitops: Optional[GitOps] = None
    backups: Optional[Backups] = None  # Velero schedule and retention; prod refuses none (rules_operations.py)
    logs: Logs = Field(default_factory=Logs)  # pod logs in CloudWatch Logs
    training: Optional[Training] = None  # Kubeflow Trainer's runtimes and the pools they run on
    mesh: Mesh = Field(default_factory=Mesh)  # Linkerd mTLS between the platform's pods

    @field_validator("region")
    @classmethod
    def _region(cls, region: str) -> str:
        if not _REGION.match(region):
            raise ValueError(f"'{region}' is not an AWS region name (e.g. us-east-1)")
        return region

    @property
    def resolved_tier(self) -> Tier:
        """A file named staging or prod is at least that tier, whatever its `tier` says (a rule refuses lowering).

        Raises ValueError for a name that is not a tier when no tier is set; `tier_is_known` reports that.
        """
        by_name = Tier(self.name) if self.name in Tier.__members__ else None
        declared = self.tier or by_name
        if declared is None:
            raise ValueError(f"environment '{self.name}' has no tier; set tier to one of: local, dev, staging, prod")
        if by_name in (Tier.staging, Tier.prod) and TIER_ORDER.index(declared) < TIER_ORDER.index(by_name):
            return by_name
        return declared

    @property
    def protected(self) -> bool:
        """Staging and prod refuse to replace or destroy stateful resources without --allow-destroy."""
        return self.resolved_tier in (Tier.staging, Tier.prod)

    @property
    def mesh_on(self) -> bool:
        """Linkerd runs: as `mesh.enabled` says, else at staging and prod."""
        return self.protected if self.mesh.enabled is None else self.mesh.enabled

    @property
    def efa_pools(self) -> dict[str, NodePool]:
        return {name: pool for name, pool in self.node_pools.items() if pool.efa}

    def pool_zones(self, pool: NodePool) -> list[str]:
        """The zones of a pool's subnets: its own list, else every zone of the environment."""
        return list(pool.availability_zones or self.availability_zones)

    def gpu_pools(self) -> dict[str, NodePool]:
        return {name: pool for name, pool in self.node_pools.items() if pool.kind.is_gpu}

    def bucket_name(self, item: str) -> str:
        return bucket_name(self.cluster.name, item)

    @property
    def bucket_items(self) -> tuple[str, ...]:
        """Every bucket the data stack makes: storage.buckets, and the backup bucket when backups are on."""
        extra = (BACKUPS_BUCKET,) if self.backups is not None else ()
        return tuple(dict.fromkeys((*self.storage.buckets, *extra)))
