"""The corpus of bad environment files: one case per entry, built at test time from a shipped file.

A case is a list of edits applied to environments/<base>.yaml (its text or its parsed data), or a file
of real bytes in this folder; `expect` lists (field path, message fragment) pairs that must each appear
in the report ("" is the whole file). VALID lists variations that must still pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Edit = Callable[[Any], Any]


@dataclass(frozen=True)
class Case:
    edits: tuple = ()
    expect: tuple[tuple[str, str], ...] = ()
    base: str = "dev"
    stem: str | None = None  # the file's name; the base's by default
    raw_file: str | None = None  # bytes from this folder instead of edits
    text: str | None = None  # the whole file, instead of edits


@dataclass(frozen=True)
class Set:
    path: str
    value: Any


@dataclass(frozen=True)
class Delete:
    path: str


@dataclass(frozen=True)
class Replace:
    """Text edit: the first occurrence of `old` (which must exist) becomes `new`."""

    old: str
    new: str


@dataclass(frozen=True)
class Append:
    text: str


def case(*edits, path: str, fragment: str, **kwargs) -> Case:
    return Case(edits=edits, expect=((path, fragment),), **kwargs)


def raw(name: str, fragment: str) -> Case:
    return Case(raw_file=name, expect=(("", fragment),))


P = "node_pools"
KP = "karpenter.node_pools.gpu-workloads"
OPEN_PUBLIC = Set("cluster.endpoint_public_access", True)
LONG = "x" * 50
TL = "serving.models.tinyllama"

BAD: dict[str, Case] = {
    # --- bytes, encodings, limits ---------------------------------------------------------------
    "utf16-with-bom": raw("utf16_with_bom.yaml", "is UTF-16"),
    "utf16-without-bom": raw("utf16_without_bom.yaml", "NUL byte"),
    "utf32-with-bom": raw("utf32_with_bom.yaml", "is UTF-32"),
    "latin1": raw("latin1.yaml", "byte 0xe4 at offset"),
    "binary": raw("binary.yaml", "byte 0x89 at offset 0"),
    "nul-byte": raw("nul_byte.yaml", "NUL byte at offset"),
    "control-character": raw("control_character.yaml", "not allowed in YAML"),
    "deep-flow-nesting": raw("deep_flow_nesting.yaml", "nested deeper than 32 levels"),
    "deep-block-nesting": raw("deep_block_nesting.yaml", "nested deeper than 32 levels"),
    "larger-than-1-mib": case(Append("#" + "x" * (1024 * 1024) + "\n"), path="", fragment="at most 1024 KiB"),
    "empty-file": Case(text="", expect=(("", "must be a YAML mapping"),)),
    "only-a-comment": Case(text="# nothing here\n", expect=(("", "must be a YAML mapping"),)),
    "top-level-list": Case(text="- name: dev\n- region: us-east-1\n", expect=(("", "must be a YAML mapping"),)),
    "top-level-scalar": Case(text="dev\n", expect=(("", "must be a YAML mapping"),)),
    # --- YAML syntax and constructs --------------------------------------------------------------
    "syntax-error": case(Replace("region: us-east-1", "region: [us-east-1"), path="", fragment="not valid YAML: line"),
    "tab-indentation": case(Replace("    kind: cpu", "\tkind: cpu"), path="", fragment="not valid YAML"),
    "two-documents": case(Append("---\nname: dev\n"), path="", fragment="not valid YAML"),
    "anchor": case(Replace("  cpu:\n    kind: cpu", "  cpu: &cpu\n    kind: cpu"), path="", fragment="anchors and aliases are not allowed"),
    "alias": case(Append("teams2: *cpu\n"), path="", fragment="anchors and aliases are not allowed"),
    "merge-key": case(Replace("  h100:\n    kind:", "  h100:\n    <<: {min_size: 1}\n    kind:"), path="node_pools.h100", fragment="merge keys are not allowed"),
    "explicit-int-tag": case(Replace("max_size: 6", "max_size: !!int 6"), path="", fragment="tags are not allowed"),
    "python-tag": case(Replace("name: dev", "name: !!python/object/apply:os.system [dev]"), path="", fragment="tags are not allowed"),
    "custom-tag": case(Replace("region: us-east-1", "region: !ref us-east-1"), path="", fragment="tags are not allowed"),
    "complex-key": case(Append("? [a, b]\n: c\n"), path="", fragment="keys must be plain text"),
    # --- duplicate keys --------------------------------------------------------------------------
    "duplicate-top-level-key": case(Append("region: us-west-2\n"), path="region", fragment="written twice in one mapping (lines 5 and"),
    "duplicate-emulator": case(Append("emulator: false\nemulator: true\n"), path="emulator", fragment="written twice"),
    "duplicate-pool": case(Replace("  a100-timeslice:\n", "  cpu:\n"), path="node_pools.cpu", fragment="written twice"),
    "duplicate-nested-key": case(Replace("    min_size: 2\n", "    min_size: 2\n    min_size: 3\n"), path="node_pools.cpu.min_size", fragment="written twice"),
    "duplicate-flow-key": case(Replace("{workload-type: control}", "{workload-type: control, workload-type: x}"), path="node_pools.cpu.labels.workload-type", fragment="written twice"),
    "duplicate-quoted-key": case(Replace("  team: ml-platform\n", "  team: ml-platform\n  \"team\": other\n"), path="tags.team", fragment="written twice"),
    "duplicate-addon": case(Append("addons:\n  mlflow: {version: 1.0.0}\n"), path="addons", fragment="written twice"),
    # --- YAML 1.1 scalars ------------------------------------------------------------------------
    "yes-for-a-switch": case(Replace("endpoint_public_access: true", "endpoint_public_access: yes"), path="cluster.endpoint_public_access", fragment="a boolean in YAML 1.1"),
    "on-for-a-switch": case(Replace("efs: true", "efs: on"), path="storage.efs", fragment="a boolean in YAML 1.1"),
    "off-for-a-switch": case(Replace("efs: true", "efs: off"), path="storage.efs", fragment="write true or false"),
    "capital-no": case(Replace("multi_az: false", "multi_az: No"), path="storage.mlflow_db.multi_az", fragment="a boolean in YAML 1.1"),
    "y-for-a-switch": case(Replace("multi_az: false", "multi_az: y"), path="storage.mlflow_db.multi_az", fragment="a boolean in YAML 1.1"),
    "n-for-a-switch": case(Replace("deletion_protection: false", "deletion_protection: n"), path="storage.mlflow_db.deletion_protection", fragment="a boolean in YAML 1.1"),
    "YES-for-a-size": case(Replace("min_size: 2", "min_size: YES"), path="node_pools.cpu.min_size", fragment="a boolean in YAML 1.1"),
    "on-for-a-quota": case(Replace("research: {gpu_quota: 8}", "research: {gpu_quota: on}"), path="teams.research.gpu_quota", fragment="a boolean in YAML 1.1"),
    "octal-looking-size": case(Replace("max_size: 6", "max_size: 010"), path="node_pools.cpu.max_size", fragment="leading zero"),
    "hex-size": case(Replace("max_size: 6", "max_size: 0x6"), path="node_pools.cpu.max_size", fragment="plain decimal"),
    "yaml12-octal": case(Replace("max_size: 6", "max_size: 0o6"), path="node_pools.cpu.max_size", fragment="by YAML 1.2"),
    "underscore-number": case(Replace("allocated_storage_gb: 50", "allocated_storage_gb: 5_0"), path="storage.mlflow_db.allocated_storage_gb", fragment="YAML 1.2"),
    "sexagesimal": case(Replace("desired_size: 3", "desired_size: 1:30"), path="node_pools.cpu.desired_size", fragment="YAML 1.2"),
    "exponent-without-dot": case(Replace("allocated_storage_gb: 50", "allocated_storage_gb: 1e3"), path="storage.mlflow_db.allocated_storage_gb", fragment="YAML 1.2"),
    "date": case(Replace("ami_release_version: 1.35.7-20260903", "ami_release_version: 2026-09-03"), path="cluster.ami_release_version", fragment="a date in YAML 1.1"),
    "yes-as-a-key": case(Replace("{workload-type: control}", "{yes: control}"), path="node_pools.cpu.labels.yes", fragment="the key 'yes'"),
    "on-as-a-tag-value": case(Replace("team: ml-platform", "team: on"), path="tags.team", fragment="quote it"),
    # --- top level: shape ------------------------------------------------------------------------
    "unknown-top-level-field": case(Set("regoin", "us-east-1"), path="regoin", fragment="unknown field 'regoin'"),
    "missing-region": case(Delete("region"), path="region", fragment="required field is missing"),
    "missing-cluster": case(Delete("cluster"), path="cluster", fragment="required field is missing"),
    "missing-node-pools": case(Delete("node_pools"), path="node_pools", fragment="required field is missing"),
    "no-node-pools": case(Set("node_pools", {}), path="node_pools", fragment="at least 1"),
    "name-not-dns": case(Set("name", "Dev_1"), path="name", fragment="DNS-1123"),
    "name-not-the-file": case(Set("name", "dev2"), path="name", fragment="must equal the file name 'dev'"),
    "tier-unknown": case(Set("tier", "qa"), path="tier", fragment="is not allowed"),
    "new-name-without-tier": case(Set("name", "qa"), stem="qa", path="tier", fragment="set tier to one of"),
    "emulator-quoted-yes": case(Set("emulator", "yes"), path="emulator", fragment="expected true or false"),
    "emulator-one": case(Set("emulator", 1), path="emulator", fragment="expected true or false"),
    "account-id-number": case(Set("account_id", 123456789012), path="account_id", fragment="expected text"),
    "account-id-short": case(Set("account_id", "1234"), path="account_id", fragment="exactly 12 digits"),
    "region-shape": case(Set("region", "moon-base-1"), path="region", fragment="not an AWS region name"),
    "region-unknown": case(Set("region", "xx-north-9"), path="region", fragment="not an AWS Region the catalog knows"),
    "zone-letter-unknown": case(Set("availability_zones", ["us-east-1a", "us-east-1z", "us-east-1c"]), path="availability_zones[1]", fragment="not an availability zone of region us-east-1"),
    "zone-of-another-region": case(Set("availability_zones", ["us-east-1a", "eu-west-1b", "us-east-1c"]), path="availability_zones[1]", fragment="not an availability zone"),
    "zone-twice": case(Set("availability_zones", ["us-east-1a", "us-east-1a", "us-east-1c"]), path="availability_zones[1]", fragment="listed twice"),
    "one-zone": case(Set("availability_zones", ["us-east-1a"]), path="availability_zones", fragment="at least 2"),
    "seven-zones": case(Set("availability_zones", [f"us-east-1{c}" for c in "abcdefa"]), path="availability_zones", fragment="at most 6"),
    "zones-not-a-list": case(Set("availability_zones", "us-east-1a"), path="availability_zones", fragment="expected a list"),
    # --- tags ------------------------------------------------------------------------------------
    "tag-aws-prefix": case(Set("tags", {"aws:team": "x"}), path="tags.aws:team", fragment="reserved for AWS"),
    "tag-AWS-prefix": case(Set("tags", {"AWS:Team": "x"}), path="tags.AWS:Team", fragment="reserved for AWS"),
    "tag-key-too-long": case(Set("tags", {"k" * 129: "x"}), path="tags." + "k" * 40, fragment="1 to 128 characters"),
    "tag-value-too-long": case(Set("tags.team", "v" * 257), path="tags.team", fragment="at most 256"),
    "too-many-tags": case(Set("tags", {f"t{i}": "x" for i in range(41)}), path="tags", fragment="at most 40"),
    "tag-value-number": case(Set("tags.cost-center", 4711), path="tags.cost-center", fragment="expected text"),
    "tag-bad-character": case(Set("tags.team", "ml#platform"), path="tags.team", fragment="holds '#'"),
    "tags-not-a-mapping": case(Set("tags", ["team"]), path="tags", fragment="expected a mapping"),
    # --- state -----------------------------------------------------------------------------------
    "state-bucket-xn": case(Set("state.bucket", "xn--state-bucket"), path="state.bucket", fragment="starts with 'xn--'"),
    "state-bucket-s3alias": case(Set("state.bucket", "acme-tfstate-s3alias"), path="state.bucket", fragment="ends with '-s3alias'"),
    "state-bucket-ip": case(Set("state.bucket", "192.168.5.4"), path="state.bucket", fragment="IP address"),
    "state-bucket-double-dot": case(Set("state.bucket", "acme..state"), path="state.bucket", fragment="no '..'"),
    "state-bucket-uppercase": case(Set("state.bucket", "Acme-State"), path="state.bucket", fragment="lowercase letters"),
    "state-bucket-short": case(Set("state.bucket", "ab"), path="state.bucket", fragment="at least 3"),
    # exact boundaries: one past each limit (the VALID list holds the limit itself)
    "state-bucket-64-characters": case(Set("state.bucket", "s" * 64), path="state.bucket", fragment="at most 63 characters"),
    "state-key-prefix-empty": case(Set("state.key_prefix", ""), path="state.key_prefix", fragment="at least 1"),
    "state-key-prefix-space": case(Set("state.key_prefix", "ml platform"), path="state.key_prefix", fragment="letters, digits"),
    "state-missing": case(Delete("state"), path="state", fragment="required field is missing"),
    # --- network ---------------------------------------------------------------------------------
    "vpc-slash-8": case(Set("network.vpc_cidr", "10.0.0.0/8"), path="network.vpc_cidr", fragment="AWS allows /16"),
    "vpc-slash-0": case(Set("network.vpc_cidr", "0.0.0.0/0"), path="network.vpc_cidr", fragment="AWS allows /16"),
    "vpc-slash-29": case(Set("network.vpc_cidr", "10.20.0.0/29"), path="network.vpc_cidr", fragment="AWS allows /16"),
    "vpc-too-small-to-derive-subnets": case(Set("network.vpc_cidr", "10.20.0.0/21"), path="network.vpc_cidr", fragment="too small to derive subnets"),
    "vpc-host-bits": case(Set("network.vpc_cidr", "10.20.0.1/16"), path="network.vpc_cidr", fragment="not a valid IPv4 CIDR"),
    "vpc-ipv6": case(Set("network.vpc_cidr", "2001:db8::/56"), path="network.vpc_cidr", fragment="must be an IPv4"),
    "vpc-not-text": case(Set("network.vpc_cidr", 10), path="network.vpc_cidr", fragment="expected text"),
    "nat-unknown": case(Set("network.nat_gateways", "none"), path="network.nat_gateways", fragment="is not allowed"),
    "endpoint-empty": case(Set("network.interface_endpoints", ["sts", ""]), path="network.interface_endpoints[1]", fragment="must not be empty"),
    "endpoint-unknown": case(Set("network.interface_endpoints", ["ecr.api", "ecr.bogus"]), path="network.interface_endpoints[1]", fragment="not an interface endpoint service"),
    "endpoint-twice": case(Set("network.interface_endpoints", ["sts", "sts"]), path="network.interface_endpoints[1]", fragment="listed twice"),
    "subnets-per-zone": case(Set("network.private_subnets", ["10.20.0.0/18", "10.20.64.0/18"]), path="network.private_subnets", fragment="one subnet per availability zone"),
    "subnet-too-large": case(Set("network.private_subnets", ["10.16.0.0/12", "10.20.64.0/18", "10.20.128.0/18"]), Set("network.public_subnets", ["10.20.192.0/24", "10.20.193.0/24", "10.20.194.0/24"]), path="network.private_subnets[0]", fragment="AWS allows /16"),
    "subnet-too-small": case(Set("network.private_subnets", ["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/18"]), Set("network.public_subnets", ["10.20.192.0/24", "10.20.193.0/24", "10.20.194.0/29"]), path="network.public_subnets[2]", fragment="AWS allows /16"),
    "private-subnet-a-slash-23": Case(edits=(Set("network.private_subnets", ["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/23"]),
                                             Set("network.public_subnets", ["10.20.192.0/24", "10.20.193.0/24", "10.20.194.0/24"])),
                                      expect=(("network.private_subnets[2]", "too small for pods"),)),
    "private-subnet-for-pods": case(Set("network.private_subnets", ["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/24"]), Set("network.public_subnets", ["10.20.192.0/24", "10.20.193.0/24", "10.20.194.0/24"]), path="network.private_subnets[2]", fragment="too small for pods"),
    "network-unknown-field": case(Set("network.vpc", "10.0.0.0/16"), path="network.vpc", fragment="unknown field 'vpc'; allowed here: vpc_cidr"),
    # --- cluster ---------------------------------------------------------------------------------
    "cluster-name-too-long-for-eventbridge": case(Set("cluster.name", "c" * 33), path="cluster.name", fragment="EventBridge rule name"),
    "cluster-name-too-long-for-iam": case(Set("cluster.name", "c" * 45), path="cluster.name", fragment="IAM role name"),
    "cluster-name-starts-with-digit": case(Set("cluster.name", "1mlplatform"), path="cluster.name", fragment="must start with a letter"),
    "cluster-name-double-hyphen": case(Set("cluster.name", "ml--platform"), path="cluster.name", fragment="two hyphens"),
    "cluster-name-xn": case(Set("cluster.name", "xn--platform"), path="storage.buckets[0]", fragment="starts with 'xn--'"),
    "cluster-name-uppercase": case(Set("cluster.name", "MLPlatform"), path="cluster.name", fragment="DNS-1123"),
    "kubernetes-version-unquoted": case(Replace('kubernetes_version: "1.35"', "kubernetes_version: 1.30"), path="cluster.kubernetes_version", fragment="expected text"),
    "kubernetes-version-unsupported": case(Set("cluster.kubernetes_version", "1.29"), Set("cluster.ami_release_version", "1.29.5-20260714"), path="cluster.kubernetes_version", fragment="allowed: 1.30"),
    "kubernetes-version-with-v": case(Set("cluster.kubernetes_version", "v1.33"), path="cluster.kubernetes_version", fragment="Kubernetes minor version"),
    "ami-release-empty": case(Set("cluster.ami_release_version", ""), path="cluster.ami_release_version", fragment="not an EKS AMI release version"),
    "ami-release-latest": case(Set("cluster.ami_release_version", "latest"), path="cluster.ami_release_version", fragment="not an EKS AMI release version"),
    "ami-release-other-minor": case(Set("cluster.ami_release_version", "1.32.5-20260714"), path="cluster.ami_release_version", fragment="a release for Kubernetes 1.32"),
    "ami-release-bad-date": case(Set("cluster.ami_release_version", "1.33.5-20261399"), path="cluster.ami_release_version", fragment="not a build date"),
    "ami-release-two-lines": case(Set("cluster.ami_release_version", "1.33.5-20260714\nx"), path="cluster.ami_release_version", fragment="not an EKS AMI release version"),
    "admin-wildcard-role": case(Set("cluster.admins", ["arn:aws:iam::123456789012:role/*"]), path="cluster.admins[0]", fragment="wildcard"),
    "admin-star": case(Set("cluster.admins", ["*"]), path="cluster.admins[0]", fragment="wildcard"),
    "admin-assumed-role": case(Set("cluster.admins", ["arn:aws:sts::123456789012:assumed-role/Admin/me"]), path="cluster.admins[0]", fragment="STS session"),
    "admin-second-bad": case(Set("cluster.admins", ["arn:aws:iam::123456789012:role/Ok", "arn:aws:iam::123:role/Bad"]), path="cluster.admins[1]", fragment="not an IAM role or user ARN"),
    "admin-not-arn": case(Set("cluster.admins", ["PlatformAdmin"]), path="cluster.admins[0]", fragment="not an IAM role or user ARN"),
    "public-cidr-invalid": case(Set("cluster.public_access_cidrs", ["300.0.0.0/8"]), path="cluster.public_access_cidrs[0]", fragment="not a valid IPv4 CIDR"),
    "log-type-unknown": case(Set("cluster.log_types", ["api", "kubelet"]), path="cluster.log_types[1]", fragment="is not allowed"),
    "no-endpoint": case(Set("cluster.endpoint_public_access", False), Set("cluster.endpoint_private_access", False), path="cluster.endpoint_private_access", fragment="must be on"),
    "endpoint-switch-text": case(Set("cluster.endpoint_public_access", "true"), path="cluster.endpoint_public_access", fragment="expected true or false"),
    # --- tiers and the prod/staging guards -------------------------------------------------------
    "prod-lowered-to-dev": case(Set("tier", "dev"), base="prod", path="tier", fragment="cannot lower its tier to dev"),
    "prod-lowered-to-local": case(Set("tier", "local"), base="prod", path="tier", fragment="cannot lower its tier to local"),
    "prod-lowered-to-staging": case(Set("tier", "staging"), base="prod", path="tier", fragment="cannot lower its tier"),
    "staging-lowered-to-dev": case(Set("tier", "dev"), base="staging", path="tier", fragment="cannot lower its tier to dev"),
    "prod-lowered-still-guarded": case(Set("tier", "dev"), OPEN_PUBLIC, Set("cluster.public_access_cidrs", ["0.0.0.0/0"]), base="prod", path="cluster.public_access_cidrs[0]", fragment="whole internet, which prod forbids"),
    "prod-open-to-the-world": case(OPEN_PUBLIC, Set("cluster.public_access_cidrs", ["0.0.0.0/0"]), base="prod", path="cluster.public_access_cidrs[0]", fragment="whole internet"),
    "prod-two-halves-of-the-internet": case(OPEN_PUBLIC, Set("cluster.public_access_cidrs", ["0.0.0.0/1", "128.0.0.0/1"]), base="prod", path="cluster.public_access_cidrs[0]", fragment="2,147,483,648 addresses"),
    "prod-many-small-cidrs": case(OPEN_PUBLIC, Set("cluster.public_access_cidrs", ["198.18.0.0/17", "198.19.0.0/17", "203.0.0.0/17"]), base="prod", path="cluster.public_access_cidrs", fragment="together these CIDRs"),
    "prod-public-without-cidrs": case(OPEN_PUBLIC, Set("cluster.public_access_cidrs", []), base="prod", path="cluster.public_access_cidrs", fragment="no CIDRs"),
    "staging-slash-8": case(Set("cluster.public_access_cidrs", ["11.0.0.0/8"]), base="staging", path="cluster.public_access_cidrs[0]", fragment="16,777,216 addresses"),
    "staging-slash-15": case(Set("cluster.public_access_cidrs", ["198.18.0.0/15"]), base="staging", path="cluster.public_access_cidrs[0]", fragment="131,072 addresses; staging allows at most 65,536"),
    "staging-a-slash-16-and-one-address": case(Set("cluster.public_access_cidrs", ["198.18.0.0/16", "203.0.113.1/32"]), base="staging", path="cluster.public_access_cidrs", fragment="together these CIDRs open the Kubernetes API to 65,537 addresses"),
    # --- node pools ------------------------------------------------------------------------------
    "pool-kind-unknown": case(Set(f"{P}.cpu.kind", "tpu"), path="node_pools.cpu.kind", fragment="is not allowed"),
    "pool-no-instance-types": case(Set(f"{P}.cpu.instance_types", []), path="node_pools.cpu.instance_types", fragment="at least 1"),
    "pool-negative-min": case(Set(f"{P}.cpu.min_size", -1), path="node_pools.cpu.min_size", fragment="greater than or equal to 0"),
    "pool-max-too-large": case(Set(f"{P}.cpu.max_size", 451), path="node_pools.cpu.max_size", fragment="less than or equal to 450"),
    "pool-size-huge": case(Set(f"{P}.cpu.max_size", 10**40), path="node_pools.cpu.max_size", fragment="less than or equal to 450"),
    "pool-size-true": case(Replace("min_size: 2", "min_size: true"), path="node_pools.cpu.min_size", fragment="expected a whole number"),
    "pool-size-quoted": case(Set(f"{P}.cpu.desired_size", "3"), path="node_pools.cpu.desired_size", fragment="expected a whole number"),
    "pool-size-fraction": case(Set(f"{P}.cpu.desired_size", 3.5), path="node_pools.cpu.desired_size", fragment="expected a whole number"),
    "pool-size-null": case(Set(f"{P}.cpu.desired_size", None), path="node_pools.cpu.desired_size", fragment="whole number"),
    "pool-desired-above-max": case(Set(f"{P}.cpu.desired_size", 9), path="node_pools.cpu", fragment="min_size <= desired_size <= max_size"),
    "pool-disk-too-small": case(Set(f"{P}.cpu.disk_size_gb", 10), path="node_pools.cpu.disk_size_gb", fragment="greater than or equal to 20"),
    "pool-disk-too-large": case(Set(f"{P}.cpu.disk_size_gb", 20000), path="node_pools.cpu.disk_size_gb", fragment="less than or equal to 16384"),
    "pool-max-unavailable-zero": case(Set(f"{P}.cpu.max_unavailable", 0), path="node_pools.cpu.max_unavailable", fragment="greater than or equal to 1"),
    "capacity-block-on-cpu": case(Set(f"{P}.cpu.capacity_type", "CAPACITY_BLOCK"), path="node_pools.cpu.capacity_type", fragment="CAPACITY_BLOCK reserves GPU"),
    "capacity-block-on-g5": case(Set(f"{P}.a100-timeslice.instance_types", ["g5.48xlarge"]), Set(f"{P}.a100-timeslice.gpu", "A10G-24GB"), Set(f"{P}.a100-timeslice.capacity_type", "CAPACITY_BLOCK"), path="node_pools.a100-timeslice.instance_types[0]", fragment="cannot be reserved as an EC2 Capacity Block"),
    "capacity-type-unknown": case(Set(f"{P}.cpu.capacity_type", "RESERVED"), path="node_pools.cpu.capacity_type", fragment="is not allowed"),
    "ami-type-unknown": case(Set(f"{P}.cpu.ami_type", "AL2_x86_64"), path="node_pools.cpu.ami_type", fragment="is not allowed"),
    "gpu-pool-standard-ami": case(Set(f"{P}.h100.ami_type", "AL2023_x86_64_STANDARD"), path="node_pools.h100.ami_type", fragment="has no NVIDIA driver"),
    "arm-ami-on-x86": case(Set(f"{P}.cpu.ami_type", "AL2023_ARM_64_STANDARD"), path="node_pools.cpu.instance_types[0]", fragment="m5.2xlarge is x86_64, but ami_type AL2023_ARM_64_STANDARD is arm64"),
    "arm-nvidia-ami-on-p5": case(Set(f"{P}.h100.ami_type", "AL2023_ARM_64_NVIDIA"), path="node_pools.h100.instance_types[0]", fragment="p5.48xlarge is x86_64, but ami_type AL2023_ARM_64_NVIDIA is arm64"),
    "time-slicing-missing": case(Delete(f"{P}.a100-timeslice.time_slicing"), path="node_pools.a100-timeslice", fragment="needs time_slicing"),
    "mig-on-cpu-pool": case(Set(f"{P}.cpu.mig", {"layout": ["1g.10gb"]}), path="node_pools.cpu", fragment="mig is only allowed on kind gpu-mig"),
    "replicas-text": case(Set(f"{P}.h100.time_slicing.replicas", "four"), path="node_pools.h100.time_slicing.replicas", fragment="expected a whole number"),
    "mig-layout-empty": case(Set(f"{P}.a100-mig.mig.layout", []), path="node_pools.a100-mig.mig.layout", fragment="at least 1"),
    "mig-layout-eight": case(Set(f"{P}.a100-mig.mig.layout", ["1g.10gb"] * 8), path="node_pools.a100-mig.mig.layout", fragment="at most 7"),
    "mig-profile-unknown": case(Set(f"{P}.a100-mig.mig.layout", ["3g.40gb", "9g.99gb"]), path="node_pools.a100-mig.mig.layout[1]", fragment="not a MIG profile of A100-80GB"),
    "mig-pool-two-gpu-models": case(Set(f"{P}.a100-mig.instance_types", ["p4de.24xlarge", "p4d.24xlarge"]), path="node_pools.a100-mig.instance_types", fragment="needs one GPU model"),
    "mig-strategy-unknown": case(Set(f"{P}.a100-mig.mig.strategy", "both"), path="node_pools.a100-mig.mig.strategy", fragment="is not allowed"),
    "taint-missing-key": case(Set(f"{P}.h100.taints", [{"value": "h100", "effect": "NoSchedule"}]), path="node_pools.h100.taints[0].key", fragment="required field is missing"),
    "taint-second-bad": case(Set(f"{P}.h100.taints", [{"key": "gpu", "effect": "NoSchedule"}, {"key": "gpu", "effect": "Never"}]), path="node_pools.h100.taints[1].effect", fragment="is not allowed"),
    "labels-not-a-mapping": case(Set(f"{P}.cpu.labels", ["control"]), path="node_pools.cpu.labels", fragment="expected a mapping"),
    "label-value-bad": case(Set(f"{P}.cpu.labels", {"workload-type": "a b"}), path="node_pools.cpu.labels.workload-type", fragment="at most 63 characters"),
    "label-toolkit-key": case(Set(f"{P}.cpu.labels", {"eksml.io/pool": "x"}), path="node_pools.cpu.labels.eksml.io/pool", fragment="set by eksml itself"),
    "gpu-unknown": case(Set(f"{P}.h100.gpu", "Z100"), path="node_pools.h100.gpu", fragment="unknown GPU 'Z100'"),
    "gpu-on-cpu-pool": case(Set(f"{P}.cpu.gpu", "A100-80GB"), path="node_pools.cpu.gpu", fragment="only GPU pools"),
    "gpu-instance-in-cpu-pool": case(Set(f"{P}.cpu.instance_types", ["g5.xlarge"]), path="node_pools.cpu.instance_types[0]", fragment="but the pool is kind cpu"),
    "cpu-instance-in-gpu-pool": case(Set(f"{P}.h100.instance_types", ["m5.large"]), Delete(f"{P}.h100.gpu"), path="node_pools.h100.instance_types[0]", fragment="has no GPU"),
    "pool-name-uppercase": case(Set(f"{P}.CPU2", {"kind": "cpu", "instance_types": ["m5.large"], "min_size": 0, "desired_size": 0, "max_size": 1}), path="node_pools.CPU2 (key)", fragment="DNS-1123"),
    "pool-unknown-field": case(Set(f"{P}.cpu.spot", True), path="node_pools.cpu.spot", fragment="unknown field 'spot'"),
    # --- storage ---------------------------------------------------------------------------------
    "db-class-unknown": case(Set("storage.mlflow_db.instance_class", "db.x99.huge"), path="storage.mlflow_db.instance_class", fragment="not an RDS for PostgreSQL instance class"),
    "db-class-shape": case(Set("storage.mlflow_db.instance_class", "t4g.medium"), path="storage.mlflow_db.instance_class", fragment="an RDS instance class such as"),
    "db-class-oracle-only": case(Set("storage.mlflow_db.instance_class", "db.x2iedn.xlarge"), path="storage.mlflow_db.instance_class", fragment="MLflow may use"),
    "db-engine-old": case(Set("storage.mlflow_db.engine_version", "9.6"), path="storage.mlflow_db.engine_version", fragment="standard support"),
    "db-engine-shape": case(Set("storage.mlflow_db.engine_version", "16.x"), path="storage.mlflow_db.engine_version", fragment="standard support"),
    "db-engine-unquoted": case(Set("storage.mlflow_db.engine_version", 16), path="storage.mlflow_db.engine_version", fragment="expected text"),
    "db-storage-small": case(Set("storage.mlflow_db.allocated_storage_gb", 10), path="storage.mlflow_db.allocated_storage_gb", fragment="greater than or equal to 20"),
    "db-storage-huge": case(Set("storage.mlflow_db.allocated_storage_gb", 100000), path="storage.mlflow_db.allocated_storage_gb", fragment="less than or equal to 65536"),
    "db-backup-retention": case(Set("storage.mlflow_db.backup_retention_days", 36), path="storage.mlflow_db.backup_retention_days", fragment="less than or equal to 35"),
    "db-missing": case(Delete("storage.mlflow_db"), path="storage.mlflow_db", fragment="required field is missing"),
    "db-multi-az-one": case(Set("storage.mlflow_db.multi_az", 1), path="storage.mlflow_db.multi_az", fragment="expected true or false"),
    "log-retention-huge": case(Set("storage.log_retention_days", 10**12), path="storage.log_retention_days", fragment="more than 3653 days"),
    "log-retention-4000": case(Set("storage.log_retention_days", 4000), path="storage.log_retention_days", fragment="longest retention"),
    "log-retention-zero": case(Set("storage.log_retention_days", 0), path="storage.log_retention_days", fragment="greater than or equal to 1"),
    "efs-quoted-yes": case(Set("storage.efs", "yes"), path="storage.efs", fragment="expected true or false"),
    "bucket-item-s3alias": case(Set("storage.buckets", ["artifacts", "x-s3alias"]), path="storage.buckets[1]", fragment="ends with '-s3alias'"),
    "bucket-item-ol-s3": case(Set("storage.buckets", ["artifacts", "x--ol-s3"]), path="storage.buckets[1]", fragment="ends with '--ol-s3'"),
    "bucket-name-too-long": case(Set("storage.buckets", ["artifacts", "b" * 50]), path="storage.buckets[1]", fragment="S3 allows 3 to 63"),
    "bucket-name-64-characters": case(Set("storage.buckets", ["artifacts", "b" * 49]), path="storage.buckets[1]", fragment="is 64 characters; S3 allows 3 to 63"),
    "bucket-items-repeated": case(Set("storage.buckets", ["artifacts", "logs", "logs"]), path="storage.buckets", fragment="unique"),
    "bucket-no-artifacts": case(Set("storage.buckets", ["datasets", "logs"]), path="storage.buckets", fragment="needs an 'artifacts' bucket"),
    "bucket-item-uppercase": case(Set("storage.buckets", ["artifacts", "Logs"]), path="storage.buckets[1]", fragment="DNS-1123"),
    # --- day two: backups, logs, autoscaling -----------------------------------------------------
    "prod-without-backups": case(Delete("backups"), base="prod", path="backups", fragment="prod needs backups"),
    "prod-lowered-without-backups": case(Delete("backups"), Set("tier", "dev"), base="prod", path="backups", fragment="prod needs backups"),
    "backups-not-cron": case(Set("backups.schedule", "daily"), path="backups.schedule", fragment="not a cron schedule"),
    "backups-efs-every-five-minutes": case(Set("backups.schedule", "*/5 * * * *"), path="backups.schedule", fragment="at most once an hour"),
    "backups-efs-both-days": case(Set("backups.schedule", "0 3 1 * 1"), path="backups.schedule", fragment="not both"),
    "backups-hour-99": case(Set("backups.schedule", "0 99 * * *"), path="backups.schedule", fragment="'99' is outside the hour field (0-23)"),
    "backups-weekday-7": case(Set("backups.schedule", "0 3 * * 7"), path="backups.schedule", fragment="outside the day of the week field (0-6, or SUN-SAT)"),
    "backups-month-name": case(Set("backups.schedule", "0 3 1 JANUARY *"), path="backups.schedule", fragment="'JANUARY' is outside the month field"),
    "backups-step-zero": case(Set("backups.schedule", "*/0 3 * * *"), path="backups.schedule", fragment="step '0' is not a positive number"),
    "backups-range-backwards": case(Set("backups.schedule", "0 3 * * 5-1"), path="backups.schedule", fragment="runs backwards"),
    "backups-open-range": case(Set("backups.schedule", "0 3- * * *"), path="backups.schedule", fragment="does not fit the hour field"),
    "backups-retention-zero": case(Set("backups.retention_days", 0), path="backups.retention_days", fragment="greater than or equal to 1"),
    "logs-retention-not-cloudwatch": case(Set("logs", {"retention_days": 45}), path="logs.retention_days", fragment="not a retention CloudWatch Logs accepts"),
    "prod-scale-to-zero-behind-ingress": case(Set("serving.models.mistral-7b.autoscaling.min", 0), base="prod", path="serving.models.mistral-7b.autoscaling.min", fragment="scale-to-zero is refused in prod"),
    "autoscaling-min-over-max": case(Set("serving.models.tinyllama.autoscaling.min", 3), path="serving.models.tinyllama.autoscaling", fragment="larger than max"),
    "autoscaling-metric-unknown": case(Set("serving.models.tinyllama.autoscaling.metric", "gpu"), path="serving.models.tinyllama.autoscaling.metric", fragment="queue"),
    "autoscaling-max-beyond-pool": case(Set("serving.models.tinyllama.autoscaling.max", 100), path="serving.models.tinyllama.autoscaling.max", fragment="holds at most"),
    # --- training --------------------------------------------------------------------------------
    "training-pool-missing": case(Set("training.pools", ["h200"]), path="training.pools[0]", fragment="'h200' is not a node pool"),
    "training-pool-karpenter": case(Set("training.pools", ["h100", "gpu-workloads"]), path="training.pools[1]", fragment="overflow_for"),
    "training-pool-cpu": case(Set("training.pools", ["cpu"]), path="training.pools[0]", fragment="has no GPUs"),
    "training-pool-mig": case(Set("training.pools", ["a100-mig"]), path="training.pools[0]", fragment="MIG instances"),
    "training-pool-twice": case(Set("training.pools", ["h100", "h100"]), path="training.pools", fragment="named more than once"),
    "training-pools-empty": case(Set("training.pools", []), path="training.pools", fragment="at least 1"),
    "training-runtime-unknown": case(Set("training.runtimes", ["jax"]), path="training.runtimes[0]", fragment="is not allowed"),
    "training-gpus-beyond-node": case(Set("training.gpus_per_node", 16), path="training.gpus_per_node", fragment="has 8"),
    "training-gpus-time-sliced": case(Set("training.gpus_per_node", 2), path="training.gpus_per_node", fragment="failRequestsGreaterThanOne"),
    "efa-on-a-type-without-it": case(Set(f"{P}.a100-timeslice.instance_types", ["g5.xlarge"]), Set(f"{P}.a100-timeslice.gpu", "A10G-24GB"), Set(f"{P}.a100-timeslice.efa", True), Set(f"{P}.a100-timeslice.availability_zones", ["us-east-1a"]), path=f"{P}.a100-timeslice.instance_types[0]", fragment="g5.xlarge has no EFA"),
    "efa-across-zones": case(Delete(f"{P}.h100.availability_zones"), path=f"{P}.h100.availability_zones", fragment="would span us-east-1a, us-east-1b, us-east-1c"),
    "efa-in-two-zones": case(Set(f"{P}.h100.availability_zones", ["us-east-1a", "us-east-1b"]), path=f"{P}.h100.availability_zones", fragment="one cluster placement group"),
    "pool-zone-unknown": case(Set(f"{P}.h100.availability_zones", ["eu-west-1a"]), path=f"{P}.h100.availability_zones[0]", fragment="not a zone of this environment"),
    "pool-zone-twice": case(Set(f"{P}.cpu.availability_zones", ["us-east-1a", "us-east-1a"]), path=f"{P}.cpu.availability_zones", fragment="name each zone once"),
    "efa-not-a-bool": case(Set(f"{P}.h100.efa", "yes"), path=f"{P}.h100.efa", fragment="expected true or false"),
    "reservation-other-zone": case(Set(f"{P}.a100-mig.reservation.availability_zone", "us-east-1a"), path=f"{P}.a100-mig.reservation.availability_zone", fragment="the reservation is in us-east-1a, but the pool's subnets are in us-east-1b"),
    "reservation-pool-all-zones": case(Delete(f"{P}.a100-mig.availability_zones"), path=f"{P}.a100-mig.reservation.availability_zone", fragment="set the pool's availability_zones to [us-east-1b]"),
    "reservation-no-zone": case(Delete(f"{P}.a100-mig.reservation.availability_zone"), path=f"{P}.a100-mig.reservation.availability_zone", fragment="launch only there"),
    "reservation-by-tags-on-node-group": case(Set(f"{P}.a100-mig.reservation", {"tags": {"team": "ml"}, "availability_zone": "us-east-1b"}), path=f"{P}.a100-mig.reservation", fragment="tags select reservations for Karpenter pools only"),
    "reservation-odcr-on-spot": case(Set(f"{P}.a100-mig.capacity_type", "SPOT"), path=f"{P}.a100-mig.capacity_type", fragment="run as ON_DEMAND, not SPOT"),
    "reservation-block-on-demand": case(Set(f"{P}.a100-mig.reservation.type", "capacity-block"), path=f"{P}.a100-mig.capacity_type", fragment="run as CAPACITY_BLOCK"),
    "capacity-block-without-reservation": case(Set(f"{P}.h100.capacity_type", "CAPACITY_BLOCK"), path=f"{P}.h100.reservation", fragment="runs in a Capacity Block the launch template targets"),
    "reservation-bad-id": case(Set(f"{P}.a100-mig.reservation.id", "cb-0123456789abcdef0"), path=f"{P}.a100-mig.reservation.id", fragment="its offering ID cb-"),
    "reservation-id-and-tags": case(Set(f"{P}.a100-mig.reservation.tags", {"a": "b"}), path=f"{P}.a100-mig.reservation", fragment="exactly one of them"),
    "karpenter-reserved-without-reservations": case(Delete(f"{KP}.reservations"), path=f"{KP}.reservations", fragment="capacity type reserved needs the reservations"),
    "karpenter-reservations-without-reserved": case(Set(f"{KP}.capacity_types", ["spot", "on-demand"]), path=f"{KP}.capacity_types", fragment="add reserved"),
    "karpenter-too-old-for-reservations": case(Set("addons.karpenter.version", "1.2.1"), path="addons.karpenter.version", fragment="cannot launch into capacity reservations"),
    "karpenter-too-old-for-blocks": case(Set("addons.karpenter.version", "1.5.0"), Set(f"{KP}.reservations", [{"type": "capacity-block", "id": "cr-0123456789abcdef0"}]), path="addons.karpenter.version", fragment="cannot launch into Capacity Blocks"),
    "karpenter-block-on-families-without": case(Set(f"{KP}.reservations", [{"type": "capacity-block", "id": "cr-0123456789abcdef0"}]), Set(f"{KP}.instance_families", ["g5", "g6e"]), path=f"{KP}.instance_families", fragment="can be reserved as an EC2 Capacity Block"),
    "pipeline-without-datasets": case(Set("storage.buckets", ["artifacts", "logs"]), path="storage.buckets", fragment="reads raw data from the 'datasets' bucket"),
    "training-gpus-zero": case(Set("training.gpus_per_node", 0), path="training.gpus_per_node", fragment="greater than or equal to 1"),
    "training-without-efs": case(Set("storage.efs", False), path="training", fragment="kept on EFS"),
    "training-without-mlflow": case(Set("addons.mlflow.enabled", False), path="training", fragment="tracked in MLflow"),
    # --- karpenter -------------------------------------------------------------------------------
    "karpenter-gpu-limit-huge": case(Set(f"{KP}.gpu_limit", 10**40), path=f"{KP}.gpu_limit", fragment="less than or equal to 10000"),
    "karpenter-cpu-limit-huge": case(Set("karpenter.node_pools.training-workloads.cpu_limit", 10**12), path="karpenter.node_pools.training-workloads.cpu_limit", fragment="less than or equal to 1000000"),
    "karpenter-gpu-limit-zero": case(Set(f"{KP}.gpu_limit", 0), path=f"{KP}.gpu_limit", fragment="greater than or equal to 1"),
    "karpenter-gpu-limit-on-cpu": case(Set("karpenter.node_pools.training-workloads.gpu_limit", 4), path="karpenter.node_pools.training-workloads.gpu_limit", fragment="none of the instance families has GPUs"),
    "karpenter-family-with-size": case(Set(f"{KP}.instance_families", ["g5", "g5.xlarge"]), path=f"{KP}.instance_families[1]", fragment="not an instance family"),
    "karpenter-family-uppercase": case(Set(f"{KP}.instance_families", ["g5", "G5"]), path=f"{KP}.instance_families[1]", fragment="not an instance family"),
    "karpenter-family-unknown": case(Set(f"{KP}.instance_families", ["g5", "zz9"]), path=f"{KP}.instance_families[1]", fragment="unknown instance family 'zz9'"),
    "karpenter-capacity-unknown": case(Set(f"{KP}.capacity_types", ["spot", "dedicated"]), path=f"{KP}.capacity_types[1]", fragment="is not allowed"),
    "karpenter-capacity-empty": case(Set(f"{KP}.capacity_types", []), path=f"{KP}.capacity_types", fragment="at least 1"),
    "karpenter-consolidate-words": case(Set(f"{KP}.consolidate_after", "forever"), path=f"{KP}.consolidate_after", fragment="a duration"),
    "karpenter-consolidate-huge": case(Set(f"{KP}.consolidate_after", "999999h"), path=f"{KP}.consolidate_after", fragment="longer than 720h"),
    "karpenter-overflow-missing": case(Set(f"{KP}.overflow_for", "a100-big"), path=f"{KP}.overflow_for", fragment="no node pool named 'a100-big'"),
    "karpenter-overflow-cpu": case(Set(f"{KP}.overflow_for", "cpu"), path=f"{KP}.overflow_for", fragment="is a cpu pool"),
    "karpenter-overflow-without-its-gpu": case(Set(f"{KP}.overflow_for", "h100"), path=f"{KP}.instance_families", fragment="needs H100-80GB GPUs"),
    "karpenter-pool-name": case(Set("karpenter.node_pools.GPU_Pool", {"instance_families": ["g5"], "capacity_types": ["spot"]}), path="karpenter.node_pools.GPU_Pool (key)", fragment="DNS-1123"),
    "karpenter-reserved-label": case(Set(f"{KP}.labels", {"kubernetes.io/role": "gpu"}), path=f"{KP}.labels.kubernetes.io/role", fragment="reserved Kubernetes prefix"),
    # --- add-ons ---------------------------------------------------------------------------------
    "chart-version-latest": case(Set("addons.mlflow.version", "latest"), path="addons.mlflow.version", fragment="not a chart version Helm accepts"),
    "chart-version-leading-zero": case(Set("addons.mlflow.version", "01.2.3"), path="addons.mlflow.version", fragment="not a chart version"),
    "chart-version-two-parts": case(Set("addons.mlflow.version", "1.2"), path="addons.mlflow.version", fragment="MAJOR.MINOR.PATCH"),
    "chart-version-float": case(Replace("aws_load_balancer_controller: {version: 3.5.0}", "aws_load_balancer_controller: {version: 3.5}"), path="addons.aws_load_balancer_controller.version", fragment="expected text"),
    "chart-version-empty-prerelease": case(Set("addons.karpenter.version", "1.2.3-"), path="addons.karpenter.version", fragment="not a chart version"),
    "chart-version-overflow": case(Set("addons.karpenter.version", "99999999999999999999.0.0"), path="addons.karpenter.version", fragment="not a chart version"),
    "chart-version-empty": case(Set("addons.karpenter.version", ""), path="addons.karpenter.version", fragment="not a chart version"),
    "addon-missing": case(Delete("addons.cert_manager"), path="addons.cert_manager", fragment="required field is missing"),
    "addon-unknown": case(Set("addons.istio", {"version": "1.0.0"}), path="addons.istio", fragment="unknown field 'istio'"),
    "kserve-mode-unknown": case(Set("addons.kserve.deployment_mode", "Serverless"), path="addons.kserve.deployment_mode", fragment="is not allowed"),
    "addon-enabled-text": case(Set("addons.mlflow.enabled", "no"), path="addons.mlflow.enabled", fragment="expected true or false"),
    "mlflow-without-secrets": case(Set("addons.external_secrets", {"version": "0.20.4", "enabled": False}), path="addons.external_secrets.enabled", fragment="external-secrets"),
    # --- genai -----------------------------------------------------------------------------------
    "gmc-without-served-llm": case(Set("genai.chatqna.deploy", "gmc"), base="prod", path="genai.chatqna", fragment="set llm_from_serving"),
    "gmc-at-prod": case(Set("genai.chatqna.deploy", "gmc"), Set("genai.chatqna.llm_from_serving", "mistral-7b"), Delete("genai.chatqna.llm_node_pool"), Delete("genai.chatqna.llm_gpu"), base="prod", path="genai.chatqna.deploy", fragment="staging and prod deploy ChatQnA with the chart"),
    "gmc-unknown-mode": case(Set("genai.chatqna.deploy", "kustomize"), path="genai.chatqna.deploy", fragment="'helm' or 'gmc'"),
    "model-empty": case(Set("genai.chatqna.llm_model", ""), path="genai.chatqna.llm_model", fragment="must not be empty or blank"),
    "model-blank": case(Set("genai.chatqna.llm_model", "   "), path="genai.chatqna.llm_model", fragment="must not be empty or blank"),
    "model-two-lines": case(Set("genai.chatqna.embedding_model", "BAAI/bge\nother"), path="genai.chatqna.embedding_model", fragment="not a model ID"),
    "model-with-space": case(Set("genai.chatqna.reranking_model", "BAAI/bge reranker"), path="genai.chatqna.reranking_model", fragment="no spaces"),
    "model-201-characters": case(Set("genai.chatqna.llm_model", "org/" + "m" * 197), path="genai.chatqna.llm_model", fragment="at most 200 characters"),
    "model-number": case(Set("genai.chatqna.llm_model", 7), path="genai.chatqna.llm_model", fragment="expected text"),
    "serving-unknown": case(Set("genai.chatqna.llm_serving", "triton"), path="genai.chatqna.llm_serving", fragment="is not allowed"),
    "chatqna-served-llm-unknown": case(Set("genai.chatqna.llm_from_serving", "llama-70b"), path="genai.chatqna.llm_from_serving", fragment="'llama-70b' is not a model of serving.models"),
    "chatqna-served-llm-hf-runtime": case(Set("serving.models.mistral-7b.runtime", "huggingface"), path="genai.chatqna.llm_from_serving", fragment="/openai/v1"),
    "chatqna-served-llm-and-own-pool": case(Set("genai.chatqna.llm_node_pool", "a100-mig"), path="genai.chatqna", fragment="does not run with llm_from_serving"),
    "chatqna-no-llm-server": case(Delete("genai.chatqna.llm_from_serving"), path="genai.chatqna", fragment="set llm_node_pool and llm_gpu"),
    "flow-order": case(Set("genai.chatqna.flow", ["llm", "embedding", "retrieval"]), path="genai.chatqna.flow", fragment="stages must appear once each"),
    "flow-without-llm": case(Set("genai.chatqna.flow", ["embedding", "retrieval"]), path="genai.chatqna.flow", fragment="needs the 'llm' stage"),
    "flow-unknown-stage": case(Set("genai.chatqna.flow", ["embedding", "search", "llm"]), path="genai.chatqna.flow[1]", fragment="is not allowed"),
    # staging runs ChatQnA's own vLLM on a100-mig (dev calls KServe's model instead).
    "llm-gpu-both": case(Set("genai.chatqna.llm_gpu", {"count": 1, "mig_profile": "3g.40gb"}), path="genai.chatqna.llm_gpu", fragment="set exactly one"),
    "llm-count-on-mig": case(Set("genai.chatqna.llm_gpu", {"count": 1}), base="staging", path="genai.chatqna.llm_gpu.count", fragment="offers no plain nvidia.com/gpu"),
    "llm-count-two-on-time-slicing": case(Set("genai.chatqna.llm_node_pool", "a100-timeslice"), Set("genai.chatqna.llm_gpu", {"count": 2}), base="staging", path="genai.chatqna.llm_gpu.count", fragment="use count: 1"),
    "llm-count-nine": case(Set("genai.chatqna.llm_gpu", {"count": 9}), path="genai.chatqna.llm_gpu.count", fragment="less than or equal to 8"),
    "llm-pool-missing": case(Set("genai.chatqna.llm_node_pool", "a100-big"), base="staging", path="genai.chatqna.llm_node_pool", fragment="no node pool named"),
    "llm-pool-cpu": case(Set("genai.chatqna.llm_node_pool", "cpu"), base="staging", path="genai.chatqna.llm_node_pool", fragment="is a cpu pool"),
    "llm-profile-not-in-layout": case(Set("genai.chatqna.llm_gpu", {"mig_profile": "7g.80gb"}), base="staging", path="genai.chatqna.llm_gpu.mig_profile", fragment="is not in pool 'a100-mig' layout"),
    # --- served models from the MLflow registry and public hubs -----------------------------------
    "registry-alias-latest": case(Set(f"{TL}.source", "mlflow://tinyllama@Latest"), path=f"{TL}.source", fragment="'latest' is reserved by MLflow"),
    "registry-alias-version-like": case(Set(f"{TL}.source", "models:/tinyllama@v3"), path=f"{TL}.source", fragment="reserved by MLflow for version numbers"),
    "registry-alias-bad-character": case(Set(f"{TL}.source", "mlflow://tinyllama@prod.1"), path=f"{TL}.source", fragment="is not an MLflow alias"),
    "registry-alias-256-characters": case(Set(f"{TL}.source", "mlflow://tinyllama@" + "a" * 256), path=f"{TL}.source", fragment="1 to 255 letters"),
    "registry-without-alias": case(Set(f"{TL}.source", "mlflow://tinyllama"), path=f"{TL}.source", fragment="names no alias"),
    "registry-version-zero": case(Set(f"{TL}.source", "models:/tinyllama/0"), path=f"{TL}.source", fragment="names no version"),
    "registry-without-mlflow": case(Set("addons.mlflow.enabled", False), path=f"{TL}.source", fragment="this environment has no MLflow"),
    "prod-serves-from-public-hub": case(Set("serving.models.mistral-7b.source", "mistralai/Mistral-7B-Instruct-v0.2"), base="prod",
                                        path="serving.models.mistral-7b.source", fragment="downloaded from the public Hugging Face Hub"),
    "prod-canary-from-public-hub": case(Set("serving.models.mistral-7b.canary", {"source": "hf://mistralai/Mistral-7B-Instruct-v0.3", "traffic_percent": 5}),
                                        base="prod", path="serving.models.mistral-7b.canary.source", fragment="public Hugging Face Hub"),
    # --- teams and charts ------------------------------------------------------------------------
    "team-quota-negative": case(Set("teams.research.gpu_quota", -1), path="teams.research.gpu_quota", fragment="greater than or equal to 0"),
    "team-quota-huge": case(Set("teams.research.gpu_quota", 10001), path="teams.research.gpu_quota", fragment="less than or equal to 10000"),
    "team-quota-text": case(Set("teams.research.gpu_quota", "8"), path="teams.research.gpu_quota", fragment="expected a whole number"),
    "team-name": case(Set("teams.Research_Team", {"gpu_quota": 1}), path="teams.Research_Team (key)", fragment="DNS-1123"),
    "team-is-a-platform-namespace": case(Set("teams.mlflow", {"gpu_quota": 1}), path="teams.mlflow", fragment="is a platform namespace"),
    "team-is-kube-system": case(Set("teams.kube-system", {"gpu_quota": 1}), path="teams.kube-system", fragment="is a platform namespace"),
    "team-is-default": case(Set("teams.default", {"gpu_quota": 1}), path="teams.default", fragment="is a platform namespace"),
    "team-kube-prefix": case(Set("teams.kube-public", {"gpu_quota": 1}), path="teams.kube-public", fragment="reserves for its own"),
    "chart-mirror-url": case(Set("charts", {"mirror": "ftp://mirror.example.com"}), path="charts.mirror", fragment="not a chart repository URL"),
    # --- every problem at once -------------------------------------------------------------------
    "shape-and-rule-errors-together": Case(
        edits=(Set(f"{P}.cpu.min_size", -1), Set("availability_zones", ["us-east-1a", "eu-west-1b", "us-east-1c"]),
               Set("storage.mlflow_db.instance_class", "db.x99.huge")),
        expect=(("node_pools.cpu.min_size", "greater than or equal to 0"), ("availability_zones[1]", "not an availability zone"),
                ("storage.mlflow_db.instance_class", "not an RDS for PostgreSQL instance class")),
    ),
    "tier-error-beside-a-shape-error": Case(
        edits=(Set("name", "qa"), Set(f"{P}.cpu.kind", "tpu")), stem="qa",
        expect=(("tier", "set tier"), ("node_pools.cpu.kind", "is not allowed")),
    ),
}

VALID: dict[str, Case] = {
    "dev-as-shipped": Case(),
    "prod-as-shipped": Case(base="prod"),
    "dev-scale-to-zero-behind-ingress": Case(edits=(Set("serving.models.tinyllama.autoscaling.min", 0),)),
    "logs-retention-cloudwatch": Case(edits=(Set("logs", {"retention_days": 731}),)),
    "dev-without-backups": Case(edits=(Delete("backups"),)),
    "dev-without-training": Case(edits=(Delete("training"),)),
    "backups-weekdays-by-name": Case(edits=(Set("backups.schedule", "30 2 * * MON-FRI"),)),
    "backups-every-six-hours-listed": Case(edits=(Set("backups.schedule", "0 0,6,12,18 * * *"),)),
    "training-on-two-time-sliced-pools": Case(edits=(Set("training.pools", ["h100", "a100-timeslice"]), Set("training.gpus_per_node", 1))),
    "utf8-bom": Case(edits=(Replace("# dev:", "\ufeff# dev:"),)),
    "crlf-line-endings": Case(edits=(Replace("\n", "\r\n"),)),
    "quoted-yes-and-times": Case(edits=(Set("tags.team", "yes"), Set("tags.window", "1:30"), Set("tags.code", "010"))),
    "capitalised-true": Case(edits=(Replace("endpoint_public_access: true", "endpoint_public_access: True"),)),
    "no-ami-release": Case(edits=(Delete("cluster.ami_release_version"),)),
    "cluster-name-32-characters": Case(edits=(Set("cluster.name", "c" * 32),)),
    "forty-tags": Case(edits=(Set("tags", {f"t{i}": "x" for i in range(40)}),)),
    "explicit-subnets": Case(edits=(Set("network.private_subnets", ["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/18"]),
                                    Set("network.public_subnets", ["10.20.192.0/24", "10.20.193.0/24", "10.20.194.0/28"]))),
    "private-subnet-exactly-a-slash-22": Case(edits=(Set("network.private_subnets", ["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/22"]),
                                                     Set("network.public_subnets", ["10.20.192.0/24", "10.20.193.0/24", "10.20.194.0/24"]))),
    "model-200-characters": Case(edits=(Set("genai.chatqna.llm_model", "org/" + "m" * 196),)),
    "prod-public-with-narrow-cidrs": Case(base="prod", edits=(OPEN_PUBLIC, Set("cluster.public_access_cidrs", ["198.51.100.0/24", "203.0.113.0/24"]))),
    "staging-public-exactly-a-slash-16": Case(base="staging", edits=(Set("cluster.public_access_cidrs", ["198.18.0.0/16"]),)),
    "state-bucket-63-characters": Case(edits=(Set("state.bucket", "s" * 63),)),
    "state-bucket-3-characters": Case(edits=(Set("state.bucket", "abc"),)),
    "bucket-name-63-characters": Case(edits=(Set("storage.buckets", ["artifacts", "datasets", "b" * 48]),)),
    "tag-key-128-characters": Case(edits=(Set("tags", {"k" * 128: "x"}),)),
    "tag-value-256-characters": Case(edits=(Set("tags.team", "v" * 256),)),
    "prod-public-exactly-a-slash-16": Case(base="prod", edits=(OPEN_PUBLIC, Set("cluster.public_access_cidrs", ["198.18.0.0/17", "198.18.128.0/17"]))),
    # Raised to prod, staging's hub-downloaded models must come from the registry (prod_serves_no_public_hub).
    "staging-raised-to-prod": Case(base="staging", edits=(Set("tier", "prod"), Set("serving.models", {}), Delete("access.models"))),
    "capacity-block-on-p4d": Case(edits=(Set(f"{P}.a100-timeslice.capacity_type", "CAPACITY_BLOCK"), Set(f"{P}.a100-timeslice.reservation", {"type": "capacity-block", "id": "cr-0123456789abcdef0", "availability_zone": "us-east-1c"}), Set(f"{P}.a100-timeslice.availability_zones", ["us-east-1c"]))),
    "karpenter-reserved-only": Case(edits=(Set(f"{KP}.capacity_types", ["reserved"]), Set(f"{KP}.reservations", [{"id": "cr-0123456789abcdef0"}]))),
    "new-environment-with-tier": Case(stem="qa", edits=(Set("name", "qa"), Set("tier", "dev"))),
    "four-space-indentation": Case(edits=(Replace("  vpc_cidr: 10.20.0.0/16", "    vpc_cidr: 10.20.0.0/16"),
                                          Replace("  nat_gateways: single", "    nat_gateways: single"))),
    "postgres-minor-version": Case(edits=(Set("storage.mlflow_db.engine_version", "16.4"),)),
    "chart-prerelease": Case(edits=(Set("addons.mlflow.version", "1.12.0-rc.1+build.5"),)),
    "registry-version-source": Case(edits=(Set(f"{TL}.source", "models:/tinyllama/12"),)),
    "registry-alias-with-dash-and-underscore": Case(edits=(Set(f"{TL}.source", "models:/tiny.llama@prod_2-b"),)),
    "prod-from-s3-models": Case(base="prod", edits=(Set("serving.models.mistral-7b.source", "s3://mlplatform-prod-artifacts/models/mistral-7b/"),)),
    "admin-user-with-path": Case(edits=(Set("cluster.admins", ["arn:aws:iam::123456789012:user/ops/alice"]),)),
}
