"""The VPC the cluster lives in: public subnets for load balancers, large private subnets for pods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from eksml.contract.names import INTERNAL_ELB_SUBNET_TAG, PUBLIC_ELB_SUBNET_TAG, cluster_tag
from eksml.config.models import Environment
from eksml.config.network import plan_subnets
from eksml.contract.names import FLOW_LOGS_ROLE, KARPENTER_DISCOVERY_TAG, role_name
from modules.aws_context import AwsArns
from modules.iam_policy import PolicyDocument, Statement, service_trust
from modules.log_group import EncryptedLogGroup, LogGroupProps, retention_days


@dataclass(frozen=True)
class NetworkProps:
    cluster_name: str
    region: str
    vpc_cidr: str
    zones: tuple[str, ...]
    private_cidrs: tuple[str, ...]
    public_cidrs: tuple[str, ...]
    nat_gateways: Literal["single", "one_per_az"]
    interface_endpoints: tuple[str, ...]  # service suffixes: ecr.api, ecr.dkr, sts
    flow_log_retention_days: int
    aws: AwsArns

    @classmethod
    def from_environment(cls, env: Environment, *, aws: AwsArns) -> "NetworkProps":
        plan = plan_subnets(env.network, len(env.availability_zones))
        return cls(
            cluster_name=env.cluster.name,
            region=env.region,
            vpc_cidr=env.network.vpc_cidr,
            zones=tuple(env.availability_zones),
            private_cidrs=plan.private,
            public_cidrs=plan.public,
            nat_gateways=env.network.nat_gateways,
            interface_endpoints=tuple(env.network.interface_endpoints),
            flow_log_retention_days=retention_days(env),
            aws=aws,
        )


class Network(Construct):
    """VPC, one public and one private subnet per zone, NAT egress, private AWS endpoints, flow logs.

    Nodes and pods live in the private subnets only; the public ones hold NAT gateways and
    internet-facing load balancers. Endpoints keep image pulls (ECR, S3) and STS off the NAT.
    """

    def __init__(self, scope: Construct, construct_id: str, props: NetworkProps) -> None:
        super().__init__(scope, construct_id)
        name = props.cluster_name
        self.vpc = Vpc(
            self, "vpc", cidr_block=props.vpc_cidr, enable_dns_hostnames=True, enable_dns_support=True,
            tags={"Name": name},
        )
        # The default security group must allow nothing: anything attached to it by accident stays isolated.
        DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id, tags={"Name": f"{name}-default-deny"})
        self._flow_logs(props)
        igw = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags={"Name": name})
        public_subnets = self._public_subnets(props, igw)
        nats = self._nat_gateways(props, igw, public_subnets)
        private_subnets, private_tables = self._private_subnets(props, nats)
        self._endpoints(props, private_subnets, private_tables)

        self.vpc_id: str = self.vpc.id
        self.private_subnet_ids: list[str] = [s.id for s in private_subnets]
        self.public_subnet_ids: list[str] = [s.id for s in public_subnets]

    def _public_subnets(self, props: NetworkProps, igw: InternetGateway) -> list[Subnet]:
        name = props.cluster_name
        public_rt = RouteTable(self, "public-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-public"})
        Route(self, "public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id)
        subnets = []
        for index, (zone, cidr) in enumerate(zip(props.zones, props.public_cidrs)):
            subnet = Subnet(
                self, f"public-{index}", vpc_id=self.vpc.id, cidr_block=cidr, availability_zone=zone,
                map_public_ip_on_launch=False,  # nothing launched here needs a public IP; NAT uses an EIP
                tags={"Name": f"{name}-public-{zone}", PUBLIC_ELB_SUBNET_TAG: "1", cluster_tag(name): "shared"},
            )
            RouteTableAssociation(self, f"public-{index}-rt", subnet_id=subnet.id, route_table_id=public_rt.id)
            subnets.append(subnet)
        return subnets

    def _nat_gateways(self, props: NetworkProps, igw: InternetGateway, public_subnets: list[Subnet]) -> list[NatGateway]:
        count = len(props.zones) if props.nat_gateways == "one_per_az" else 1
        nats = []
        for index in range(count):
            label = f"{props.cluster_name}-nat-{props.zones[index]}"
            eip = Eip(self, f"nat-eip-{index}", domain="vpc", tags={"Name": label})
            nats.append(NatGateway(self, f"nat-{index}", allocation_id=eip.id, subnet_id=public_subnets[index].id,
                                   tags={"Name": label}, depends_on=[igw]))
        return nats

    def _private_subnets(self, props: NetworkProps, nats: list[NatGateway]) -> tuple[list[Subnet], list[RouteTable]]:
        """Nodes and pods: each zone's subnet leaves through its own NAT (or the single one)."""
        name = props.cluster_name
        subnets, tables = [], []
        for index, (zone, cidr) in enumerate(zip(props.zones, props.private_cidrs)):
            subnet = Subnet(
                self, f"private-{index}", vpc_id=self.vpc.id, cidr_block=cidr, availability_zone=zone,
                tags={
                    "Name": f"{name}-private-{zone}",
                    INTERNAL_ELB_SUBNET_TAG: "1",
                    KARPENTER_DISCOVERY_TAG: name,
                    cluster_tag(name): "shared",
                },
            )
            table = RouteTable(self, f"private-{index}-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-private-{zone}"})
            nat = nats[index if len(nats) > 1 else 0]
            Route(self, f"private-{index}-default", route_table_id=table.id, destination_cidr_block="0.0.0.0/0",
                  nat_gateway_id=nat.id)
            RouteTableAssociation(self, f"private-{index}-rta", subnet_id=subnet.id, route_table_id=table.id)
            subnets.append(subnet)
            tables.append(table)
        return subnets, tables

    def _endpoints(self, props: NetworkProps, private_subnets: list[Subnet], private_tables: list[RouteTable]) -> None:
        name = props.cluster_name
        VpcEndpoint(
            self, "s3-endpoint", vpc_id=self.vpc.id, service_name=f"com.amazonaws.{props.region}.s3",
            vpc_endpoint_type="Gateway", route_table_ids=[t.id for t in private_tables], tags={"Name": f"{name}-s3"},
        )
        if not props.interface_endpoints:
            return
        endpoint_sg = SecurityGroup(
            self, "endpoints-sg", name=f"{name}-vpc-endpoints", vpc_id=self.vpc.id,
            description="HTTPS from inside the VPC to the AWS interface endpoints",
            ingress=[SecurityGroupIngress(description="HTTPS from the VPC", protocol="tcp", from_port=443,
                                          to_port=443, cidr_blocks=[props.vpc_cidr])],
            egress=[SecurityGroupEgress(description="Replies inside the VPC", protocol="tcp", from_port=0,
                                        to_port=65535, cidr_blocks=[props.vpc_cidr])],
            tags={"Name": f"{name}-vpc-endpoints"},
        )
        for service in props.interface_endpoints:
            VpcEndpoint(
                self, f"endpoint-{service.replace('.', '-')}", vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{props.region}.{service}", vpc_endpoint_type="Interface",
                private_dns_enabled=True, subnet_ids=[s.id for s in private_subnets],
                security_group_ids=[endpoint_sg.id], tags={"Name": f"{name}-{service}"},
            )

    def _flow_logs(self, props: NetworkProps) -> None:
        """Every accepted and rejected flow, for incident response and debugging security groups."""
        log_group = EncryptedLogGroup(
            self, "flow-logs",
            LogGroupProps(name=f"/aws/vpc/{props.cluster_name}/flow-logs", key_alias=f"{props.cluster_name}-flow-logs",
                          retention_days=props.flow_log_retention_days, aws=props.aws),
        )
        role = IamRole(self, "flow-logs-role", name=role_name(props.cluster_name, FLOW_LOGS_ROLE),
                       assume_role_policy=service_trust("vpc-flow-logs"))
        IamRolePolicy(
            self, "flow-logs-delivery", name="deliver-flow-logs", role=role.id,
            policy=PolicyDocument(
                (
                    Statement(
                        sid="DeliverFlowLogs",
                        actions=("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
                        resources=(log_group.arn, f"{log_group.arn}:*"),
                    ),
                )
            ).to_json(),
        )
        FlowLog(self, "flow-log", vpc_id=self.vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
                log_destination=log_group.arn, iam_role_arn=role.arn, max_aggregation_interval=600)
