"""EFS for ReadWriteMany volumes (shared datasets, notebooks), reachable only from cluster nodes."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.efs_file_system import EfsFileSystem
from cdktf_cdktf_provider_aws.efs_mount_target import EfsMountTarget
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from modules.aws_context import AwsArns
from modules.kms import EncryptionKey, EncryptionKeyProps

NFS_PORT = 2049


@dataclass(frozen=True)
class SharedFilesystemProps:
    name: str
    vpc_id: str
    subnet_ids: tuple[str, ...]  # one mount target per private subnet (per zone)
    aws: AwsArns


class SharedFilesystem(Construct):
    """Encrypted with its own key. Its security group admits nothing by itself: the platform stack
    opens NFS to the cluster security group (`IngressFromGroup`), and to nothing else."""

    def __init__(self, scope: Construct, construct_id: str, props: SharedFilesystemProps) -> None:
        super().__init__(scope, construct_id)
        key = EncryptionKey(
            self, "key",
            EncryptionKeyProps(alias=f"{props.name}-efs", description=f"EFS of {props.name}",
                               account_root_arn=props.aws.account_root),
        )
        self.file_system = EfsFileSystem(
            self, "fs", creation_token=f"{props.name}-shared", encrypted=True, kms_key_id=key.key_arn,
            performance_mode="generalPurpose", throughput_mode="elastic", tags={"Name": f"{props.name}-shared"},
        )
        self.security_group = SecurityGroup(
            self, "sg", name=f"{props.name}-efs", vpc_id=props.vpc_id,
            description="NFS from the EKS cluster security group only",
            tags={"Name": f"{props.name}-efs"},
        )
        for index, subnet_id in enumerate(props.subnet_ids):
            EfsMountTarget(self, f"mount-{index}", file_system_id=self.file_system.id, subnet_id=subnet_id,
                           security_groups=[self.security_group.id])
        self.file_system_id: str = self.file_system.id
        self.file_system_arn: str = self.file_system.arn
        self.security_group_id: str = self.security_group.id
