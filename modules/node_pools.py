"""EKS managed node groups, one per environment node pool, sharing one node IAM role."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.eks_node_group import (
    EksNodeGroup,
    EksNodeGroupLaunchTemplate,
    EksNodeGroupNodeRepairConfig,
    EksNodeGroupScalingConfig,
    EksNodeGroupTaint,
    EksNodeGroupUpdateConfig,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateCapacityReservationSpecification,
    LaunchTemplateCapacityReservationSpecificationCapacityReservationTarget,
    LaunchTemplateInstanceMarketOptions,
    LaunchTemplateMetadataOptions,
    LaunchTemplatePlacement,
    LaunchTemplateTagSpecifications,
)
from constructs import Construct

from eksml.catalog import load_catalog
from eksml.config.models import Environment, NodePool, PoolKind
from eksml.config.rules_efa import node_efa_interfaces
from eksml.contract.names import POOL_LABEL, launch_template_name, resource_tags
from eksml.gpu.sharing import node_labels
from modules.aws_context import AwsArns
from modules.efa import EfaNetworking, EfaNetworkingProps, efa_interfaces
from modules.iam_policy import service_trust

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
_TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


def imds_hop_limit(kind: PoolKind) -> int:
    """IMDSv2 response hop limit for a pool's nodes.

    A hop limit of 1 stops IMDS answers at the node: pods (one hop further) cannot read the node
    role's credentials. GPU pools run tenant workloads (notebooks, training, model servers) that
    get AWS access only through IRSA, so they get 1. The CPU pool runs the platform's own system
    components, some of which read instance metadata from a pod (e.g. the EBS CSI node plugin's
    zone lookup, controllers discovering region and VPC), so it gets 2.
    """
    return 1 if kind.is_gpu else 2


@dataclass(frozen=True)
class Taint:
    key: str
    value: str | None
    effect: str  # EKS spelling: NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE


@dataclass(frozen=True)
class PoolSpec:
    name: str
    instance_types: tuple[str, ...]
    ami_type: str
    capacity_type: str
    min_size: int
    desired_size: int
    max_size: int
    max_unavailable: int
    disk_size_gb: int
    imds_hop_limit: int
    labels: tuple[tuple[str, str], ...]
    taints: tuple[Taint, ...]
    # EKS replaces a GPU node its monitoring reports unhealthy (XID errors, a GPU that drops off).
    node_repair: bool = False
    zones: tuple[str, ...] = ()  # of its subnets; empty: every zone
    efa_interfaces: int = 0  # EFA interfaces per node (0: no EFA)
    reservation_id: str | None = None  # the ODCR or Capacity Block its launch template targets
    capacity_block: bool = False

    @classmethod
    def from_pool(cls, name: str, pool: NodePool, *, node_repair: bool = True, zones: tuple[str, ...] = (),
                  efa_interfaces: int = 0) -> "PoolSpec":
        labels = node_labels(name, pool)
        reservation = pool.reservation
        return cls(
            zones=zones,
            efa_interfaces=efa_interfaces,
            reservation_id=reservation.id if reservation is not None else None,
            capacity_block=reservation is not None and reservation.type == "capacity-block",
            name=name,
            instance_types=tuple(pool.instance_types),
            ami_type=pool.resolved_ami_type,
            capacity_type=pool.capacity_type,
            min_size=pool.min_size,
            desired_size=pool.desired_size,
            max_size=pool.max_size,
            max_unavailable=pool.max_unavailable,
            disk_size_gb=pool.resolved_disk_size_gb,
            imds_hop_limit=imds_hop_limit(pool.kind),
            labels=tuple(sorted(labels.items())),
            taints=tuple(Taint(t.key, t.value, _TAINT_EFFECTS[t.effect]) for t in pool.taints),
            node_repair=node_repair and pool.kind.is_gpu,
        )

    @property
    def root_device(self) -> str:
        # Bottlerocket keeps images and containers on its second (data) volume.
        return "/dev/xvdb" if self.ami_type.startswith("BOTTLEROCKET") else "/dev/xvda"


@dataclass(frozen=True)
class NodePoolsProps:
    cluster_name: str  # a reference to the cluster, so node groups wait for it
    name_prefix: str  # plain cluster name for launch template and instance names, known at plan time
    subnet_ids: tuple[str, ...]
    node_role_name: str
    release_version: str | None
    pools: tuple[PoolSpec, ...]
    tags: tuple[tuple[str, str], ...]  # put on instances and volumes, which provider default_tags do not reach
    aws: AwsArns
    volume_key_arn: str  # the environment's EBS key: root volumes are encrypted with it, not the AWS-managed key
    subnet_zones: tuple[str, ...] = ()  # the zone of each of subnet_ids, in order
    vpc_id: str = ""  # for the security group of EFA pools
    cluster_security_group_id: str = ""  # EFA interfaces carry it beside the EFA one (the node group adds none)
    placement_groups: bool = True  # False on the emulator, which has none

    def subnets_of(self, pool: PoolSpec) -> list[str]:
        if not pool.zones:
            return list(self.subnet_ids)
        return [subnet for subnet, zone in zip(self.subnet_ids, self.subnet_zones) if zone in pool.zones]

    @classmethod
    def from_environment(
        cls, env: Environment, *, cluster_name: str, subnet_ids: list[str], node_role_name: str, aws: AwsArns,
        volume_key_arn: str, node_repair: bool = True, vpc_id: str = "", cluster_security_group_id: str = "", placement_groups: bool = True,
    ) -> "NodePoolsProps":
        """node_repair=False where the API keeps no repair setting (the emulator: every plan would
        show it again, and the update it starts never finishes)."""
        return cls(
            cluster_name=cluster_name,
            name_prefix=env.cluster.name,
            subnet_ids=tuple(subnet_ids),
            node_role_name=node_role_name,
            release_version=env.cluster.ami_release_version,
            pools=tuple(PoolSpec.from_pool(name, pool, node_repair=node_repair,
                                           zones=tuple(pool.availability_zones or ()),
                                           efa_interfaces=node_efa_interfaces(pool, load_catalog()))
                        for name, pool in env.node_pools.items()),
            tags=tuple(sorted(resource_tags(env.name, env.tags).items())),
            aws=aws,
            volume_key_arn=volume_key_arn,
            subnet_zones=tuple(env.availability_zones),
            vpc_id=vpc_id,
            cluster_security_group_id=cluster_security_group_id,
            placement_groups=placement_groups,
        )


def reserved_capacity(pool: PoolSpec) -> dict:
    """Launch-template settings of a pool that runs in a reservation: the reservation it targets and,
    for a Capacity Block, the capacity-block market (EKS requires both in the template)."""
    if pool.reservation_id is None:
        return {}
    settings: dict = {"capacity_reservation_specification": LaunchTemplateCapacityReservationSpecification(
        capacity_reservation_target=LaunchTemplateCapacityReservationSpecificationCapacityReservationTarget(
            capacity_reservation_id=pool.reservation_id))}
    if pool.capacity_block:
        settings["instance_market_options"] = LaunchTemplateInstanceMarketOptions(market_type="capacity-block")
    return settings


class NodePools(Construct):
    """Each node group gets its own launch template: IMDSv2 only and a gp3 root volume encrypted with
    the environment's EBS key.

    Instance types, AMI type and release stay on the node group (not in the template) so EKS
    picks and upgrades the EKS-optimized image itself.
    """

    def __init__(self, scope: Construct, construct_id: str, props: NodePoolsProps) -> None:
        super().__init__(scope, construct_id)
        self.role = IamRole(self, "role", name=props.node_role_name, assume_role_policy=service_trust("ec2"))
        attachments = [
            IamRolePolicyAttachment(self, f"role-{policy}", role=self.role.name,
                                    policy_arn=props.aws.managed_policy(policy))
            for policy in NODE_POLICIES
        ]
        self.node_groups: dict[str, EksNodeGroup] = {}
        for pool in props.pools:
            template = self._launch_template(props, pool)
            self.node_groups[pool.name] = EksNodeGroup(
                self, pool.name,
                cluster_name=props.cluster_name,
                node_group_name=pool.name,
                node_role_arn=self.role.arn,
                subnet_ids=props.subnets_of(pool),
                instance_types=list(pool.instance_types),
                ami_type=pool.ami_type,
                capacity_type=pool.capacity_type,
                release_version=props.release_version,
                scaling_config=EksNodeGroupScalingConfig(
                    min_size=pool.min_size, desired_size=pool.desired_size, max_size=pool.max_size
                ),
                update_config=EksNodeGroupUpdateConfig(max_unavailable=pool.max_unavailable),
                launch_template=EksNodeGroupLaunchTemplate(id=template.id, version=Token.as_string(template.latest_version)),
                labels=dict(pool.labels),
                taint=[EksNodeGroupTaint(key=t.key, value=t.value, effect=t.effect) for t in pool.taints] or None,
                node_repair_config=EksNodeGroupNodeRepairConfig(enabled=True) if pool.node_repair else None,
                # Autoscalers move desired_size; a plan must not fight them over it.
                lifecycle=TerraformResourceLifecycle(ignore_changes=["scaling_config[0].desired_size"]),
                depends_on=attachments,
            )
        self.node_role_arn: str = self.role.arn

    def _launch_template(self, props: NodePoolsProps, pool: PoolSpec) -> LaunchTemplate:
        """IMDSv2 only, a gp3 root volume under the EBS key, tags on instances and volumes; EFA and a reservation
        where the pool has them."""
        return LaunchTemplate(
            self, f"{pool.name}-lt",
            name=launch_template_name(props.name_prefix, pool.name),
            update_default_version=True,
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required",
                http_put_response_hop_limit=pool.imds_hop_limit,
            ),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name=pool.root_device,
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        volume_size=pool.disk_size_gb, volume_type="gp3", encrypted="true",
                        kms_key_id=props.volume_key_arn, delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                LaunchTemplateTagSpecifications(
                    resource_type=kind,
                    tags={**dict(props.tags), "Name": launch_template_name(props.name_prefix, pool.name), POOL_LABEL: pool.name},
                )
                for kind in ("instance", "volume")
            ],
            **self._efa(props, pool),
            **reserved_capacity(pool),
        )

    def _efa(self, props: NodePoolsProps, pool: PoolSpec) -> dict:
        """Launch-template settings of an EFA pool: its interfaces and its cluster placement group."""
        if not pool.efa_interfaces:
            return {}
        efa = EfaNetworking(self, f"{pool.name}-efa", EfaNetworkingProps(
            name=launch_template_name(props.name_prefix, pool.name), vpc_id=props.vpc_id,
            placement_group=props.placement_groups))
        groups = [props.cluster_security_group_id, efa.security_group.id]
        settings: dict = {"network_interfaces": efa_interfaces(pool.efa_interfaces, groups)}
        if efa.placement_group is not None:
            settings["placement"] = LaunchTemplatePlacement(group_name=efa.placement_group.name)
        return settings
