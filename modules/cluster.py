"""The EKS control plane: cluster, its IAM role, secrets encryption, logs, OIDC issuer, admin access."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.eks_access_policy_association import (
    EksAccessPolicyAssociation,
    EksAccessPolicyAssociationAccessScope,
)
from cdktf_cdktf_provider_aws.eks_cluster import (
    EksCluster,
    EksClusterAccessConfig,
    EksClusterEncryptionConfig,
    EksClusterEncryptionConfigProvider,
    EksClusterVpcConfig,
)
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from eksml.config.models import Environment
from modules.aws_context import AwsArns
from modules.iam_policy import service_trust
from modules.kms import EncryptionKey, EncryptionKeyProps
from modules.log_group import EncryptedLogGroup, LogGroupProps, retention_days

CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
# EKS OIDC issuers are verified against AWS's trusted CA store; IAM still wants a thumbprint on
# the provider. This is the well-known root CA thumbprint of oidc.eks.*.amazonaws.com, kept
# static so synthesis never makes a network call.
EKS_OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


@dataclass(frozen=True)
class ClusterProps:
    name: str
    kubernetes_version: str
    subnet_ids: tuple[str, ...]
    endpoint_public_access: bool
    endpoint_private_access: bool
    public_access_cidrs: tuple[str, ...]
    log_types: tuple[str, ...]
    log_retention_days: int
    admin_arns: tuple[str, ...]
    role_name: str
    aws: AwsArns

    @classmethod
    def from_environment(
        cls, env: Environment, *, subnet_ids: list[str], role_name: str, aws: AwsArns
    ) -> "ClusterProps":
        cluster = env.cluster
        return cls(
            name=cluster.name,
            kubernetes_version=cluster.kubernetes_version,
            subnet_ids=tuple(subnet_ids),
            endpoint_public_access=cluster.endpoint_public_access,
            endpoint_private_access=cluster.endpoint_private_access,
            public_access_cidrs=tuple(cluster.public_access_cidrs),
            log_types=tuple(cluster.log_types),
            log_retention_days=retention_days(env),
            admin_arns=tuple(cluster.admins),
            role_name=role_name,
            aws=aws,
        )


class Cluster(Construct):
    """Authentication is access entries only (mode API): who may administer the cluster is
    declared here, never in an aws-auth ConfigMap edited by hand."""

    def __init__(self, scope: Construct, construct_id: str, props: ClusterProps) -> None:
        super().__init__(scope, construct_id)
        aws = props.aws
        role = IamRole(self, "role", name=props.role_name, assume_role_policy=service_trust("eks"))
        attachments = [
            IamRolePolicyAttachment(self, f"role-{policy}", role=role.name, policy_arn=aws.managed_policy(policy))
            for policy in ("AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController")
        ]
        self._control_plane(props, role, [*attachments])
        issuer = self.cluster.identity.get(0).oidc.get(0).issuer
        self.oidc_provider = IamOpenidConnectProvider(
            self, "oidc", url=issuer, client_id_list=["sts.amazonaws.com"], thumbprint_list=[EKS_OIDC_THUMBPRINT],
        )
        self._admins(props)

        self.name: str = self.cluster.name
        self.arn: str = self.cluster.arn
        self.endpoint: str = self.cluster.endpoint
        self.security_group_id: str = self.cluster.vpc_config.cluster_security_group_id
        self.oidc_provider_arn: str = self.oidc_provider.arn
        self.oidc_issuer: str = issuer  # https://oidc.eks.<region>.amazonaws.com/id/<ID>

    def _control_plane(self, props: ClusterProps, role: IamRole, attachments: list) -> None:
        """The encryption key and the log group first, so both apply from the cluster's first moment."""
        aws = props.aws

        self.key = EncryptionKey(
            self, "key",
            EncryptionKeyProps(alias=f"{props.name}-eks", description=f"EKS secrets of {props.name}",
                               account_root_arn=aws.account_root),
        )
        # Created before the cluster so retention and encryption apply from the first log line.
        log_group = EncryptedLogGroup(
            self, "logs",
            LogGroupProps(name=f"/aws/eks/{props.name}/cluster", key_alias=f"{props.name}-eks-logs",
                          retention_days=props.log_retention_days, aws=aws),
        )

        public_cidrs = list(props.public_access_cidrs) if props.endpoint_public_access and props.public_access_cidrs else None
        self.cluster = EksCluster(
            self, "cluster",
            name=props.name,
            version=props.kubernetes_version,
            role_arn=role.arn,
            vpc_config=EksClusterVpcConfig(
                subnet_ids=list(props.subnet_ids),
                endpoint_public_access=props.endpoint_public_access,
                endpoint_private_access=props.endpoint_private_access,
                public_access_cidrs=public_cidrs,
            ),
            access_config=EksClusterAccessConfig(
                authentication_mode="API",
                # No implicit admin for whoever ran the apply: its EKS-made access entry would collide
                # with ours when that identity is also in cluster.admins (the usual case), and access
                # should not depend on who happened to create the cluster. Deployers are listed admins.
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            encryption_config=EksClusterEncryptionConfig(
                resources=["secrets"], provider=EksClusterEncryptionConfigProvider(key_arn=self.key.key_arn)
            ),
            enabled_cluster_log_types=list(props.log_types),
            depends_on=[*attachments, log_group.log_group],
        )

    def _admins(self, props: ClusterProps) -> None:
        for index, principal in enumerate(props.admin_arns):
            entry = EksAccessEntry(
                self, f"admin-{index}", cluster_name=self.cluster.name, principal_arn=principal, type="STANDARD",
            )
            EksAccessPolicyAssociation(
                self, f"admin-{index}-policy",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                policy_arn=f"arn:{props.aws.partition}:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}",
                access_scope=EksAccessPolicyAssociationAccessScope(type="cluster"),
                depends_on=[entry],
            )
