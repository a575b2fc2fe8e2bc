"""Network stack: the VPC. Changes here are rare and ripple into everything else."""

from __future__ import annotations

from constructs import Construct

from eksml.config.models import Environment
from modules.network import Network, NetworkProps
from eksml.contract.names import Output, StackName
from stacks.base import EnvironmentStack, StackSettings


class NetworkStack(EnvironmentStack):
    def __init__(self, scope: Construct, settings: StackSettings, env: Environment) -> None:
        super().__init__(scope, StackName.NETWORK, settings)
        self.network = Network(self, "network", NetworkProps.from_environment(env, aws=self.aws))
        self.output(Output.VPC_ID, self.network.vpc_id, "VPC of the cluster")
        self.output(Output.PRIVATE_SUBNET_IDS, self.network.private_subnet_ids, "Private subnets (nodes, pods, data)")
        self.output(Output.PUBLIC_SUBNET_IDS, self.network.public_subnet_ids, "Public subnets (NAT, internet-facing load balancers)")
