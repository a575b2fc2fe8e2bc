"""Rules checked against AWS facts in the catalog: tiers, Kubernetes and AMI versions, the MLflow database,
log retention. Each message names the allowed values; the catalog file names the AWS page they come from."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.catalog.aws_facts import load_aws_facts
from eksml.config.models import TIER_ORDER, Environment, Tier
from eksml.config.rule_base import Finding, needs

_AMI_RELEASE = re.compile(r"^(\d+)\.(\d+)\.(\d+)-(\d{8})$")
_ENGINE_VERSION = re.compile(r"^(\d+)(\.\d+)?$")


@needs("name", "tier")
def tier_is_known(env: Environment, _: Catalog) -> Iterator[Finding]:
    if env.tier is None and env.name not in Tier.__members__:
        yield "tier", f"cannot derive the tier from name '{env.name}'; set tier to one of: local, dev, staging, prod"


@needs("name", "tier")
def tier_not_lowered(env: Environment, _: Catalog) -> Iterator[Finding]:
    """staging.yaml and prod.yaml keep their tier: the destroy guard and the endpoint rule key on it."""
    if env.name not in (Tier.staging.value, Tier.prod.value) or env.tier is None:
        return
    if TIER_ORDER.index(env.tier) < TIER_ORDER.index(Tier(env.name)):
        yield (
            "tier",
            f"'{env.name}' cannot lower its tier to {env.tier.value}: a file named {env.name} is tier {env.name} "
            f"(its destroy/replace protection and endpoint rules depend on it); remove tier or set tier: {env.name}",
        )


@needs("cluster")
def kubernetes_version_supported(env: Environment, _: Catalog) -> Iterator[Finding]:
    minors = load_aws_facts().kubernetes_minors
    if env.cluster.kubernetes_version not in minors:
        yield (
            "cluster.kubernetes_version",
            f"'{env.cluster.kubernetes_version}' has no EKS-optimized AL2023 NVIDIA AMI; allowed: {', '.join(minors)}",
        )


@needs("cluster")
def ami_release_matches_kubernetes(env: Environment, _: Catalog) -> Iterator[Finding]:
    release = env.cluster.ami_release_version
    if release is None:
        return
    path = "cluster.ami_release_version"
    minor = env.cluster.kubernetes_version
    match = _AMI_RELEASE.match(release)
    if not match:
        yield path, (f"'{release[:60]}' is not an EKS AMI release version: <kubernetes version>-<build date YYYYMMDD>, "
                     f"e.g. {minor}.5-20260714; remove the field to use the latest release")
        return
    if f"{match.group(1)}.{match.group(2)}" != minor:
        yield path, f"'{release}' is a release for Kubernetes {match.group(1)}.{match.group(2)}, but cluster.kubernetes_version is {minor}"
    try:
        datetime.datetime.strptime(match.group(4), "%Y%m%d")
    except ValueError:
        yield path, f"'{release}' ends in '{match.group(4)}', which is not a build date (YYYYMMDD)"


@needs("storage")
def mlflow_database_exists(env: Environment, _: Catalog) -> Iterator[Finding]:
    facts = load_aws_facts()
    db = env.storage.mlflow_db
    base = "storage.mlflow_db"
    match = _ENGINE_VERSION.match(db.engine_version)
    if not match or match.group(1) not in facts.rds_engine_majors:
        yield f"{base}.engine_version", (f"'{db.engine_version[:40]}' is not an RDS for PostgreSQL version in standard support; "
                                         f"use a major ({', '.join(facts.rds_engine_majors)}) or major.minor (e.g. 16.4)")
    if db.instance_class not in facts.rds_instance_classes:
        families = sorted({c.rsplit(".", 1)[0] for c in facts.rds_instance_classes})
        yield f"{base}.instance_class", (f"'{db.instance_class}' is not an RDS for PostgreSQL instance class MLflow may use; "
                                         f"families: {', '.join(families)} (e.g. db.t4g.medium, db.r6g.large)")


@needs("storage")
def log_retention_bounded(env: Environment, _: Catalog) -> Iterator[Finding]:
    longest = max(load_aws_facts().log_retention_days)
    if env.storage.log_retention_days > longest:
        yield "storage.log_retention_days", (
            f"{env.storage.log_retention_days} days is more than {longest} days (10 years), the longest retention "
            "CloudWatch Logs offers and the longest eksml keeps the logs bucket"
        )


RULES = (tier_is_known, tier_not_lowered, kubernetes_version_supported, ami_release_matches_kubernetes,
         mlflow_database_exists, log_retention_bounded)
