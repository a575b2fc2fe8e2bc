"""Backups, logs and traces end to end: Velero's schedule, storage location and identity from the
environment file and the AWS layer's bucket and role; AWS Backup's EFS plan on the same schedule;
the OpenTelemetry collector's traces-only pipeline to X-Ray, reachable from the teams only."""

from __future__ import annotations

import pytest

from eksml.config import load_environment
from eksml.config.models_operations import aws_backup_cron
from eksml.contract.names import BACKUPS_BUCKET, FILESYSTEM_BACKUP_ROLE, role_name
from eksml.emulator.deviations import NOT_EMULATED
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


def test_the_collector_takes_otlp_and_sends_traces_to_xray_only(dev_render):
    import yaml

    from eksml.components.tracing import OTEL_COLLECTOR, OTLP_GRPC_PORT, OTLP_HTTP_PORT

    [component] = [c for c in dev_render.components if c.name == OTEL_COLLECTOR.name]
    [config_map] = [m for m in component.prerequisites if m["kind"] == "ConfigMap"]
    config = yaml.safe_load(config_map["data"]["relay"])
    assert set(config["receivers"]) == {"otlp"} and set(config["exporters"]) == {"awsxray"}
    assert set(config["service"]["pipelines"]) == {"traces"}
    [service] = [s for s in _chart_objects(dev_render, OTEL_COLLECTOR.name, "Service").values()
                 if s["spec"].get("type", "ClusterIP") == "ClusterIP" and "clusterIP" not in s["spec"]]
    assert {p["port"] for p in service["spec"]["ports"]} == {OTLP_GRPC_PORT, OTLP_HTTP_PORT}
    [deployment] = _chart_objects(dev_render, OTEL_COLLECTOR.name, "Deployment").values()
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert any(v.get("configMap", {}).get("name") == config_map["metadata"]["name"] for v in volumes)


def test_teams_reach_the_collector_and_the_platform_does_not(dev_render):
    from eksml.components.tracing import OTEL_COLLECTOR, OTLP_GRPC_PORT
    from eksml.k8s.checks.network_check import platform_of, policy_set, team_pod
    from eksml.k8s.checks.platform_checks import placed_components

    objects = placed_components(dev_render.components, dev_render.charts)
    namespaces = {r.name: r.component.namespace for r in dev_render.charts.releases}
    platform = platform_of(objects, namespaces, ["research"], [c.name for c in dev_render.components])
    policies = policy_set(objects, namespaces, "10.20.0.0/16")
    [collector] = [p for p in platform.pods if p.namespace == OTEL_COLLECTOR.namespace]
    assert policies.verdict(team_pod("research"), collector, OTLP_GRPC_PORT).allowed
    mlflow = next(p for p in platform.pods if p.namespace == "mlflow")
    assert not policies.verdict(mlflow, collector, OTLP_GRPC_PORT).allowed


def test_the_collector_may_only_put_traces(synthesized_environments):
    import json

    dev = synthesized_environments["dev"]
    [policy] = [p for p in dev.resources("platform", "aws_iam_role_policy").values() if p["name"] == "otel-collector"]
    [statement] = json.loads(policy["policy"])["Statement"]
    assert sorted(statement["Action"]) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]


@pytest.mark.parametrize(("velero", "aws_backup"), [
    ("0 3 * * *", "cron(0 3 * * ? *)"),
    ("30 2 * * 1-5", "cron(30 2 ? * 2-6 *)"),  # Velero counts weekdays from 0 (Sunday), AWS from SUN=1
    ("0 4 * * 0", "cron(0 4 ? * 1 *)"),
    ("0 4 * * SUN", "cron(0 4 ? * SUN *)"),
    ("0 */6 * * *", "cron(0 0/6 * * ? *)"),
    ("15 1 1 * *", "cron(15 1 1 * ? *)"),
])
def test_the_efs_plan_runs_on_velero_s_schedule_as_aws_backup_writes_it(velero, aws_backup):
    assert aws_backup_cron(velero) == aws_backup


@pytest.mark.parametrize(("schedule", "fragment"), [
    ("*/5 * * * *", "at most once an hour"),
    ("0 3 1 * 1", "not both"),
    ("0 3 * * */2", "without steps"),
])
def test_a_schedule_aws_backup_cannot_run_is_refused(schedule, fragment):
    with pytest.raises(ValueError, match=fragment):
        aws_backup_cron(schedule)


def test_the_data_stack_backs_efs_up_to_an_encrypted_vault_with_the_environments_retention(synthesized_environments):
    dev = synthesized_environments["dev"]
    [plan] = dev.resources("data", "aws_backup_plan").values()
    [rule] = plan["rule"]
    assert rule["schedule"] == aws_backup_cron(dev.env.backups.schedule)
    assert rule["lifecycle"]["delete_after"] == dev.env.backups.retention_days
    [vault] = dev.resources("data", "aws_backup_vault").values()
    assert rule["target_vault_name"].startswith("${aws_backup_vault.")
    assert vault["kms_key_arn"].startswith("${aws_kms_key.")
    [selection] = dev.resources("data", "aws_backup_selection").values()
    assert len(selection["resources"]) == 1 and selection["resources"][0].startswith("${aws_efs_file_system.")
    roles = [r["name"] for r in dev.resources("data", "aws_iam_role").values()]
    assert role_name(dev.env.cluster.name, FILESYSTEM_BACKUP_ROLE) in roles
    local = synthesized_environments["local"]  # no backups: no plan
    assert local.env.backups is None and not local.resources("data", "aws_backup_plan")


def test_the_emulator_variant_leaves_the_selection_out_and_says_so(synthesized_dev_on_emulator):
    assert "aws_backup_selection" in NOT_EMULATED
    assert synthesized_dev_on_emulator.resources("data", "aws_backup_plan")
    assert not synthesized_dev_on_emulator.resources("data", "aws_backup_selection")
