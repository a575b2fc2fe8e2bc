"""Where AWS calls go, and the credentials that keep emulator runs away from real accounts.

The stacks import it to point the provider and the backend at the emulator; the CLI and the CDKTF
app check an endpoint URL with it before anything runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from eksml.config.loader import printable

HOST = "127.0.0.1"
DEFAULT_EMULATOR_ENDPOINT = f"http://{HOST}:4566"

# The emulator accepts any credentials; fixed dummy ones keep real ones from ever being sent to it.
# moto maps this access key to its default account 123456789012.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"

# Variables that would send one service somewhere else than AWS_ENDPOINT_URL: the SDK's per-service
# URLs (AWS_ENDPOINT_URL_S3 ...), the provider's older per-service ones (AWS_STS_ENDPOINT,
# TF_AWS_IAM_ENDPOINT ...) and the switch that makes the SDK ignore configured URLs.
_ENDPOINT_OVERRIDE = re.compile(r"AWS_ENDPOINT_URL_\w+|(TF_)?AWS_\w+_ENDPOINT|AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


def endpoint_problem(value: str, example: str) -> str | None:
    """What is wrong with `value` as an emulator URL (http(s), a host, a port in range), or None."""
    shown = printable(value)[:200]
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return f"'{shown}' is not a URL ({exc}); expected e.g. {example}"
    problems = []
    if parts.scheme not in ("http", "https"):
        problems.append("it must start with http:// or https://")
    if not parts.hostname:
        problems.append("it names no host")
    if any(not ch.isprintable() or ch.isspace() for ch in value):
        problems.append("it holds spaces or control characters")
    if port == 0:
        problems.append("port 0 is not a port")
    if problems:
        return f"'{shown}' is not a URL eksml can point at: {'; '.join(problems)}; expected e.g. {example}"
    return None


@dataclass(frozen=True)
class AwsTarget:
    """Where AWS API calls go: None is real AWS; a URL is the moto emulator (e.g. http://127.0.0.1:PORT)."""

    endpoint_url: str | None = None

    @property
    def emulated(self) -> bool:
        return self.endpoint_url is not None

    @property
    def flavour(self) -> str:
        """Names the working directories of this kind of target (they never share backend settings)."""
        return "emulator" if self.emulated else "aws"

    def process_environment(self, region: str) -> dict[str, str | None]:
        """Variables for terraform run against this target: none for AWS (the user's own apply)."""
        return aws_environment(self.endpoint_url, region) if self.endpoint_url else {}


def aws_environment(endpoint_url: str, region: str) -> dict[str, str | None]:
    """Environment for a process (terraform, boto3) that must talk to the emulator and nothing else.

    AWS_ENDPOINT_URL is what sends every AWS provider call to the emulator: the synthesized provider
    block names no endpoints (see stacks/base.py). None means "remove": a real profile, a session
    token or a per-service endpoint variable of the user must not leak into emulator runs.
    """
    return {
        **{name: None for name in os.environ if _ENDPOINT_OVERRIDE.fullmatch(name)},
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": None,
        "AWS_SECURITY_TOKEN": None,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def apply_environment(base: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    """`base` with `changes` applied; a None value removes the variable."""
    merged = dict(base)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def emulator_session(region: str | None = None):
    """A boto3 session with the emulator's credentials (never the user's real ones)."""
    import boto3

    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY, region_name=region
    )
