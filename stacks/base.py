"""What every stack shares: the AWS provider, its own S3 state, and the account/partition lookup."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import S3Backend, S3BackendEndpointConfig, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from eksml.config.models import Environment
from eksml.contract.names import Output, StackName, resource_tags
from eksml.emulator.target import ACCESS_KEY_ID, SECRET_ACCESS_KEY, AwsTarget
from modules.aws_context import AwsArns, AwsContext


@dataclass(frozen=True)
class StackSettings:
    environment: str
    region: str
    tags: tuple[tuple[str, str], ...]
    account_id: str | None
    state_bucket: str
    state_key_prefix: str
    target: AwsTarget

    @classmethod
    def from_environment(cls, env: Environment, target: AwsTarget) -> "StackSettings":
        return cls(
            environment=env.name,
            region=env.region,
            tags=tuple(resource_tags(env.name, env.tags).items()),
            account_id=env.account_id,
            state_bucket=env.state.bucket,
            state_key_prefix=env.state.key_prefix.rstrip("/"),
            target=target,
        )


class EnvironmentStack(TerraformStack):
    """A stack with its own state file (`<key_prefix>/<stack>.tfstate`, S3-native locking).

    Against the emulator, the backend (and so the remote-state lookups cdktf generates for
    cross-stack references, which copy the backend settings) names it; the provider reaches it
    through AWS_ENDPOINT_URL in the environment of every terraform run (`aws_environment`).
    """

    def __init__(self, scope: Construct, name: StackName, settings: StackSettings) -> None:
        super().__init__(scope, str(name))
        target = settings.target
        emulated = target.emulated
        AwsProvider(
            self, "aws",
            region=settings.region,
            default_tags=[AwsProviderDefaultTags(tags=dict(settings.tags))],
            # The emulator has its own account; only the real one is pinned.
            allowed_account_ids=[settings.account_id] if settings.account_id and not emulated else None,
            **(_emulator_provider_settings() if emulated else {}),
        )
        S3Backend(
            self,
            bucket=settings.state_bucket,
            key=f"{settings.state_key_prefix}/{name}.tfstate",
            region=settings.region,
            encrypt=True,
            **(_emulator_backend_settings(target.endpoint_url) if emulated else {}),
        )
        # S3-native state locking (Terraform >= 1.10); cdktf 0.21 has no typed field for it yet.
        self.add_override("terraform.backend.s3.use_lockfile", True)
        self.aws: AwsArns = AwsContext(self, "aws-context", settings.region).arns

    def output(self, name: Output, value, description: str) -> None:
        TerraformOutput(self, str(name), value=value, description=description)


def _emulator_provider_settings() -> dict:
    """No `endpoints` block: the provider validates one (any one, even of a single service) for
    about 3 CPU-seconds at each of its starts, half of what a plan costs; AWS_ENDPOINT_URL, which
    every emulator run sets, sends all services to the emulator for free. The fixed test credentials
    keep the config from ever acting on a real account, with or without that variable."""
    return {
        "access_key": ACCESS_KEY_ID,
        "secret_key": SECRET_ACCESS_KEY,
        "skip_credentials_validation": True,
        "skip_metadata_api_check": "true",
        "skip_region_validation": True,
        "s3_use_path_style": True,
    }


def _emulator_backend_settings(url: str) -> dict:
    return {
        "endpoints": S3BackendEndpointConfig(s3=url, sts=url, iam=url),
        "use_path_style": True,
        "skip_credentials_validation": True,
        "skip_region_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "skip_s3_checksum": True,
        "access_key": ACCESS_KEY_ID,
        "secret_key": SECRET_ACCESS_KEY,
    }
