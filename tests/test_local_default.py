"""The local default end to end, through the real `eksml` command as `make deploy` runs it, with a
real Terraform and the real AWS provider against the moto server.

One sequence, in order (each step needs the one before):
1. a deploy interrupted with SIGTERM in the middle of a Terraform apply stops cleanly (exit != 0,
   state not corrupt, the emulator's state kept);
2. a second deploy started while the next one runs fails fast on the run lock, naming the holder;
3. the next deploy converges: every stack applied, Kubernetes layer rendered, summary printed;
4. what it created is checked with boto3, in a new emulator process restored from the saved state;
5. another deploy changes nothing, and the run record has every stack applied;
6. destroy leaves nothing of the platform behind: only the state bucket, as in a real account.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eksml.outputs import irsa_service_accounts
from eksml.config import load_environment
from eksml.config.network import plan_subnets
from eksml.emulator.process import Emulator
from eksml.contract.names import role_name
from eksml.contract.outputs import AwsOutputs
from eksml.contract.names import STACK_NAMES
from eksml.workspace import HISTORY_FILE
from eksml.emulator.deviations import NOT_EMULATED


pytestmark = pytest.mark.emulator

COMMAND = [sys.executable, "-m", "eksml"]
ENV_TAG = "eksml.io/environment"
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}
ENV = load_environment("local")
SERVICE_ACCOUNTS = irsa_service_accounts(ENV)  # of the components local installs


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> dict[str, str]:
    return dict(os.environ, EKSML_WORK_DIR=str(tmp_path_factory.mktemp("work")), CI="true")


def _local_dir(work) -> Path:
    return Path(work["EKSML_WORK_DIR"]) / "local"


def _emulator(work) -> Emulator:
    """A new emulator process on the state the deploys left (what the next `eksml` run would see)."""
    return Emulator(state_dir=_local_dir(work) / "emulator", region=ENV.region)


def _run(environ, *args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], env=environ, capture_output=True, text=True, timeout=timeout)


def _wait_for(process: subprocess.Popen, needle: str, lines: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return
    raise AssertionError(f"never saw {needle!r}; output:\n{''.join(lines)}")


def _tagged_vpcs(emulator: Emulator) -> list[dict]:
    return emulator.client("ec2").describe_vpcs(Filters=[{"Name": f"tag:{ENV_TAG}", "Values": [ENV.name]}])["Vpcs"]


# -- 1-3: interrupted, locked out, converged ----------------------------------------------------------


@pytest.fixture(scope="module")
def interrupted(work):
    """Start a deploy and SIGTERM it while the cluster (and, beside it, the data) stack is applied."""
    process = subprocess.Popen([*COMMAND, "deploy", "local"], env=work, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    _wait_for(process, "apply cluster: started", lines, timeout=300)
    time.sleep(3)  # terraform is now creating resources
    process.send_signal(signal.SIGTERM)
    rest_out, rest_err = process.communicate(timeout=300)
    return process.returncode, "".join(lines) + rest_err


@pytest.fixture(scope="module")
def converged(work, interrupted):
    """The next deploy, with a concurrent one started against the lock while it runs."""
    process = subprocess.Popen([*COMMAND, "deploy", "local"], env=work, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    _wait_for(process, "synth", lines, timeout=120)
    started = time.monotonic()
    competitor = _run(work, "deploy", "local", timeout=120)
    competitor_seconds = time.monotonic() - started
    out, err = process.communicate(timeout=900)
    return process.returncode, out, "".join(lines) + err, competitor, competitor_seconds


def test_interrupted_deploy_stops_cleanly(interrupted, work):
    code, output = interrupted
    assert code != 0
    assert "interrupted" in output
    assert "✓ apply network" in output
    assert (_local_dir(work) / "emulator").is_dir()


def test_concurrent_deploy_fails_fast_naming_the_holder(converged):
    _, _, _, competitor, seconds = converged
    assert competitor.returncode == 1
    assert "another run holds" in competitor.stderr and "deploy local by pid" in competitor.stderr
    assert seconds < 15


def test_next_deploy_converges_and_says_what_the_user_got(converged, work):
    code, out, err, _, _ = converged
    assert code == 0, err[-3000:]
    for stack in STACK_NAMES:
        assert f"apply {stack}" in err or f"plan {stack}" in err
    assert "Platform 'local' is deployed on the local AWS emulator" in out
    assert f"not emulated {', '.join(NOT_EMULATED)}" in out
    render = _local_dir(work) / "render"
    assert (render / "README.md").is_file() and list(render.glob("*.values.yaml"))
    assert "stage" in err and "total" in err  # the summary table


# -- 4: what the deploy created, seen by a new emulator process ---------------------------------------


@pytest.fixture(scope="module")
def deployed(converged, work):
    """(outputs the deploy saved, the emulator restored from its state); stopped by `second_deploy`."""
    assert converged[0] == 0, "the deploy did not converge"
    emulator = _emulator(work).start()
    try:
        yield AwsOutputs.load(_local_dir(work) / "outputs.json"), emulator
    finally:
        emulator.stop()


def test_saved_outputs_describe_what_was_created(deployed):
    outputs, emulator = deployed
    assert not outputs.predicted
    assert outputs.cluster_name == ENV.cluster.name and outputs.account_id == "123456789012"
    assert set(outputs.irsa_role_arns) == set(SERVICE_ACCOUNTS)
    assert set(outputs.bucket_names) == set(ENV.bucket_items) == {"artifacts", "datasets", "logs"}
    [vpc] = _tagged_vpcs(emulator)
    assert vpc["VpcId"] == outputs.vpc_id  # the same IDs in a new process


def test_network(deployed):
    _, emulator = deployed
    [vpc] = _tagged_vpcs(emulator)
    assert vpc["CidrBlock"] == ENV.network.vpc_cidr
    subnets = emulator.client("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    expected = plan_subnets(ENV.network, len(ENV.availability_zones))
    assert {s["CidrBlock"] for s in subnets} >= set(expected.private) | set(expected.public)
    assert {s["AvailabilityZone"] for s in subnets} == set(ENV.availability_zones)


def test_cluster_and_node_groups(deployed):
    _, emulator = deployed
    eks = emulator.client("eks")
    cluster = eks.describe_cluster(name=ENV.cluster.name)["cluster"]
    assert cluster["version"] == ENV.cluster.kubernetes_version and cluster["status"] == "ACTIVE"
    assert set(eks.list_nodegroups(clusterName=ENV.cluster.name)["nodegroups"]) == set(ENV.node_pools)
    for name, pool in ENV.node_pools.items():
        group = eks.describe_nodegroup(clusterName=ENV.cluster.name, nodegroupName=name)["nodegroup"]
        assert group["labels"].items() >= pool.labels.items(), name
        assert group["scalingConfig"] == {
            "minSize": pool.min_size, "maxSize": pool.max_size, "desiredSize": pool.desired_size}, name
        assert group["amiType"] == pool.resolved_ami_type, name
        assert group["capacityType"] == pool.capacity_type, name
        taints = {(t["key"], t.get("value"), t["effect"]) for t in group.get("taints", [])}
        assert taints == {(t.key, t.value, TAINT_EFFECTS[t.effect]) for t in pool.taints}, name


def test_oidc_provider_and_irsa_roles(deployed):
    outputs, emulator = deployed
    iam = emulator.client("iam")
    providers = {p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]}
    assert outputs.oidc_provider_arn in providers
    for key, (namespace, service_account) in SERVICE_ACCOUNTS.items():
        role = iam.get_role(RoleName=role_name(ENV.cluster.name, key))["Role"]
        assert outputs.irsa_role_arns[key] == role["Arn"]
        trust = json.dumps(role["AssumeRolePolicyDocument"])
        assert f"system:serviceaccount:{namespace}:{service_account}" in trust, key
        assert outputs.oidc_provider_arn in trust, key


def test_buckets_are_versioned_encrypted_and_private(deployed):
    _, emulator = deployed
    s3 = emulator.client("s3")
    for item in ENV.storage.buckets:
        bucket = ENV.bucket_name(item)
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled", bucket
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", bucket
        assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()), bucket
    rules = s3.get_bucket_lifecycle_configuration(Bucket=ENV.bucket_name("logs"))["Rules"]
    assert any(rule.get("Expiration", {}).get("Days") == ENV.storage.log_retention_days for rule in rules)


def test_efs_and_database_are_encrypted_and_open_only_to_the_cluster(deployed):
    outputs, emulator = deployed
    [filesystem] = emulator.client("efs").describe_file_systems(FileSystemId=outputs.efs_file_system_id)["FileSystems"]
    assert filesystem["Encrypted"]
    [db] = emulator.client("rds").describe_db_instances()["DBInstances"]
    assert db["DBInstanceClass"] == ENV.storage.mlflow_db.instance_class
    assert db["Engine"] == "postgres" and db["AllocatedStorage"] == ENV.storage.mlflow_db.allocated_storage_gb
    assert db["StorageEncrypted"] and db["Endpoint"]["Address"] == outputs.db_endpoint
    ec2 = emulator.client("ec2")
    [cluster_group] = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [outputs.vpc_id]}, {"Name": "tag:karpenter.sh/discovery", "Values": [ENV.cluster.name]},
    ])["SecurityGroups"]
    for store, port in ((f"{ENV.cluster.name}-efs", 2049), (f"{ENV.cluster.name}-mlflow-db", 5432)):
        [group] = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [store]}])["SecurityGroups"]
        assert [(p["FromPort"], [pair["GroupId"] for pair in p["UserIdGroupPairs"]], p["IpRanges"])
                for p in group["IpPermissions"]] == [(port, [cluster_group["GroupId"]], [])], store


def test_karpenter_queue_receives_interruption_events(deployed):
    outputs, emulator = deployed
    queue_url = emulator.client("sqs").get_queue_url(QueueName=outputs.karpenter_interruption_queue_name)["QueueUrl"]
    policy = json.loads(emulator.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"EventsDeliverInterruptions", "DenyInsecureTransport"}
    events = emulator.client("events")
    rules = [r["Name"] for r in events.list_rules(NamePrefix=f"{ENV.cluster.name}-karpenter")["Rules"]]
    assert len(rules) == 4
    for rule in rules:
        [target] = events.list_targets_by_rule(Rule=rule)["Targets"]
        assert target["Arn"].endswith(f":{outputs.karpenter_interruption_queue_name}")


# -- 5-6: a second deploy, then destroy ---------------------------------------------------------------


@pytest.fixture(scope="module")
def second_deploy(deployed, work):
    deployed[1].stop()  # one emulator per environment at a time: the deploy starts its own
    return _run(work, "deploy", "local")


def test_second_deploy_changes_nothing(second_deploy):
    assert second_deploy.returncode == 0, second_deploy.stderr[-3000:]
    assert "changed      nothing: every stack was already up to date" in second_deploy.stdout
    for stack in STACK_NAMES:
        assert f"plan {stack}: no changes" in second_deploy.stderr or f"apply {stack}: no changes" in second_deploy.stderr
    assert "synth: ok" in second_deploy.stderr and "reused" in second_deploy.stderr  # nothing it is made of changed


def test_the_run_record_has_every_stack_applied(second_deploy, work):
    """What `eksml status` shows as "last applied" (its drift is the plan the deploy above just made:
    tests/test_cdktf_cli.py runs the command itself on a state it did not write)."""
    history = json.loads((_local_dir(work) / HISTORY_FILE).read_text())
    assert set(history) == set(STACK_NAMES)
    assert all(entry["last_applied"] and entry["last_change"] for entry in history.values()), history


def test_destroy_leaves_nothing_but_the_state_bucket(second_deploy, work):
    result = _run(work, "destroy", "local")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (_local_dir(work) / "outputs.json").exists()
    with _emulator(work) as emulator:
        assert _tagged_vpcs(emulator) == []
        assert emulator.client("eks").list_clusters()["clusters"] == []
        assert [b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]] == [ENV.state.bucket]
        iam = emulator.client("iam")
        assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(ENV.cluster.name)]
        assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
        assert emulator.client("rds").describe_db_instances()["DBInstances"] == []
        assert emulator.client("efs").describe_file_systems()["FileSystems"] == []
        assert "QueueUrls" not in emulator.client("sqs").list_queues()
        kms = emulator.client("kms")
        # AWS-managed keys (alias/aws/ebs, alias/aws/s3 ...) are created by the services themselves.
        managed = {a["TargetKeyId"] for a in kms.list_aliases()["Aliases"]
                   if a["AliasName"].startswith("alias/aws/") and "TargetKeyId" in a}
        ours = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]
                if k["KeyId"] not in managed]
        assert ours and {key["KeyState"] for key in ours} == {"PendingDeletion"}
