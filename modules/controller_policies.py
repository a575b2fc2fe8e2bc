"""The controllers' published IAM policies (Karpenter's, the AWS Load Balancer Controller's), with
their tag conditions: each may create and change only the AWS resources it owns."""

from __future__ import annotations

from eksml.contract.names import (
    EKS_CLUSTER_NAME_TAG, KARPENTER_NODECLAIM_TAG, KARPENTER_NODEPOOL_TAG, LOAD_BALANCER_CLUSTER_TAG, cluster_tag,
)
from modules.aws_context import AwsArns
from modules.iam_policy import Condition, Statement
from modules.workload_identity import RolePermissions


def karpenter(
    aws: AwsArns, *, cluster_name: str, cluster_arn: str, node_role_arn: str, queue_arn: str
) -> RolePermissions:
    """The upstream Karpenter v1 controller policy, with account and region pinned."""
    owned = f"aws:ResourceTag/{cluster_tag(cluster_name)}"
    requested = f"aws:RequestTag/{cluster_tag(cluster_name)}"
    in_region = Condition("StringEquals", "aws:RequestedRegion", (aws.region,))

    def ec2(resource: str, *, regional: bool = True, in_account: bool = True) -> str:
        return aws.arn("ec2", resource, regional=regional, in_account=in_account)

    launched = tuple(ec2(r) for r in ("fleet/*", "instance/*", "volume/*", "network-interface/*",
                                      "launch-template/*", "spot-instances-request/*"))
    instance_profiles = (aws.arn("iam", "instance-profile/*", regional=False),)
    return RolePermissions(
        statements=(
            Statement(
                sid="AllowScopedEC2InstanceAccessActions",
                actions=("ec2:RunInstances", "ec2:CreateFleet"),
                resources=(ec2("image/*", in_account=False), ec2("snapshot/*", in_account=False),
                           ec2("security-group/*"), ec2("subnet/*"), ec2("capacity-reservation/*")),
            ),
            Statement(
                sid="AllowScopedEC2LaunchTemplateAccessActions",
                actions=("ec2:RunInstances", "ec2:CreateFleet"),
                resources=(ec2("launch-template/*"),),
                conditions=(Condition("StringEquals", owned, ("owned",)),
                            Condition("StringLike", f"aws:ResourceTag/{KARPENTER_NODEPOOL_TAG}", ("*",))),
            ),
            Statement(
                sid="AllowScopedEC2InstanceActionsWithTags",
                actions=("ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"),
                resources=launched,
                conditions=(
                    Condition("StringEquals", requested, ("owned",)),
                    Condition("StringEquals", f"aws:RequestTag/{EKS_CLUSTER_NAME_TAG}", (cluster_name,)),
                    Condition("StringLike", f"aws:RequestTag/{KARPENTER_NODEPOOL_TAG}", ("*",)),
                ),
            ),
            Statement(
                sid="AllowScopedResourceCreationTagging",
                actions=("ec2:CreateTags",),
                resources=launched,
                conditions=(
                    Condition("StringEquals", requested, ("owned",)),
                    Condition("StringEquals", f"aws:RequestTag/{EKS_CLUSTER_NAME_TAG}", (cluster_name,)),
                    Condition("StringEquals", "ec2:CreateAction", ("RunInstances", "CreateFleet", "CreateLaunchTemplate")),
                    Condition("StringLike", f"aws:RequestTag/{KARPENTER_NODEPOOL_TAG}", ("*",)),
                ),
            ),
            Statement(
                sid="AllowScopedResourceTagging",
                actions=("ec2:CreateTags",),
                resources=(ec2("instance/*"),),
                conditions=(
                    Condition("StringEquals", owned, ("owned",)),
                    Condition("StringLike", f"aws:ResourceTag/{KARPENTER_NODEPOOL_TAG}", ("*",)),
                    Condition("StringEqualsIfExists", f"aws:RequestTag/{EKS_CLUSTER_NAME_TAG}", (cluster_name,)),
                    Condition("ForAllValues:StringEquals", "aws:TagKeys",
                              (EKS_CLUSTER_NAME_TAG, KARPENTER_NODECLAIM_TAG, "Name")),
                ),
            ),
            Statement(
                sid="AllowScopedDeletion",
                actions=("ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"),
                resources=(ec2("instance/*"), ec2("launch-template/*")),
                conditions=(Condition("StringEquals", owned, ("owned",)),
                            Condition("StringLike", f"aws:ResourceTag/{KARPENTER_NODEPOOL_TAG}", ("*",))),
            ),
            Statement(
                sid="AllowRegionalReadActions",
                actions=("ec2:DescribeAvailabilityZones", "ec2:DescribeCapacityReservations", "ec2:DescribeImages",
                         "ec2:DescribeInstances",
                         "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes",
                         "ec2:DescribeLaunchTemplates", "ec2:DescribeSecurityGroups",
                         "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets"),
                conditions=(in_region,),
            ),
            Statement(
                sid="AllowSSMReadActions",
                actions=("ssm:GetParameter",),
                resources=(aws.arn("ssm", "parameter/aws/service/*", in_account=False),),
            ),
            Statement(sid="AllowPricingReadActions", actions=("pricing:GetProducts",)),
            Statement(
                sid="AllowInterruptionQueueActions",
                actions=("sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"),
                resources=(queue_arn,),
            ),
            Statement(
                sid="AllowPassingInstanceRole",
                actions=("iam:PassRole",),
                resources=(node_role_arn,),
                conditions=(Condition("StringEquals", "iam:PassedToService", ("ec2.amazonaws.com",)),),
            ),
            Statement(
                sid="AllowScopedInstanceProfileCreationActions",
                actions=("iam:CreateInstanceProfile", "iam:TagInstanceProfile"),
                resources=instance_profiles,
                conditions=(
                    Condition("StringEquals", requested, ("owned",)),
                    Condition("StringEquals", f"aws:RequestTag/{EKS_CLUSTER_NAME_TAG}", (cluster_name,)),
                    Condition("StringEquals", "aws:RequestTag/topology.kubernetes.io/region", (aws.region,)),
                    Condition("StringLike", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass", ("*",)),
                ),
            ),
            Statement(
                sid="AllowScopedInstanceProfileActions",
                actions=("iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
                         "iam:DeleteInstanceProfile"),
                resources=instance_profiles,
                conditions=(
                    Condition("StringEquals", owned, ("owned",)),
                    Condition("StringEquals", "aws:ResourceTag/topology.kubernetes.io/region", (aws.region,)),
                    Condition("StringLike", "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass", ("*",)),
                ),
            ),
            Statement(
                sid="AllowInstanceProfileReadActions",
                actions=("iam:GetInstanceProfile", "iam:ListInstanceProfiles"),
                resources=instance_profiles,
            ),
            Statement(sid="AllowAPIServerEndpointDiscovery", actions=("eks:DescribeCluster",), resources=(cluster_arn,)),
        )
    )


def aws_load_balancer_controller(aws: AwsArns, *, cluster_name: str) -> RolePermissions:
    """A subset of the upstream controller policy (no WAF/Shield/Cognito integrations); every
    mutating call is limited to resources carrying the controller's elbv2.k8s.aws/cluster tag."""
    tag = LOAD_BALANCER_CLUSTER_TAG
    tagged = Condition("Null", f"aws:ResourceTag/{tag}", ("false",))
    tag_on_create = Condition("Null", f"aws:RequestTag/{tag}", ("false",))

    def elb(resource: str) -> str:
        return aws.arn("elasticloadbalancing", resource)

    balancers = (elb("targetgroup/*/*"), elb("loadbalancer/net/*/*"), elb("loadbalancer/app/*/*"))
    listeners = (elb("listener/net/*/*/*"), elb("listener/app/*/*/*"),
                 elb("listener-rule/net/*/*/*"), elb("listener-rule/app/*/*/*"))
    security_groups = (aws.arn("ec2", "security-group/*"),)
    return RolePermissions(
        statements=(
            Statement(
                sid="CreateElbServiceLinkedRole",
                actions=("iam:CreateServiceLinkedRole",),
                resources=(aws.arn("iam", "role/aws-service-role/elasticloadbalancing.amazonaws.com/*", regional=False),),
                conditions=(Condition("StringEquals", "iam:AWSServiceName", ("elasticloadbalancing.amazonaws.com",)),),
            ),
            Statement(
                sid="Describe",
                actions=(
                    "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
                    "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
                    "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
                    "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:DescribeRouteTables",
                    "ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:GetCoipPoolUsage",
                    "ec2:DescribeCoipPools",
                    "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
                    "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerCertificates",
                    "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeSSLPolicies",
                    "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
                    "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores",
                    "elasticloadbalancing:DescribeCapacityReservation",
                    "acm:ListCertificates", "acm:DescribeCertificate",
                ),
                conditions=(Condition("StringEquals", "aws:RequestedRegion", (aws.region,)),),
            ),
            Statement(sid="CreateSecurityGroup", actions=("ec2:CreateSecurityGroup",),
                      resources=(*security_groups, aws.arn("ec2", "vpc/*"))),
            Statement(
                sid="TagNewSecurityGroup",
                actions=("ec2:CreateTags",),
                resources=security_groups,
                conditions=(Condition("StringEquals", "ec2:CreateAction", ("CreateSecurityGroup",)), tag_on_create),
            ),
            Statement(
                sid="RetagOwnSecurityGroups",
                actions=("ec2:CreateTags", "ec2:DeleteTags"),
                resources=security_groups,
                conditions=(Condition("Null", f"aws:RequestTag/{tag}", ("true",)), tagged),
            ),
            Statement(
                # Opening node security groups to its load balancers is the controller's job; those
                # groups are not tagged by it, so this one stays limited to security groups only.
                sid="ManageIngressRules",
                actions=("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"),
                resources=security_groups,
            ),
            Statement(sid="DeleteOwnSecurityGroups", actions=("ec2:DeleteSecurityGroup",),
                      resources=security_groups, conditions=(tagged,)),
            Statement(
                sid="CreateTaggedBalancers",
                actions=("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"),
                resources=balancers,
                conditions=(tag_on_create,),
            ),
            Statement(
                sid="ManageListenersAndRules",
                actions=("elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
                         "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule",
                         "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule",
                         "elasticloadbalancing:AddListenerCertificates",
                         "elasticloadbalancing:RemoveListenerCertificates"),
                resources=(*balancers[1:], *listeners),
            ),
            Statement(
                sid="RetagOwnBalancers",
                actions=("elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"),
                resources=balancers + listeners,
                conditions=(Condition("Null", f"aws:RequestTag/{tag}", ("true",)), tagged),
            ),
            Statement(
                sid="TagOnCreate",
                actions=("elasticloadbalancing:AddTags",),
                resources=balancers,
                conditions=(
                    Condition("StringEquals", "elasticloadbalancing:CreateAction",
                              ("CreateTargetGroup", "CreateLoadBalancer")),
                    tag_on_create,
                ),
            ),
            Statement(
                sid="ModifyOwnBalancers",
                actions=("elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
                         "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
                         "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
                         "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
                         "elasticloadbalancing:ModifyListenerAttributes"),
                resources=balancers,
                conditions=(tagged,),
            ),
            Statement(
                sid="RegisterTargets",
                actions=("elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"),
                resources=(elb("targetgroup/*/*"),),
            ),
        )
    )
