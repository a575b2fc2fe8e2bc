"""What each IRSA role may do: the least each component needs, scoped to its own resources.

Actions are always listed explicitly (never "*" or "service:*"); resources are named ARNs wherever
the API supports resource-level permissions, and tag conditions keep the controllers that create
AWS resources (Karpenter, the load balancer controller) to the ones they own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eksml.components.karpenter import KARPENTER
from eksml.components.load_balancer_controller import AWS_LOAD_BALANCER_CONTROLLER
from eksml.components.spec import (
    ArtifactPrefix, BackupStore, ComponentSpec, DatabaseSecretRead, DatasetsRead, Grant, PodLogsWrite, TracesWrite,
    VolumeKeyUse,
)
from modules.aws_context import AwsArns
from modules.controller_policies import aws_load_balancer_controller, karpenter
from modules.iam_policy import Condition, Statement
from modules.workload_identity import RolePermissions

_S3_READ = ("s3:GetObject", "s3:GetObjectVersion")
_S3_WRITE = ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")


@dataclass(frozen=True)
class ArtifactStore:
    """The artifacts bucket and the KMS key its objects are encrypted with."""

    bucket_arn: str
    key_arn: str


def volume_key_use(sid: str, aws: AwsArns, volume_key_arn: str) -> tuple[Statement, ...]:
    """The environment's EBS key, through EC2 only: encrypted volumes and their snapshots."""
    via_ec2 = (Condition("StringEquals", "kms:ViaService", (f"ec2.{aws.region}.amazonaws.com",)),)
    return (
        Statement(sid=f"{sid}Use", actions=("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext",
                                            "kms:ReEncryptFrom", "kms:ReEncryptTo"),
                  resources=(volume_key_arn,), conditions=via_ec2),
        Statement(sid=f"{sid}Grants", actions=("kms:CreateGrant",), resources=(volume_key_arn,),
                  conditions=(*via_ec2, Condition("Bool", "kms:GrantIsForAWSResource", ("true",)))),
    )


def ebs_csi(aws: AwsArns, volume_key_arn: str) -> RolePermissions:
    """The managed policy, and the environment's EBS key for encrypted volumes."""
    return RolePermissions(
        managed_policy_arns=(aws.managed_policy("service-role/AmazonEBSCSIDriverPolicy"),),
        statements=volume_key_use("VolumeKey", aws, volume_key_arn),
    )


def pod_logs_write(sid: str, log_group_arn: str) -> RolePermissions:
    """Streams of one log group: create them and put events. No CreateLogGroup: the AWS layer owns
    the group (retention, KMS), so a misconfigured shipper cannot scatter logs into new ones."""
    group = log_group_arn.removesuffix(":*")
    return RolePermissions(statements=(
        Statement(sid=sid, actions=("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"),
                  resources=(group, f"{group}:*", f"{group}:log-stream:*")),
    ))


def backup_store(sid: str, store: ArtifactStore, volume_key_arn: str, aws: AwsArns) -> RolePermissions:
    """Velero's bucket, and snapshots of the cluster's EBS volumes: it creates snapshots and volumes
    from them, tags what it creates, and deletes only snapshots it tagged with a backup."""
    snapshots = aws.arn("ec2", "snapshot/*", in_account=False)
    volumes = aws.arn("ec2", "volume/*")
    return RolePermissions(statements=(
        Statement(sid=f"{sid}Objects", actions=("s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                                                "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"),
                  resources=(f"{store.bucket_arn}/*",)),
        Statement(sid=f"{sid}Listing", actions=("s3:ListBucket",), resources=(store.bucket_arn,)),
        Statement(sid=f"{sid}ObjectKey", actions=("kms:Decrypt", "kms:GenerateDataKey"), resources=(store.key_arn,)),
        Statement(sid=f"{sid}Describe", actions=("ec2:DescribeSnapshots", "ec2:DescribeVolumes"), resources=("*",)),
        Statement(sid=f"{sid}Snapshot", actions=("ec2:CreateSnapshot", "ec2:CreateVolume"), resources=(snapshots, volumes)),
        Statement(sid=f"{sid}TagOnCreate", actions=("ec2:CreateTags",), resources=(snapshots, volumes),
                  conditions=(Condition("StringEquals", "ec2:CreateAction", ("CreateSnapshot", "CreateVolume")),)),
        Statement(sid=f"{sid}DeleteOwn", actions=("ec2:DeleteSnapshot",), resources=(snapshots,),
                  conditions=(Condition("StringLike", "ec2:ResourceTag/velero.io/backup", ("*",)),)),
        *volume_key_use(f"{sid}VolumeKey", aws, volume_key_arn),
    ))


def traces_write(sid: str) -> RolePermissions:
    """What the collector's awsxray exporter calls; X-Ray supports no resource-level permissions for them."""
    return RolePermissions(statements=(
        Statement(sid=sid, actions=("xray:PutTelemetryRecords", "xray:PutTraceSegments"), resources=("*",)),
    ))


def efs_csi(aws: AwsArns) -> RolePermissions:
    return RolePermissions(managed_policy_arns=(aws.managed_policy("service-role/AmazonEFSCSIDriverPolicy"),))


def _prefix_access(sid: str, store: ArtifactStore, prefix: str, *, write: bool, aws: AwsArns) -> RolePermissions:
    """Objects under one prefix of the artifacts bucket, listing limited to that prefix."""
    actions = _S3_READ + (_S3_WRITE if write else ())
    key_actions = ("kms:Decrypt", "kms:GenerateDataKey") if write else ("kms:Decrypt",)
    return RolePermissions(
        statements=(
            Statement(sid=f"{sid}Objects", actions=actions, resources=(f"{store.bucket_arn}/{prefix}/*",)),
            Statement(
                sid=f"{sid}List",
                actions=("s3:ListBucket",),
                resources=(store.bucket_arn,),
                conditions=(Condition("StringLike", "s3:prefix", (prefix, f"{prefix}/*")),),
            ),
            Statement(sid=f"{sid}BucketLocation", actions=("s3:GetBucketLocation",), resources=(store.bucket_arn,)),
            Statement(
                sid=f"{sid}ObjectKey",
                actions=key_actions,
                resources=(store.key_arn,),
                conditions=(Condition("StringEquals", "kms:ViaService", (f"s3.{aws.region}.amazonaws.com",)),),
            ),
        )
    )


def datasets_read(sid: str, store: ArtifactStore, aws: AwsArns) -> RolePermissions:
    """Every object of the datasets bucket, read-only: a pipeline run names its prefix as a parameter."""
    return RolePermissions(statements=(
        Statement(sid=f"{sid}Objects", actions=_S3_READ, resources=(f"{store.bucket_arn}/*",)),
        Statement(sid=f"{sid}List", actions=("s3:ListBucket", "s3:GetBucketLocation"), resources=(store.bucket_arn,)),
        Statement(sid=f"{sid}ObjectKey", actions=("kms:Decrypt",), resources=(store.key_arn,),
                  conditions=(Condition("StringEquals", "kms:ViaService", (f"s3.{aws.region}.amazonaws.com",)),)),
    ))


def database_secret_read(sid: str, db_master_secret_arn: str) -> RolePermissions:
    return RolePermissions(
        statements=(
            Statement(
                sid=sid,
                actions=("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
                resources=(db_master_secret_arn,),
            ),
        )
    )


@dataclass(frozen=True)
class GrantTargets:
    """The resources a component's grants name, as the stacks know them."""

    aws: AwsArns
    cluster_name: str
    cluster_arn: str
    store: ArtifactStore
    db_master_secret_arn: str
    karpenter_node_role_arn: str
    karpenter_queue_arn: str
    pod_log_group_arn: str
    volume_key_arn: str
    backups: ArtifactStore | None  # the backup bucket, when the environment has backups
    datasets: ArtifactStore | None = None  # the datasets bucket, when storage.buckets lists it


CONTROLLER_POLICIES: dict[str, Callable[[GrantTargets], RolePermissions]] = {
    KARPENTER.name: lambda t: karpenter(t.aws, cluster_name=t.cluster_name, cluster_arn=t.cluster_arn,
                                     node_role_arn=t.karpenter_node_role_arn, queue_arn=t.karpenter_queue_arn),
    AWS_LOAD_BALANCER_CONTROLLER.name: lambda t: aws_load_balancer_controller(t.aws, cluster_name=t.cluster_name),
}


def _granted(component: ComponentSpec, grant: Grant, targets: GrantTargets) -> RolePermissions:
    if isinstance(grant, ArtifactPrefix):
        return _prefix_access(grant.sid, targets.store, grant.prefix, write=grant.write, aws=targets.aws)
    if isinstance(grant, DatabaseSecretRead):
        return database_secret_read(grant.sid, targets.db_master_secret_arn)
    if isinstance(grant, PodLogsWrite):
        return pod_logs_write(grant.sid, targets.pod_log_group_arn)
    if isinstance(grant, VolumeKeyUse):
        return RolePermissions(statements=volume_key_use(grant.sid, targets.aws, targets.volume_key_arn))
    if isinstance(grant, TracesWrite):
        return traces_write(grant.sid)
    if isinstance(grant, DatasetsRead):
        if targets.datasets is None:
            raise ValueError(f"{component.name} reads the datasets bucket, which storage.buckets does not list")
        return datasets_read(grant.sid, targets.datasets, targets.aws)
    if isinstance(grant, BackupStore):
        if targets.backups is None:
            raise ValueError(f"{component.name} needs the backup bucket, which exists only with backups set")
        return backup_store(grant.sid, targets.backups, targets.volume_key_arn, targets.aws)
    return CONTROLLER_POLICIES[component.name](targets)


def permissions_for(component: ComponentSpec, targets: GrantTargets) -> RolePermissions:
    """What a component's identity may do: the union of its grants, as the description lists them."""
    grants = component.identity.grants if component.identity is not None else ()
    parts = [_granted(component, grant, targets) for grant in grants]
    return RolePermissions(
        managed_policy_arns=tuple(arn for part in parts for arn in part.managed_policy_arns),
        statements=tuple(statement for part in parts for statement in part.statements),
    )
