"""The S3 bucket that holds Terraform state: created once per environment, before any stack runs.

Terraform's S3 backend cannot create its own bucket. Versioning keeps every earlier state (a bad
apply can be rolled back by restoring an object version), encryption at rest because state holds
secrets, and no public access ever. Locking needs no table: `use_lockfile` writes a .tflock object
with a conditional PUT (If-None-Match), which S3 (and moto 5.2.5) refuse when the object exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from eksml.config.models import Environment
from eksml.errors import StageError


@dataclass(frozen=True)
class StateBucket:
    name: str
    region: str
    created: bool  # False: it existed already (settings were still enforced)


def ensure_state_bucket(env: Environment, endpoint_url: str | None = None, *, session=None) -> StateBucket:
    """Create the state bucket if missing and enforce versioning, encryption and the public access block."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    name = env.state.bucket
    session = session or boto3.session.Session()
    s3 = session.client("s3", region_name=env.region, endpoint_url=endpoint_url)
    step = "checking"
    try:
        created = False
        try:
            s3.head_bucket(Bucket=name, **_owner(env))
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 403:
                raise StageError(
                    "state", f"the state bucket '{name}' exists but belongs to another account or is not readable",
                    hint="choose another state.bucket in the environment file or use credentials of its account",
                ) from exc
            if status != 404:
                raise
            step = "creating"
            _create_bucket(s3, env)
            created = True
        step = "configuring"
        _enforce_settings(s3, env)
    except NoCredentialsError as exc:
        raise StageError(
            "state", f"no AWS credentials to create the state bucket '{name}'",
            hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the environment's account",
        ) from exc
    except (ClientError, BotoCoreError) as exc:
        raise StageError("state", f"{step} the state bucket '{name}' failed: {exc}") from exc
    return StateBucket(name=name, region=env.region, created=created)


def _create_bucket(s3, env: Environment) -> None:
    from botocore.exceptions import ClientError

    name = env.state.bucket
    arguments: dict = {"Bucket": name}
    if env.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": env.region}
    try:
        s3.create_bucket(**arguments)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyExists":
            raise
        raise StageError(
            "state", f"the state bucket name '{name}' is taken by another AWS account",
            hint="bucket names are global: choose another state.bucket in the environment file",
        ) from exc


# The AWS-managed aws/s3 key: encrypted with an auditable KMS key, nothing to manage.
_ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]}
_PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
}


def _enforce_settings(s3, env: Environment) -> None:
    """Versioning, encryption, the public access block and the tags, on every run (drift is repaired)."""
    name = env.state.bucket
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=_ENCRYPTION)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=_PUBLIC_ACCESS_BLOCK)
    tags = {**env.tags, "eksml:purpose": "terraform-state"}
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


def _owner(env: Environment) -> dict:
    # With a known account, S3 answers 403 for a same-named bucket of someone else instead of using it.
    return {"ExpectedBucketOwner": env.account_id} if env.account_id else {}


def require_state_bucket(env: Environment, endpoint_url: str | None = None, *, session=None) -> None:
    """For reading commands (plan, status): the bucket must exist; they never create or change it."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    name = env.state.bucket
    s3 = (session or boto3.session.Session()).client("s3", region_name=env.region, endpoint_url=endpoint_url)
    try:
        s3.head_bucket(Bucket=name, **_owner(env))
        return
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise StageError("state", f"checking the state bucket '{name}' failed: {exc}") from exc
    except NoCredentialsError as exc:
        raise StageError("state", f"no AWS credentials to read the state bucket '{name}'",
                         hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") from exc
    except BotoCoreError as exc:
        raise StageError("state", f"checking the state bucket '{name}' failed: {exc}") from exc
    raise StageError(
        "state", f"environment '{env.name}' is not deployed: its state bucket '{name}' does not exist, so there is "
        "nothing to compare (nothing was created)",
        hint=f"eksml plan {env.name} --emulator shows what a first deploy creates; eksml deploy {env.name} creates it",
    )
