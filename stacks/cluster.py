"""Cluster stack: EKS control plane, node groups, managed add-ons and the add-ons' IRSA roles."""

from __future__ import annotations

import json

from constructs import Construct

from eksml.config.models import Environment
from eksml.contract.names import (
    ADDON_SERVICE_ACCOUNTS, CLUSTER_ROLE, EBS_CSI_IDENTITY, EFS_CSI_IDENTITY, NODE_ROLE, Output, StackName, ebs_key_alias,
    SNAPSHOT_CONTROLLER_ADDON, pod_log_group_name, pod_log_key_alias, role_name,
)
from modules import irsa_policies
from modules.cluster import Cluster, ClusterProps
from modules.cluster_addons import AddonSpec, ClusterAddons, ClusterAddonsProps
from modules.discovery_tag import DiscoveryTag, DiscoveryTagProps
from modules.kms import EncryptionKey, EncryptionKeyProps
from modules.log_group import EncryptedLogGroup, LogGroupProps, retention_days
from modules.emulator_stand_ins import ClusterSecurityGroupStandIn, ClusterSecurityGroupStandInProps
from modules.node_pools import NodePools, NodePoolsProps
from modules.workload_identity import WorkloadIdentity, WorkloadIdentityProps
from stacks.base import EnvironmentStack, StackSettings
from stacks.network import NetworkStack


class ClusterStack(EnvironmentStack):
    def __init__(self, scope: Construct, settings: StackSettings, env: Environment, network: NetworkStack) -> None:
        super().__init__(scope, StackName.CLUSTER, settings)
        subnets = network.network.private_subnet_ids
        self.cluster = Cluster(
            self, "eks",
            ClusterProps.from_environment(env, subnet_ids=subnets, role_name=role_name(env.cluster.name, CLUSTER_ROLE), aws=self.aws),
        )
        self.security_group_id: str = self._security_group(settings, env, network)
        # Nodes' root volumes (both node groups and Karpenter's) and the gp3 and io2 StorageClasses'
        # volumes are encrypted with this key. EC2 Auto Scaling launches the node groups' instances.
        self.ebs_key = EncryptionKey(self, "ebs-key", EncryptionKeyProps(
            alias=ebs_key_alias(env.cluster.name), description=f"EBS volumes of {env.cluster.name}",
            account_root_arn=self.aws.account_root,
            role_users=(self.aws.service_linked_role("autoscaling", "AWSServiceRoleForAutoScaling"),)))
        self.node_pools = NodePools(
            self, "node-pools",
            NodePoolsProps.from_environment(env, cluster_name=self.cluster.name, subnet_ids=subnets,
                                            node_role_name=role_name(env.cluster.name, NODE_ROLE), aws=self.aws,
                                            volume_key_arn=self.ebs_key.key_arn,
                                            node_repair=not settings.target.emulated, vpc_id=network.network.vpc_id,
                                            cluster_security_group_id=self.security_group_id,
                                            placement_groups=not settings.target.emulated),
        )
        # Fluent Bit writes every pod's logs here (its IRSA role may write only to this group).
        self.pod_logs = EncryptedLogGroup(self, "pod-logs", LogGroupProps(
            name=pod_log_group_name(env.cluster.name), key_alias=pod_log_key_alias(env.cluster.name),
            retention_days=retention_days(env), aws=self.aws))
        self.addon_identity = WorkloadIdentity(
            self, "addon-identity",
            WorkloadIdentityProps.for_accounts(
                env.cluster.name,
                oidc_provider_arn=self.cluster.oidc_provider_arn,
                oidc_issuer=self.cluster.oidc_issuer,
                accounts={
                    EBS_CSI_IDENTITY: (ADDON_SERVICE_ACCOUNTS[EBS_CSI_IDENTITY],
                                       irsa_policies.ebs_csi(self.aws, self.ebs_key.key_arn)),
                    EFS_CSI_IDENTITY: (ADDON_SERVICE_ACCOUNTS[EFS_CSI_IDENTITY], irsa_policies.efs_csi(self.aws)),
                },
            ),
        )
        self._addons(env)
        self.output(Output.CLUSTER_NAME, self.cluster.name, "EKS cluster name")
        self.output(Output.CLUSTER_ENDPOINT, self.cluster.endpoint, "Kubernetes API server URL")
        self.output(Output.CLUSTER_SECURITY_GROUP_ID, self.security_group_id,
                    "Security group EKS puts on the control plane and managed nodes")
        self.output(Output.OIDC_PROVIDER_ARN, self.cluster.oidc_provider_arn, "IAM OIDC provider for IRSA")

    def _addons(self, env: Environment) -> None:
        arns = self.addon_identity.role_arns
        ClusterAddons(
            self, "addons",
            ClusterAddonsProps(
                cluster_name=self.cluster.name,
                addons=(
                    # The network policy agent: without it the platform's NetworkPolicies are inert.
                    AddonSpec("vpc-cni", configuration_values=json.dumps({"enableNetworkPolicy": "true"})),
                    AddonSpec("kube-proxy"),
                    AddonSpec("coredns"),
                    # Volumes tagged kubernetes.io/cluster/<name>: destroy finds leftovers of this cluster only.
                    AddonSpec("aws-ebs-csi-driver", arns[EBS_CSI_IDENTITY],
                              json.dumps({"controller": {"k8sTagClusterId": env.cluster.name}})),
                    # Reports GPU (XID, NVLink, driver) and kernel faults as node conditions, which
                    # node auto-repair (the GPU node groups' node_repair_config) acts on.
                    AddonSpec("eks-node-monitoring-agent"),
                    # VolumeSnapshots of EBS volumes (the Kubernetes layer's VolumeSnapshotClass).
                    AddonSpec(SNAPSHOT_CONTROLLER_ADDON),
                    # The EFS CSI driver is a chart of the Kubernetes layer (its pods are checked there).
                ),
                nodes=tuple(self.node_pools.node_groups.values()),
            ),
        )

    def _security_group(self, settings: StackSettings, env: Environment, network: NetworkStack) -> str:
        """The cluster security group (the emulator has none: a stand-in), tagged for Karpenter's discovery."""
        if settings.target.emulated:
            return ClusterSecurityGroupStandIn(
                self, "emulator-cluster-sg",
                ClusterSecurityGroupStandInProps(cluster_name=env.cluster.name, vpc_id=network.network.vpc_id),
            ).security_group_id
        DiscoveryTag(self, "karpenter-discovery",
                     DiscoveryTagProps(resource_id=self.cluster.security_group_id, cluster_name=env.cluster.name))
        return self.cluster.security_group_id
