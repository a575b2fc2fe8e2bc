"""Karpenter stack: what Karpenter needs from AWS (node role, interruption queue and its rules).

Reads only the cluster, so it is applied while the data stack's database is still being created.
"""

from __future__ import annotations

from constructs import Construct

from eksml.config.models import Environment
from modules.karpenter import KarpenterPrerequisites, KarpenterProps
from eksml.contract.names import Output, StackName
from stacks.base import EnvironmentStack, StackSettings
from stacks.cluster import ClusterStack


class KarpenterStack(EnvironmentStack):
    def __init__(self, scope: Construct, settings: StackSettings, env: Environment, cluster: ClusterStack) -> None:
        super().__init__(scope, StackName.KARPENTER, settings)
        # Its node role joins the cluster; the order holds on the emulator too, which leaves the access entry out.
        self.add_dependency(cluster)
        self.karpenter = KarpenterPrerequisites(
            self, "karpenter", KarpenterProps.from_environment(env, cluster_name=cluster.cluster.name, aws=self.aws)
        )
        self.output(Output.KARPENTER_INTERRUPTION_QUEUE_NAME, self.karpenter.queue_name, "SQS queue of interruption events")
        self.output(Output.KARPENTER_NODE_ROLE_NAME, self.karpenter.node_role_name, "IAM role of nodes Karpenter launches")
