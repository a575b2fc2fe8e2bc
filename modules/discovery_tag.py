"""Tags a resource EKS created (the cluster security group) so Karpenter's EC2NodeClass finds it."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.ec2_tag import Ec2Tag
from constructs import Construct

from eksml.contract.names import KARPENTER_DISCOVERY_TAG



@dataclass(frozen=True)
class DiscoveryTagProps:
    resource_id: str
    cluster_name: str


class DiscoveryTag(Construct):
    """EKS makes the cluster security group itself, so Terraform can only add a tag to it afterwards."""

    def __init__(self, scope: Construct, construct_id: str, props: DiscoveryTagProps) -> None:
        super().__init__(scope, construct_id)
        self.tag = Ec2Tag(self, "tag", resource_id=props.resource_id, key=KARPENTER_DISCOVERY_TAG, value=props.cluster_name)
