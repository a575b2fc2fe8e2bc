"""A CloudWatch log group encrypted with its own key, with retention by environment tier."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from eksml.config.models import Environment, Tier
from modules.aws_context import AwsArns
from modules.kms import EncryptionKey, EncryptionKeyProps, KeyUser

# Audit trails are kept a year where it matters; short-lived tiers keep just enough to debug.
RETENTION_DAYS_BY_TIER: dict[Tier, int] = {Tier.local: 7, Tier.dev: 30, Tier.staging: 365, Tier.prod: 365}


def retention_days(env: Environment) -> int:
    """`logs.retention_days` when the file sets it (validated against what CloudWatch accepts), else the tier's."""
    return env.logs.retention_days or RETENTION_DAYS_BY_TIER[env.resolved_tier]


@dataclass(frozen=True)
class LogGroupProps:
    name: str  # e.g. /aws/eks/<cluster>/cluster
    key_alias: str
    retention_days: int
    aws: AwsArns


class EncryptedLogGroup(Construct):
    """The key may be used by CloudWatch Logs for this one log group only (encryption context)."""

    def __init__(self, scope: Construct, construct_id: str, props: LogGroupProps) -> None:
        super().__init__(scope, construct_id)
        aws = props.aws
        self.arn_pattern = aws.arn("logs", f"log-group:{props.name}")
        key = EncryptionKey(
            self, "key",
            EncryptionKeyProps(
                alias=props.key_alias,
                description=f"CloudWatch log group {props.name}",
                account_root_arn=aws.account_root,
                service_users=(
                    KeyUser(
                        service=aws.service_principal(f"logs.{aws.region}"),
                        context_key="kms:EncryptionContext:aws:logs:arn",
                        context_values=(self.arn_pattern,),
                    ),
                ),
            ),
        )
        self.log_group = CloudwatchLogGroup(
            self, "group", name=props.name, retention_in_days=props.retention_days, kms_key_id=key.key_arn,
        )
        self.name: str = self.log_group.name
        self.arn: str = self.log_group.arn
