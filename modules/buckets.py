"""S3 buckets for artifacts, datasets and logs: private, versioned, KMS-encrypted, TLS only."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from eksml.config.models import Environment
from eksml.contract.names import BACKUPS_BUCKET
from modules.aws_context import AwsArns
from modules.iam_policy import PolicyDocument, deny_insecure_transport
from modules.kms import EncryptionKey, EncryptionKeyProps

LOGS_BUCKET = "logs"
# Old object versions are kept long enough to undo a bad overwrite or delete, then expire.
NONCURRENT_DAYS = {LOGS_BUCKET: 7, BACKUPS_BUCKET: 7}
# Velero deletes a backup when its TTL ends; the lifecycle is the backstop a week later.
BACKUP_EXPIRY_MARGIN_DAYS = 7
DEFAULT_NONCURRENT_DAYS = 90


@dataclass(frozen=True)
class BucketSpec:
    item: str  # the environment's name for it: artifacts, datasets, logs
    name: str
    noncurrent_days: int
    expire_after_days: int | None = None  # current objects too (the logs bucket)


@dataclass(frozen=True)
class BucketsProps:
    key_alias: str
    buckets: tuple[BucketSpec, ...]
    # Unprotected environments may be torn down with their data; protected ones never lose objects.
    force_destroy: bool
    aws: AwsArns

    @classmethod
    def from_environment(cls, env: Environment, *, aws: AwsArns) -> "BucketsProps":
        return cls(
            key_alias=f"{env.cluster.name}-s3",
            buckets=tuple(
                BucketSpec(
                    item=item,
                    name=env.bucket_name(item),
                    noncurrent_days=NONCURRENT_DAYS.get(item, DEFAULT_NONCURRENT_DAYS),
                    expire_after_days=_expiry_days(env, item),
                )
                for item in env.bucket_items
            ),
            force_destroy=not env.protected,
            aws=aws,
        )


def _expiry_days(env: Environment, item: str) -> int | None:
    if item == LOGS_BUCKET:
        return env.storage.log_retention_days
    if item == BACKUPS_BUCKET and env.backups is not None:
        return env.backups.retention_days + BACKUP_EXPIRY_MARGIN_DAYS
    return None


class Buckets(Construct):
    """Public access is blocked and ACLs are disabled; a bucket policy refuses plain HTTP.

    Lifecycle rules use an explicit empty filter and only expiry actions (no transitions): settings
    the S3 API returns exactly as sent, so the provider's stability wait (ten matching reads, about
    a minute) ends at its minimum instead of running into its 3-minute timeout.
    """

    def __init__(self, scope: Construct, construct_id: str, props: BucketsProps) -> None:
        super().__init__(scope, construct_id)
        self.key = EncryptionKey(
            self, "key",
            EncryptionKeyProps(alias=props.key_alias, description="S3 buckets of the ML platform",
                               account_root_arn=props.aws.account_root),
        )
        self.buckets: dict[str, S3Bucket] = {}
        for spec in props.buckets:
            self.buckets[spec.item] = self._bucket(spec, props.force_destroy)
        self.key_arn: str = self.key.key_arn
        self.bucket_names: dict[str, str] = {item: b.bucket for item, b in self.buckets.items()}
        self.bucket_arns: dict[str, str] = {item: b.arn for item, b in self.buckets.items()}

    def _bucket(self, spec: BucketSpec, force_destroy: bool) -> S3Bucket:
        """Owner-enforced, private, versioned, KMS-encrypted, TLS only, with its lifecycle."""
        bucket = S3Bucket(self, spec.item, bucket=spec.name, force_destroy=force_destroy)
        S3BucketOwnershipControls(
            self, f"{spec.item}-ownership", bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        block = S3BucketPublicAccessBlock(
            self, f"{spec.item}-public-access", bucket=bucket.id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
        )
        versioning = S3BucketVersioningA(
            self, f"{spec.item}-versioning", bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self, f"{spec.item}-encryption", bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=self.key.key_arn,
                    ),
                    bucket_key_enabled=True,  # one data key per bucket, not per object: fewer KMS calls
                )
            ],
        )
        S3BucketPolicy(
            self, f"{spec.item}-policy", bucket=bucket.id,
            policy=PolicyDocument(
                (deny_insecure_transport("DenyInsecureTransport", (bucket.arn, f"{bucket.arn}/*"), "s3:*"),)
            ).to_json(),
            depends_on=[block],  # a policy put before the block can race it
        )
        self._lifecycle(spec, bucket, versioning)
        return bucket

    def _lifecycle(self, spec: BucketSpec, bucket: S3Bucket, versioning: S3BucketVersioningA) -> None:
        S3BucketLifecycleConfiguration(
            self, f"{spec.item}-lifecycle", bucket=bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-old-data",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=(
                        [S3BucketLifecycleConfigurationRuleExpiration(days=spec.expire_after_days)]
                        if spec.expire_after_days is not None else None
                    ),
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=spec.noncurrent_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                )
            ],
            depends_on=[versioning],  # noncurrent-version rules need versioning in place
        )
