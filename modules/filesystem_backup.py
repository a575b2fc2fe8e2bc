"""AWS Backup for the EFS file system: a vault encrypted with its own key, one plan on the
environment's backup schedule and retention, and the selection that puts the file system in it."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.backup_plan import BackupPlan, BackupPlanRule, BackupPlanRuleLifecycle
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from modules.aws_context import AwsArns
from modules.iam_policy import service_trust
from modules.kms import EncryptionKey, EncryptionKeyProps, KeyUser

# AWS Backup's managed policies for its service role: take backups, and restore them.
_BACKUP_POLICIES = ("service-role/AWSBackupServiceRolePolicyForBackup", "service-role/AWSBackupServiceRolePolicyForRestores")


@dataclass(frozen=True)
class FilesystemBackupProps:
    name: str  # the cluster name: vault, plan and key are named after it
    file_system_arn: str
    schedule: str  # an AWS Backup cron expression, cron(m h dom mon dow year)
    retention_days: int
    role_name: str
    aws: AwsArns


class FilesystemBackup(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: FilesystemBackupProps) -> None:
        super().__init__(scope, construct_id)
        key = EncryptionKey(
            self, "key",
            EncryptionKeyProps(alias=f"{props.name}-backup", description=f"AWS Backup vault of {props.name}",
                               account_root_arn=props.aws.account_root,
                               service_users=(KeyUser(props.aws.service_principal("backup")),)),
        )
        self.vault = BackupVault(self, "vault", name=f"{props.name}-efs", kms_key_arn=key.key_arn)
        self.plan = BackupPlan(
            self, "plan", name=f"{props.name}-efs",
            rule=[BackupPlanRule(rule_name="daily", target_vault_name=self.vault.name, schedule=props.schedule,
                                 lifecycle=BackupPlanRuleLifecycle(delete_after=props.retention_days))],
        )
        role = IamRole(self, "role", name=props.role_name, assume_role_policy=service_trust("backup"))
        attachments = [IamRolePolicyAttachment(self, f"role-{policy.rsplit('/', 1)[1]}", role=role.name,
                                               policy_arn=props.aws.managed_policy(policy))
                       for policy in _BACKUP_POLICIES]
        self.selection = BackupSelection(
            self, "selection", name=f"{props.name}-efs", plan_id=self.plan.id, iam_role_arn=role.arn,
            resources=[props.file_system_arn], depends_on=attachments,
        )
