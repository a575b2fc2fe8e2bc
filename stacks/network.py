"""Network stack: the VPC. Changes here are rare and ripple into everything else."""

from __future__ import annotations

from constructs import Construct

from eksml.config.models import Environment
from modules.network import Network, NetworkProps
from stacks.base import PlatformStack, StackSettings


class NetworkStack(PlatformStack):
    def __init__(self, scope: Construct, settings: StackSettings, env: Environment) -> None:
        super().__init__(scope, "network", settings)
        self.network = Network(self, "network", NetworkProps.from_environment(env, aws=self.aws))
        self.output("vpc_id", self.network.vpc_id, "VPC of the cluster")
        self.output("private_subnet_ids", self.network.private_subnet_ids, "Private subnets (nodes, pods, data)")
        self.output("public_subnet_ids", self.network.public_subnet_ids, "Public subnets (NAT, internet-facing load balancers)")
