"""Whole-file rules for the day-two sections: backups at prod, log retention CloudWatch accepts,
and a served model's autoscaling (scale-to-zero behind an ingress, GPU capacity for `max`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.catalog.aws_facts import load_aws_facts
from eksml.config.models import Environment, PoolKind, Tier
from eksml.config.models_operations import aws_backup_cron
from eksml.config.models_serving import ServedModel
from eksml.config.rule_base import Finding, needs


@needs("name", "tier", "backups")
def prod_has_backups(env: Environment, _: Catalog) -> Iterator[Finding]:
    try:
        tier = env.resolved_tier
    except ValueError:
        return  # tier_is_known reports it
    if tier is Tier.prod and env.backups is None:
        yield "backups", ("prod needs backups of its cluster state and volumes: add backups: "
                          "{schedule: \"0 3 * * *\", retention_days: 14} (a cron schedule and the days Velero keeps each backup)")


@needs("backups", "storage")
def efs_backups_can_follow_the_schedule(env: Environment, _: Catalog) -> Iterator[Finding]:
    """With EFS, AWS Backup runs the file system's plan on the same schedule as Velero."""
    if env.backups is None or not env.storage.efs:
        return
    try:
        aws_backup_cron(env.backups.schedule)
    except ValueError as problem:
        yield "backups.schedule", str(problem)


@needs("logs")
def log_retention_accepted(env: Environment, _: Catalog) -> Iterator[Finding]:
    days = env.logs.retention_days
    allowed = load_aws_facts().log_retention_days
    if days is not None and days not in allowed:
        yield "logs.retention_days", (f"{days} is not a retention CloudWatch Logs accepts; use one of: "
                                      f"{', '.join(str(d) for d in allowed)} (days)")


def _slots_per_replica_pool(env: Environment, catalog: Catalog, model: ServedModel) -> int | None:
    """How many replicas of the model the pool can hold at its max size; None when it has no ceiling."""
    pool = env.node_pools.get(model.pool)
    if pool is None:
        kpool = env.karpenter.node_pools.get(model.pool)
        return None if kpool is None or kpool.gpu_limit is None else kpool.gpu_limit
    per_node = max((it.gpu_count for name in pool.instance_types if (it := catalog.instance_type(name))), default=0)
    gpus = pool.max_size * per_node
    if pool.kind is PoolKind.gpu_time_slicing:
        return gpus * pool.time_slicing.replicas
    if pool.kind is PoolKind.gpu_mig:
        profile = model.mig_profile or pool.mig.layout[0]
        return gpus * pool.mig.layout.count(profile)
    return gpus


@needs("name", "serving", "access", "node_pools", "karpenter", "tier")
def autoscaling_fits(env: Environment, catalog: Catalog) -> Iterator[Finding]:
    try:
        prod = env.resolved_tier is Tier.prod
    except ValueError:
        return
    exposed = set(env.access.models) if env.access else set()
    wanted: dict[tuple[str, str | None], list[tuple[str, int]]] = defaultdict(list)
    for name, model in env.serving.models.items():
        scaling = model.autoscaling
        if scaling is None:
            continue
        path = f"serving.models.{name}.autoscaling"
        if prod and scaling.min == 0 and name in exposed:
            yield f"{path}.min", ("scale-to-zero is refused in prod for a model behind the ingress (access.models): "
                                  "the first request would wait minutes for a GPU node; set min to 1 or more")
        versions = 2 if model.canary is not None else 1
        wanted[(model.pool, model.mig_profile)].append((name, scaling.max * versions))
    for (pool, profile), asks in wanted.items():
        model = env.serving.models[asks[0][0]]
        slots = _slots_per_replica_pool(env, catalog, model)
        total = sum(count for _, count in asks)
        if slots is not None and total > slots:
            who = ", ".join(f"{name} ({count})" for name, count in asks)
            yield f"serving.models.{asks[-1][0]}.autoscaling.max", (
                f"pool '{pool}' holds at most {slots} replicas{f' of {profile}' if profile else ''} at its max size, "
                f"but autoscaling may ask for {total}: {who} (a canary counts twice); lower max or raise the pool's max_size")


RULES = (prod_has_backups, efs_backups_can_follow_the_schedule, log_retention_accepted, autoscaling_fits)
