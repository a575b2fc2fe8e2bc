"""AWS names eksml derives from the environment, checked as derived, and tags against AWS's limits.

The names come from `eksml.contract.names`, the functions the modules create resources with: a name
that passes here is the name Terraform will send. Nothing is cut to fit (two roles cut to the same
64 characters would collide), so a name that would need cutting is refused instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.config.components import ROLE_SUFFIXES
from eksml.config.models import Environment
from eksml.config.rule_base import Finding, needs
from eksml.contract.names import (
    ARTIFACTS_BUCKET,
    INTERRUPTION_EVENTS,
    bucket_name,
    database_identifier,
    interruption_rule_name,
    karpenter_queue_name,
    role_name,
)

# AWS allows 50 tags per resource; eksml adds up to 10 of its own (Name, eksml.io/*, kubernetes.io/*, karpenter.sh/*).
MAX_USER_TAGS = 40

_S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_TAG_PUNCTUATION = set(" _.:/=+-@")


def s3_bucket_problem(name: str) -> str | None:
    """S3 general purpose bucket naming rules
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters; S3 allows 3 to 63"
    if not re.match(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$", name) or ".." in name:
        return "may hold only lowercase letters, digits, '.' and '-', start and end with a letter or digit, no '..'"
    if re.match(r"^\d+\.\d+\.\d+\.\d+$", name):
        return "looks like an IP address, which S3 refuses"
    prefix = next((p for p in _S3_RESERVED_PREFIXES if name.startswith(p)), None)
    if prefix:
        return f"starts with '{prefix}', a prefix S3 reserves"
    suffix = next((s for s in _S3_RESERVED_SUFFIXES if name.endswith(s)), None)
    if suffix:
        return f"ends with '{suffix}', a suffix S3 reserves"
    return None


def rds_identifier_problem(name: str) -> str | None:
    """RDS DB instance identifiers (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.Constraints)."""
    if len(name) > 63:
        return f"is {len(name)} characters; RDS allows at most 63"
    if not name[:1].isalpha() or not name.isascii():
        return "must start with a letter (RDS)"
    if "--" in name or name.endswith("-"):
        return "must not hold two hyphens in a row or end with one (RDS)"
    return None


@needs("cluster", "storage", "node_pools", "state", "backups")
def derived_names_fit_aws(env: Environment, _: Catalog) -> Iterator[Finding]:
    cluster = env.cluster.name
    for index, item in enumerate(env.bucket_items):
        name = bucket_name(cluster, item)
        problem = s3_bucket_problem(name)
        if problem:
            where = f"storage.buckets[{index}]" if index < len(env.storage.buckets) else "backups"
            yield where, f"bucket name '{name}' (cluster.name-item) {problem}"
    problem = s3_bucket_problem(env.state.bucket)
    if problem:
        yield "state.bucket", f"'{env.state.bucket}' {problem}"
    identifier = database_identifier(cluster)
    problem = rds_identifier_problem(identifier)
    if problem:
        yield "cluster.name", f"the MLflow database identifier '{identifier}' {problem}; rename the cluster"
    # IAM quotas (role names), EventBridge PutRule (rule names), SQS CreateQueue (queue names).
    limits = (
        ("IAM role", max((role_name(cluster, suffix) for suffix in ROLE_SUFFIXES), key=len), 64),
        ("EventBridge rule", max((interruption_rule_name(cluster, e.key) for e in INTERRUPTION_EVENTS), key=len), 64),
        ("SQS queue", karpenter_queue_name(cluster), 80),
    )
    for service, longest, limit in limits:
        if len(longest) > limit:
            room = limit - (len(longest) - len(cluster))
            yield (
                "cluster.name",
                f"'{cluster}' ({len(cluster)} characters) makes the {service} name '{longest}' {len(longest)} characters; "
                f"AWS allows {limit}: shorten cluster.name to at most {room} characters",
            )
    if len(env.storage.buckets) != len(set(env.storage.buckets)):
        yield "storage.buckets", "bucket items must be unique"
    if ARTIFACTS_BUCKET not in env.storage.buckets:
        yield "storage.buckets", f"the platform needs an '{ARTIFACTS_BUCKET}' bucket (MLflow, Argo and KServe use it)"


@needs("tags")
def tags_fit_aws(env: Environment, _: Catalog) -> Iterator[Finding]:
    """Tag limits (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions)."""
    if len(env.tags) > MAX_USER_TAGS:
        yield "tags", (f"{len(env.tags)} tags; AWS allows 50 per resource and eksml adds up to "
                       f"{50 - MAX_USER_TAGS} of its own, so at most {MAX_USER_TAGS}")
    for key, value in env.tags.items():
        path = f"tags.{key[:40]}"
        if not key or len(key) > 128:
            yield path, f"a tag key must be 1 to 128 characters, this one is {len(key)}"
        if key.lower().startswith("aws:"):
            yield path, "tag keys starting with 'aws:' are reserved for AWS; choose another prefix"
        if len(value) > 256:
            yield path, f"a tag value may be at most 256 characters, this one is {len(value)}"
        for text, what in ((key, "key"), (value, "value")):
            bad = next((ch for ch in text if not _tag_character(ch)), None)
            if bad is not None:
                yield path, (f"the tag {what} holds {bad!r}; AWS allows letters, digits, spaces and _ . : / = + - @")
                break


def _tag_character(ch: str) -> bool:
    return ch in _TAG_PUNCTUATION or unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "Zs"


RULES = (derived_names_fit_aws, tags_fit_aws)
