"""Karpenter stack: what Karpenter needs from AWS (node role, interruption queue and its rules).

Reads only the cluster, so it is applied while the data stack's database is still being created.
"""

from __future__ import annotations

from constructs import Construct

from eksml.config.models import Environment
from modules.karpenter import KarpenterPrerequisites, KarpenterProps
from stacks.base import PlatformStack, StackSettings
from stacks.cluster import ClusterStack


class KarpenterStack(PlatformStack):
    def __init__(self, scope: Construct, settings: StackSettings, env: Environment, cluster: ClusterStack) -> None:
        super().__init__(scope, "karpenter", settings)
        self.karpenter = KarpenterPrerequisites(
            self, "karpenter", KarpenterProps.from_environment(env, cluster_name=cluster.cluster.name, aws=self.aws)
        )
        self.output("karpenter_interruption_queue_name", self.karpenter.queue_name, "SQS queue of interruption events")
        self.output("karpenter_node_role_name", self.karpenter.node_role_name, "IAM role of nodes Karpenter launches")
