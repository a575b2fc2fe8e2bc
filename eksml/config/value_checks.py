"""Single-value checks used by the models: each raises ValueError with what is allowed, in words.

They run per list item, so pydantic reports the index of every bad item, not just the first.
"""

from __future__ import annotations

import re

_ARN = re.compile(r"^arn:(aws|aws-us-gov|aws-cn):iam::(\d{12}):(role|user)/([A-Za-z0-9_+=,.@/-]+)$")
_FAMILY = re.compile(r"^[a-z][a-z0-9-]*$")
# Semantic Versioning 2.0.0 (https://semver.org), with the optional leading "v" Helm accepts.
_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_UINT64_MAX = 2**64 - 1
# Hugging Face repository IDs (https://huggingface.co/docs/hub/repositories): [namespace/]name.
_MODEL_ID = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(/[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?$")


def admin_arn(arn: str) -> str:
    """EKS access entries take an IAM role or user ARN; no wildcards, no STS session ARNs."""
    if "*" in arn or "?" in arn:
        raise ValueError(f"'{arn}' holds a wildcard; a cluster admin must be one IAM role or user, named in full")
    if ":assumed-role/" in arn or arn.startswith("arn:aws:sts:"):
        raise ValueError(
            f"'{arn}' is an STS session; EKS access entries take the role itself "
            "(arn:aws:iam::<account>:role/<name>)"
        )
    match = _ARN.match(arn)
    if not match or len(match.group(4).rsplit("/", 1)[-1]) > 64:
        raise ValueError(
            f"'{arn}' is not an IAM role or user ARN: arn:aws:iam::<12-digit account>:role/<name> "
            "(name up to 64 letters, digits and +=,.@_-)"
        )
    return arn


def instance_family(family: str) -> str:
    if "." in family or not _FAMILY.match(family):
        raise ValueError(f"'{family}' is not an instance family: lowercase, without the size (e.g. g5, p4d, m5)")
    return family


def chart_version(version: str) -> str:
    """A chart version as Helm reads it: SemVer 2, optional leading v, each number fitting 64 bits."""
    match = _SEMVER.match(version)
    if not match or any(int(part) > _UINT64_MAX for part in match.groups()[:3]):
        raise ValueError(
            f"'{version}' is not a chart version Helm accepts: MAJOR.MINOR.PATCH in numbers without leading zeros, "
            "optionally with a leading v and a -prerelease or +build suffix (e.g. 1.16.0, v1.19.1, 1.0.0-rc.1)"
        )
    return version


DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def dns_label(value: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise ValueError(
            f"'{value}' is not a valid name: use lowercase letters, digits and '-', "
            "start and end with a letter or digit, at most 63 characters (DNS-1123 label)"
        )
    return value


def model_id(value: str) -> str:
    if not value.strip():
        raise ValueError("a model ID must not be empty or blank")
    if len(value) > 200 or not _MODEL_ID.match(value):
        raise ValueError(
            f"{value[:80]!r} is not a model ID: one line, no spaces, [organization/]name of letters, digits, "
            "'.', '_' and '-' (e.g. BAAI/bge-base-en-v1.5), at most 200 characters"
        )
    return value
