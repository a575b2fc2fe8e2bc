"""What EFA needs around a node group: a cluster placement group (instances close enough for EFA's
latency) and a security group that lets its interfaces talk to each other on every protocol, which
EFA's OS-bypass traffic requires (AWS: "Prepare an EFA-enabled security group").

The launch template's network interfaces come from `efa_interfaces`: one EFA interface per network
card, as many as the instance type may attach; the first is the primary (device index 0), the others
EFA-only on device index 1, as AWS lays out p4d and p5 nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.launch_template import LaunchTemplateNetworkInterfaces
from cdktf_cdktf_provider_aws.placement_group import PlacementGroup
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress
from constructs import Construct


@dataclass(frozen=True)
class EfaNetworkingProps:
    name: str  # <cluster>-<pool>: the placement and security group names
    vpc_id: str
    placement_group: bool = True


class EfaNetworking(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: EfaNetworkingProps) -> None:
        super().__init__(scope, construct_id)
        self.placement_group = (PlacementGroup(self, "placement", name=f"{props.name}-efa", strategy="cluster")
                                if props.placement_group else None)
        self.security_group = SecurityGroup(
            self, "sg", name=f"{props.name}-efa", vpc_id=props.vpc_id,
            description="EFA: all traffic between the pool's EFA interfaces",
            ingress=[SecurityGroupIngress(description="EFA from its own interfaces", protocol="-1", from_port=0,
                                          to_port=0, self_attribute=True)],
            egress=[SecurityGroupEgress(description="EFA to its own interfaces", protocol="-1", from_port=0,
                                        to_port=0, self_attribute=True)],
            tags={"Name": f"{props.name}-efa"},
        )


def efa_interfaces(count: int, security_group_ids: list[str]) -> list[LaunchTemplateNetworkInterfaces]:
    return [
        LaunchTemplateNetworkInterfaces(
            device_index=0 if card == 0 else 1, network_card_index=card, interface_type="efa",
            security_groups=security_group_ids, delete_on_termination="true",
        )
        for card in range(count)
    ]
