"""A customer-managed KMS key with rotation and an explicit key policy."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from modules.iam_policy import Condition, PolicyDocument, Statement

_USE_KEY = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


@dataclass(frozen=True)
class KeyUser:
    """An AWS service principal allowed to use the key, optionally only for one encryption context."""

    service: str  # service principal, e.g. logs.us-east-1.amazonaws.com
    context_key: str | None = None  # e.g. kms:EncryptionContext:aws:logs:arn
    context_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class EncryptionKeyProps:
    alias: str  # without the alias/ prefix
    description: str
    account_root_arn: str
    deletion_window_days: int = 30
    service_users: tuple[KeyUser, ...] = ()
    # IAM roles that launch instances with volumes under the key and hold no IAM policy of ours
    # (service-linked roles, whose policies cannot be changed): use, and grants for AWS resources.
    role_users: tuple[str, ...] = ()


class EncryptionKey(Construct):
    """The key policy hands administration to the account's IAM (the AWS default) so roles are
    granted use through IAM policies, and names each service principal that encrypts with it."""

    def __init__(self, scope: Construct, construct_id: str, props: EncryptionKeyProps) -> None:
        super().__init__(scope, construct_id)
        statements = [
            Statement(
                sid="AccountIamAdministersKey",
                actions=("kms:*",),
                principals=(("AWS", (props.account_root_arn,)),),
            )
        ]
        for index, user in enumerate(props.service_users):
            conditions = ()
            if user.context_key:
                conditions = (Condition("ArnLike", user.context_key, user.context_values),)
            statements.append(
                Statement(
                    sid=f"ServiceUse{index}",
                    actions=_USE_KEY,
                    principals=(("Service", (user.service,)),),
                    conditions=conditions,
                )
            )
        if props.role_users:
            statements += _role_use(props.role_users)
        self.key = KmsKey(
            self, "key", description=props.description, enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_days, policy=PolicyDocument(tuple(statements)).to_json(),
        )
        KmsAlias(self, "alias", name=f"alias/{props.alias}", target_key_id=self.key.key_id)
        self.key_arn: str = self.key.arn
        self.key_id: str = self.key.key_id


def _role_use(roles: tuple[str, ...]) -> list[Statement]:
    """The two statements EC2 Auto Scaling's guide requires for a customer-managed EBS key
    (docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html)."""
    principals = (("AWS", roles),)
    return [
        Statement(sid="RolesUseKey", actions=_USE_KEY, principals=principals),
        Statement(sid="RolesAttachPersistentResources", actions=("kms:CreateGrant",), principals=principals,
                  conditions=(Condition("Bool", "kms:GrantIsForAWSResource", ("true",)),)),
    ]
