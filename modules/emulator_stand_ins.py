"""Stand-ins for values the AWS emulator does not produce, so the same stacks apply against it.

Only ever instantiated for an emulator target (see eksml.emulator.deviations.EMULATOR_STAND_INS).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from eksml.contract.names import KARPENTER_DISCOVERY_TAG


@dataclass(frozen=True)
class ClusterSecurityGroupStandInProps:
    cluster_name: str
    vpc_id: str


class ClusterSecurityGroupStandIn(Construct):
    """moto's EKS returns no cluster security group id (real EKS creates one and puts it on every
    managed node); EFS and RDS rules reference it, so an empty group takes its place."""

    def __init__(self, scope: Construct, construct_id: str, props: ClusterSecurityGroupStandInProps) -> None:
        super().__init__(scope, construct_id)
        group = SecurityGroup(
            self, "sg", name=f"eks-cluster-sg-{props.cluster_name}", vpc_id=props.vpc_id,
            description="Emulator stand-in for the EKS cluster security group",
            # Real EKS owns its group and we only add the discovery tag; here the group is ours, tag included.
            tags={"Name": f"eks-cluster-sg-{props.cluster_name}", KARPENTER_DISCOVERY_TAG: props.cluster_name},
        )
        self.security_group_id: str = group.id
