"""Backups and logs end to end: Velero's schedule, storage location and identity from the environment
file and the AWS layer's bucket and role; Fluent Bit's log group, owned by the AWS layer."""

from __future__ import annotations

import pytest

from eksml.config import load_environment
from eksml.contract.names import BACKUPS_BUCKET
from eksml.k8s.model.platform import build_platform
from eksml.outputs import predict_outputs


def _chart_objects(render, release, kind):
    [found] = [r for r in render.charts.releases if r.name == release]
    return {o.name: o.body for o in found.objects if o.kind == kind}


def test_velero_backs_up_on_the_environments_schedule_to_the_backup_bucket(dev_render):
    env = load_environment("dev")
    [schedule] = _chart_objects(dev_render, "velero", "Schedule").values()
    assert schedule["spec"]["schedule"] == env.backups.schedule
    assert schedule["spec"]["template"]["ttl"] == f"{env.backups.retention_days * 24}h0m0s"
    assert schedule["spec"]["template"]["snapshotVolumes"] is True
    [location] = _chart_objects(dev_render, "velero", "BackupStorageLocation").values()
    assert location["spec"]["objectStorage"]["bucket"] == env.bucket_name(BACKUPS_BUCKET)
    assert not _chart_objects(dev_render, "velero", "Secret")  # IRSA, never a static key
    account = _chart_objects(dev_render, "velero", "ServiceAccount")["velero-server"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith("-velero")


@pytest.mark.parametrize(("env_name", "installed"), [("local", False), ("dev", True), ("prod", True)])
def test_velero_and_its_bucket_exist_exactly_where_backups_are_set(env_name, installed):
    env = load_environment(env_name)
    assert (env.backups is not None) is installed
    assert (BACKUPS_BUCKET in env.bucket_items) is installed
    assert (BACKUPS_BUCKET in predict_outputs(env).bucket_names) is installed
    names = {c.name for c in build_platform(env, predict_outputs(env)).components}
    assert ("velero" in names) is installed


def test_the_backup_bucket_expires_a_week_after_velero_would(synthesized_environments):
    dev = synthesized_environments["dev"]
    buckets = {b["bucket"]: key for key, b in dev.resources("data", "aws_s3_bucket").items()}
    key = buckets[dev.env.bucket_name(BACKUPS_BUCKET)]
    [lifecycle] = [r for r in dev.resources("data", "aws_s3_bucket_lifecycle_configuration").values()
                   if key in r["bucket"]]
    days = [expiry["days"] for rule in lifecycle["rule"] for expiry in rule.get("expiration") or []]
    assert days == [dev.env.backups.retention_days + 7]


def test_velero_may_delete_only_the_snapshots_it_tagged(synthesized_environments):
    import json

    dev = synthesized_environments["dev"]
    [policy] = [p for p in dev.resources("platform", "aws_iam_role_policy").values() if p["name"] == "velero"]
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert statements["BackupsDeleteOwn"]["Condition"] == {"StringLike": {"ec2:ResourceTag/velero.io/backup": "*"}}
    assert all("aws_s3_bucketbuckets_backups" in r for r in [statements["BackupsObjects"]["Resource"]]
               for r in ([r] if isinstance(r, str) else r))
    local = synthesized_environments["local"]
    assert not [p for p in local.resources("platform", "aws_iam_role_policy").values() if p["name"] == "velero"]
