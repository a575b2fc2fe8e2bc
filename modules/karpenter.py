"""What Karpenter needs from AWS before its controller starts: a node role and an interruption queue."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from eksml.config.models import Environment
from eksml.contract.names import (
    INTERRUPTION_EVENTS,
    KARPENTER_NODE_ROLE,
    InterruptionEvent,
    interruption_rule_name,
    karpenter_queue_name,
    role_name,
)
from modules.aws_context import AwsArns
from modules.iam_policy import PolicyDocument, Statement, deny_insecure_transport, service_trust

NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
)


@dataclass(frozen=True)
class KarpenterProps:
    cluster_name: str
    queue_name: str
    rule_prefix: str  # the plain cluster name (known at plan time), for the event rule names
    node_role_name: str
    aws: AwsArns

    @classmethod
    def from_environment(cls, env: Environment, *, cluster_name: str, aws: AwsArns) -> "KarpenterProps":
        return cls(
            cluster_name=cluster_name,
            queue_name=karpenter_queue_name(env.cluster.name),
            rule_prefix=env.cluster.name,
            node_role_name=role_name(env.cluster.name, KARPENTER_NODE_ROLE),
            aws=aws,
        )


class KarpenterPrerequisites(Construct):
    """Nodes Karpenter launches join through an EC2_LINUX access entry for their role (the cluster
    has no aws-auth ConfigMap); the instance profile lets an EC2NodeClass name it directly."""

    def __init__(self, scope: Construct, construct_id: str, props: KarpenterProps) -> None:
        super().__init__(scope, construct_id)
        aws = props.aws
        self.node_role = IamRole(self, "node-role", name=props.node_role_name, assume_role_policy=service_trust("ec2"))
        for policy in NODE_POLICIES:
            IamRolePolicyAttachment(self, f"node-role-{policy}", role=self.node_role.name,
                                    policy_arn=aws.managed_policy(policy))
        self.instance_profile = IamInstanceProfile(self, "instance-profile", name=props.node_role_name,
                                                   role=self.node_role.name)
        EksAccessEntry(self, "node-access", cluster_name=props.cluster_name, principal_arn=self.node_role.arn,
                       type="EC2_LINUX")

        # The policy is part of the queue (its ARN is known before it exists): a separate
        # aws_sqs_queue_policy waits for attribute propagation a second time.
        queue_arn = aws.arn("sqs", props.queue_name)
        self.queue = SqsQueue(
            self, "queue", name=props.queue_name, message_retention_seconds=300, sqs_managed_sse_enabled=True,
            policy=PolicyDocument(
                (
                    Statement(
                        sid="EventsDeliverInterruptions",
                        actions=("sqs:SendMessage",),
                        resources=(queue_arn,),
                        principals=(("Service", ("events.amazonaws.com", "sqs.amazonaws.com")),),
                    ),
                    deny_insecure_transport("DenyInsecureTransport", (queue_arn,), "sqs:*"),
                )
            ).to_json(),
        )
        for event in INTERRUPTION_EVENTS:
            rule = CloudwatchEventRule(
                self, f"{event.key}-rule", name=interruption_rule_name(props.rule_prefix, event.key),
                description=f"Karpenter interruption handling: {event.detail_type}",
                event_pattern=_event_pattern(event),
            )
            CloudwatchEventTarget(self, f"{event.key}-target", rule=rule.name, target_id="karpenter-queue",
                                  arn=self.queue.arn)

        self.node_role_name: str = self.node_role.name
        self.node_role_arn: str = self.node_role.arn
        self.queue_name: str = self.queue.name
        self.queue_arn: str = self.queue.arn


def _event_pattern(event: InterruptionEvent) -> str:
    return json.dumps({"source": [event.source], "detail-type": [event.detail_type]})
