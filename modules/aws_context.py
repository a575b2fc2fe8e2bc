"""Account and partition of the credentials Terraform runs with, for building ARNs.

Read at plan time rather than taken from the environment file, so the same stack works against
the emulator (its own account) and a real account.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from constructs import Construct


@dataclass(frozen=True)
class AwsArns:
    """Builds ARNs in the current account and partition (values are Terraform references)."""

    partition: str
    account_id: str
    region: str
    dns_suffix: str

    @property
    def account_root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def arn(self, service: str, resource: str, *, regional: bool = True, in_account: bool = True) -> str:
        region = self.region if regional else ""
        account = self.account_id if in_account else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def managed_policy(self, name: str) -> str:
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    def service_linked_role(self, service: str, role: str) -> str:
        """A role AWS creates in the account for a service (e.g. EC2 Auto Scaling's, which launches
        managed node groups' instances)."""
        return f"arn:{self.partition}:iam::{self.account_id}:role/aws-service-role/{service}.amazonaws.com/{role}"

    def service_principal(self, service: str) -> str:
        return f"{service}.{self.dns_suffix}"


class AwsContext(Construct):
    def __init__(self, scope: Construct, construct_id: str, region: str) -> None:
        super().__init__(scope, construct_id)
        identity = DataAwsCallerIdentity(self, "caller")
        partition = DataAwsPartition(self, "partition")
        self.arns = AwsArns(
            partition=partition.partition, account_id=identity.account_id, region=region,
            dns_suffix=partition.dns_suffix,
        )
