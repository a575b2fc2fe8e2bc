"""One port of a security group opened to another security group (a grant between two stacks)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct


@dataclass(frozen=True)
class IngressFromGroupProps:
    security_group_id: str  # the group that is opened
    source_security_group_id: str  # who may connect
    port: int
    description: str


class IngressFromGroup(Construct):
    """A standalone rule, so the stack that knows both sides owns it: the data stack's stores do
    not wait for the cluster, and replacing the cluster rewrites the rule, never the store."""

    def __init__(self, scope: Construct, construct_id: str, props: IngressFromGroupProps) -> None:
        super().__init__(scope, construct_id)
        self.rule = VpcSecurityGroupIngressRule(
            self, "rule", security_group_id=props.security_group_id,
            referenced_security_group_id=props.source_security_group_id, ip_protocol="tcp",
            from_port=props.port, to_port=props.port, description=props.description,
        )
