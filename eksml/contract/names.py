"""Every name both layers must agree on, spelled once.

Label and tag keys, the stacks and their Terraform outputs, the IRSA service accounts, and the AWS
resource names derived from the cluster name. The modules create resources with these functions and
`AwsOutputs.predict` calls the same ones, so a prediction cannot drift from what is created.
Pure functions of strings, importing nothing of eksml: validation, stacks, modules and the
Kubernetes layer all import this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple
from enum import StrEnum

# Node label (and instance tag) naming the environment node pool a node belongs to.
POOL_LABEL = "eksml.io/pool"
# Tag on every AWS resource of an environment: leftovers are found by it, default tags carry it.
ENVIRONMENT_TAG = "eksml.io/environment"
# Tag Karpenter's EC2NodeClass selects subnets and security groups by (value: the cluster name).
KARPENTER_DISCOVERY_TAG = "karpenter.sh/discovery"
# Node labels eksml sets itself; a pool may not set them.
TOOLKIT_LABELS = (POOL_LABEL,)


class StackName(StrEnum):
    """The Terraform stacks, in an order that respects their dependencies."""

    NETWORK = "network"
    CLUSTER = "cluster"
    DATA = "data"
    KARPENTER = "karpenter"
    PLATFORM = "platform"


STACK_NAMES: tuple[StackName, ...] = tuple(StackName)


class Output(StrEnum):
    """Terraform output names; `AwsOutputs` has a field of the same name for each."""

    VPC_ID = "vpc_id"
    PRIVATE_SUBNET_IDS = "private_subnet_ids"
    PUBLIC_SUBNET_IDS = "public_subnet_ids"
    CLUSTER_NAME = "cluster_name"
    CLUSTER_ENDPOINT = "cluster_endpoint"
    CLUSTER_SECURITY_GROUP_ID = "cluster_security_group_id"
    OIDC_PROVIDER_ARN = "oidc_provider_arn"
    BUCKET_NAMES = "bucket_names"
    EFS_FILE_SYSTEM_ID = "efs_file_system_id"
    DB_ENDPOINT = "db_endpoint"
    DB_PORT = "db_port"
    DB_NAME = "db_name"
    DB_MASTER_SECRET_ARN = "db_master_secret_arn"
    KARPENTER_INTERRUPTION_QUEUE_NAME = "karpenter_interruption_queue_name"
    KARPENTER_NODE_ROLE_NAME = "karpenter_node_role_name"
    IRSA_ROLE_ARNS = "irsa_role_arns"


# The outputs each stack defines: exactly these, no more (a test holds the stacks to it).
STACK_OUTPUTS: dict[StackName, tuple[Output, ...]] = {
    StackName.NETWORK: (Output.VPC_ID, Output.PRIVATE_SUBNET_IDS, Output.PUBLIC_SUBNET_IDS),
    StackName.CLUSTER: (Output.CLUSTER_NAME, Output.CLUSTER_ENDPOINT, Output.CLUSTER_SECURITY_GROUP_ID,
                        Output.OIDC_PROVIDER_ARN),
    StackName.DATA: (Output.BUCKET_NAMES, Output.EFS_FILE_SYSTEM_ID, Output.DB_ENDPOINT, Output.DB_PORT,
                     Output.DB_NAME, Output.DB_MASTER_SECRET_ARN),
    StackName.KARPENTER: (Output.KARPENTER_INTERRUPTION_QUEUE_NAME, Output.KARPENTER_NODE_ROLE_NAME),
    StackName.PLATFORM: (Output.IRSA_ROLE_ARNS,),
}


KUBE_SYSTEM_NAMESPACE = "kube-system"
# Namespaces Kubernetes owns and a release may use: no team may take them, and eksml does not label them.
KUBERNETES_NAMESPACES: tuple[str, ...] = (KUBE_SYSTEM_NAMESPACE, "default")


class ServiceAccount(NamedTuple):
    namespace: str
    name: str


# The EKS add-ons' own IRSA roles, made by the cluster stack; the platform components' roles are
# described with each component (eksml/components) and made by the platform stack.
EBS_CSI_IDENTITY = "ebs-csi"
# The EKS add-on that serves snapshot.storage.k8s.io (its CRDs and controller): the cluster stack
# installs it, the Kubernetes layer's VolumeSnapshotClass is checked against the CRDs it brings.
SNAPSHOT_CONTROLLER_ADDON = "snapshot-controller"
EFS_CSI_IDENTITY = "efs-csi"
ADDON_SERVICE_ACCOUNTS: dict[str, ServiceAccount] = {
    EBS_CSI_IDENTITY: ServiceAccount(KUBE_SYSTEM_NAMESPACE, "ebs-csi-controller-sa"),
    EFS_CSI_IDENTITY: ServiceAccount(KUBE_SYSTEM_NAMESPACE, "efs-csi-controller-sa"),
}

# Tags AWS and Kubernetes controllers read: subnets the load balancer controller may use, resources
# a cluster owns, and what Karpenter stamps on what it launches.
PUBLIC_ELB_SUBNET_TAG = "kubernetes.io/role/elb"
INTERNAL_ELB_SUBNET_TAG = "kubernetes.io/role/internal-elb"
LOAD_BALANCER_CLUSTER_TAG = "elbv2.k8s.aws/cluster"
KARPENTER_NODEPOOL_TAG = "karpenter.sh/nodepool"
KARPENTER_NODECLAIM_TAG = "karpenter.sh/nodeclaim"
KARPENTER_CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
EKS_CLUSTER_NAME_TAG = "eks:eks-cluster-name"


def cluster_tag(cluster_name: str) -> str:
    """kubernetes.io/cluster/<name>: "shared" on the VPC's subnets, "owned" on what the cluster creates."""
    return f"kubernetes.io/cluster/{cluster_name}"


# MLflow's PostgreSQL database.
DATABASE_NAME = "mlflow"
DATABASE_USER = "mlflow"
DATABASE_PORT = 5432

# The bucket MLflow, KServe and Argo Workflows keep artifacts in.
ARTIFACTS_BUCKET = "artifacts"
# The bucket Velero keeps cluster backups in: made by the data stack whenever `backups` is set.
BACKUPS_BUCKET = "backups"
# The bucket raw training data lands in: the pipeline's ingest step reads it, nothing writes it.
DATASETS_BUCKET = "datasets"

# Role-name suffixes besides the IRSA keys.
CLUSTER_ROLE = "cluster"
NODE_ROLE = "node"
KARPENTER_NODE_ROLE = "karpenter-node"
DATABASE_MONITORING_ROLE = "mlflow-monitoring"
FLOW_LOGS_ROLE = "vpc-flow-logs"
FILESYSTEM_BACKUP_ROLE = "efs-backup"  # AWS Backup's role for the EFS file system
# Role-name suffixes of the AWS layer's own roles; each IRSA role adds its identity key.
FIXED_ROLE_SUFFIXES: tuple[str, ...] = (
    CLUSTER_ROLE, NODE_ROLE, KARPENTER_NODE_ROLE, DATABASE_MONITORING_ROLE, FLOW_LOGS_ROLE, FILESYSTEM_BACKUP_ROLE,
    *ADDON_SERVICE_ACCOUNTS,
)


class InterruptionEvent(NamedTuple):
    key: str  # names the EventBridge rule
    source: str
    detail_type: str


# Events after which Karpenter drains a node before AWS takes it away.
INTERRUPTION_EVENTS: tuple[InterruptionEvent, ...] = (
    InterruptionEvent("scheduled-change", "aws.health", "AWS Health Event"),
    InterruptionEvent("spot-interruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    InterruptionEvent("rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    InterruptionEvent("instance-state-change", "aws.ec2", "EC2 Instance State-change Notification"),
)


def resource_tags(env_name: str, user_tags: Mapping[str, str]) -> dict[str, str]:
    """Tags of every AWS resource of an environment: the user's, and the environment tag."""
    return {**user_tags, ENVIRONMENT_TAG: env_name}


def role_name(cluster_name: str, suffix: str) -> str:
    """IAM role named by one of FIXED_ROLE_SUFFIXES or an IRSA identity key. Never cut to IAM's 64 characters (two cut names
    could collide): validation refuses a cluster name that makes one too long."""
    return f"{cluster_name}-{suffix}"


def bucket_name(cluster_name: str, item: str) -> str:
    return f"{cluster_name}-{item}"


def database_identifier(cluster_name: str) -> str:
    return f"{cluster_name}-mlflow"


def pod_log_group_name(cluster_name: str) -> str:
    """The CloudWatch log group every pod's logs go to (the AWS layer owns it; Fluent Bit writes to it)."""
    return f"/aws/eks/{cluster_name}/pods"


def pod_log_key_alias(cluster_name: str) -> str:
    return f"{cluster_name}-pod-logs"


def ebs_key_alias(cluster_name: str) -> str:
    """The KMS key (alias, without `alias/`) the gp3 and io2 StorageClasses encrypt volumes with."""
    return f"{cluster_name}-ebs"


def karpenter_queue_name(cluster_name: str) -> str:
    return f"{cluster_name}-karpenter"


def interruption_rule_name(cluster_name: str, event_key: str) -> str:
    """Not cut to EventBridge's 64 characters either; validation refuses long ones."""
    return f"{cluster_name}-karpenter-{event_key}"


def launch_template_name(cluster_name: str, pool_name: str) -> str:
    """Also the instances' Name tag."""
    return f"{cluster_name}-{pool_name}"
