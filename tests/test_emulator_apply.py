"""A real `terraform apply` of the `local` environment against the moto server, checked with boto3.

One apply per session (module fixture): the emulator persists its state to a temporary folder, is
restarted (a new process on a new port) before the second plan, which must show no changes, and
finally everything is destroyed. The dev preview (stand-in outputs, nothing applied) runs in a thread
alongside the apply, which spends most of its time in provider waits.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from eksml.toolchain import prefer_supported_node

prefer_supported_node()

from eksml.aws_layer import OUTPUTS_FILE, RunResult, run_stacks  # noqa: E402
from eksml.config import load_environment  # noqa: E402
from eksml.config.models import Environment  # noqa: E402
from eksml.config.network import plan_subnets  # noqa: E402
from eksml.emulator import Emulator  # noqa: E402
from eksml.outputs import IRSA_SERVICE_ACCOUNTS, PlatformOutputs, role_name  # noqa: E402
from eksml.terraform import TerraformCli, prepare_terraform  # noqa: E402

pytestmark = pytest.mark.emulator

TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}
ENV_TAG = "eksml.io/environment"


@dataclass
class Deployment:
    env: Environment
    emulator: Emulator
    state_dir: Path
    work_root: Path
    terraform: TerraformCli
    applied: RunResult | None = None
    timings: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def terraform(tmp_path_factory) -> TerraformCli:
    return prepare_terraform(tmp_path_factory.mktemp("terraform"))


def _preview_dev(result: dict, terraform: TerraformCli) -> None:
    try:
        env = load_environment("dev")
        with Emulator(region=env.region) as emulator:
            result["run"] = run_stacks(env, "plan", emulator=emulator, preview=True, terraform=terraform,
                                       work_root=result["root"])
    except BaseException as exc:  # reported by the test that reads it
        result["error"] = exc


@pytest.fixture(scope="module")
def dev_preview(tmp_path_factory, terraform):
    result: dict = {"root": tmp_path_factory.mktemp("dev")}
    worker = threading.Thread(target=_preview_dev, args=(result, terraform), daemon=True)
    worker.start()
    yield worker, result
    worker.join()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, terraform, dev_preview):
    env = load_environment("local")
    root = tmp_path_factory.mktemp("local")
    emulator = Emulator(state_dir=root / "emulator", region=env.region).start()
    deployment = Deployment(env, emulator, root / "emulator", root / "work", terraform)
    try:
        begun = time.monotonic()
        deployment.applied = run_stacks(env, "apply", emulator=emulator, terraform=terraform, work_root=deployment.work_root)
        deployment.timings["apply"] = time.monotonic() - begun
        yield deployment
    finally:
        deployment.emulator.stop()
        print("\nemulator timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in deployment.timings.items()))


def _tagged_vpcs(emulator: Emulator, env_name: str) -> list[dict]:
    return emulator.client("ec2").describe_vpcs(Filters=[{"Name": f"tag:{ENV_TAG}", "Values": [env_name]}])["Vpcs"]


# -- what the apply created ------------------------------------------------------------------------


def test_apply_created_every_stack_and_saved_outputs(deployment):
    result = deployment.applied
    assert [s.name for s in result.stacks] == ["network", "cluster", "data", "platform"]
    assert all(s.applied is not None and s.applied.added > 0 for s in result.stacks)
    saved = PlatformOutputs.load(deployment.work_root / OUTPUTS_FILE)
    assert saved == result.outputs and not saved.predicted
    assert saved.cluster_name == "eksml-local" and saved.account_id == "123456789012"
    assert set(saved.irsa_role_arns) == set(IRSA_SERVICE_ACCOUNTS)
    assert set(saved.bucket_names) == {"artifacts", "datasets", "logs"}


def test_network(deployment):
    env, emulator = deployment.env, deployment.emulator
    [vpc] = _tagged_vpcs(emulator, env.name)
    assert vpc["CidrBlock"] == env.network.vpc_cidr
    assert vpc["VpcId"] == deployment.applied.outputs.vpc_id
    subnets = emulator.client("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    expected = plan_subnets(env.network, len(env.availability_zones))
    assert {s["CidrBlock"] for s in subnets} >= set(expected.private) | set(expected.public)
    assert {s["AvailabilityZone"] for s in subnets} == set(env.availability_zones)


def test_cluster_and_node_groups(deployment):
    env, eks = deployment.env, deployment.emulator.client("eks")
    cluster = eks.describe_cluster(name=env.cluster.name)["cluster"]
    assert cluster["version"] == env.cluster.kubernetes_version
    assert cluster["status"] == "ACTIVE"
    assert set(eks.list_nodegroups(clusterName=env.cluster.name)["nodegroups"]) == set(env.node_pools)
    for name, pool in env.node_pools.items():
        group = eks.describe_nodegroup(clusterName=env.cluster.name, nodegroupName=name)["nodegroup"]
        assert group["labels"].items() >= pool.labels.items(), name
        assert group["scalingConfig"] == {
            "minSize": pool.min_size, "maxSize": pool.max_size, "desiredSize": pool.desired_size}, name
        assert group["amiType"] == pool.resolved_ami_type, name
        assert group["capacityType"] == pool.capacity_type, name
        taints = {(t["key"], t.get("value"), t["effect"]) for t in group.get("taints", [])}
        assert taints == {(t.key, t.value, TAINT_EFFECTS[t.effect]) for t in pool.taints}, name


def test_oidc_provider_and_irsa_roles(deployment):
    env, iam = deployment.env, deployment.emulator.client("iam")
    outputs = deployment.applied.outputs
    providers = {p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]}
    assert outputs.oidc_provider_arn in providers
    for key, (namespace, service_account) in IRSA_SERVICE_ACCOUNTS.items():
        role = iam.get_role(RoleName=role_name(env, key))["Role"]
        assert outputs.irsa_role_arns[key] == role["Arn"]
        trust = json.dumps(role["AssumeRolePolicyDocument"])
        assert f"system:serviceaccount:{namespace}:{service_account}" in trust, key
        assert outputs.oidc_provider_arn in trust, key


def test_buckets_are_versioned_and_encrypted(deployment):
    env, s3 = deployment.env, deployment.emulator.client("s3")
    for item in env.storage.buckets:
        bucket = env.bucket_name(item)
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled", bucket
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", bucket
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()), bucket
    rules = s3.get_bucket_lifecycle_configuration(Bucket=env.bucket_name("logs"))["Rules"]
    assert any(rule.get("Expiration", {}).get("Days") == env.storage.log_retention_days for rule in rules)


def test_efs_database_and_queue(deployment):
    env, emulator, outputs = deployment.env, deployment.emulator, deployment.applied.outputs
    [filesystem] = emulator.client("efs").describe_file_systems(FileSystemId=outputs.efs_file_system_id)["FileSystems"]
    assert filesystem["Encrypted"]
    [db] = emulator.client("rds").describe_db_instances()["DBInstances"]
    assert db["DBInstanceClass"] == env.storage.mlflow_db.instance_class
    assert db["Engine"] == "postgres" and db["AllocatedStorage"] == env.storage.mlflow_db.allocated_storage_gb
    assert db["StorageEncrypted"]
    assert db["Endpoint"]["Address"] == outputs.db_endpoint
    queue = emulator.client("sqs").get_queue_url(QueueName=outputs.karpenter_interruption_queue_name)
    assert queue["QueueUrl"].endswith(outputs.karpenter_interruption_queue_name)


# -- a second run: a new emulator process from the saved state -------------------------------------------


def test_second_run_after_restart_plans_no_changes(deployment):
    env = deployment.env
    vpc_before = deployment.applied.outputs.vpc_id
    begun = time.monotonic()
    deployment.emulator.stop()
    deployment.emulator = Emulator(state_dir=deployment.state_dir, region=env.region).start()
    deployment.timings["restart"] = time.monotonic() - begun
    [vpc] = _tagged_vpcs(deployment.emulator, env.name)
    assert vpc["VpcId"] == vpc_before  # same IDs in the new process

    begun = time.monotonic()
    second = run_stacks(env, "plan", emulator=deployment.emulator, terraform=deployment.terraform,
                        work_root=deployment.work_root)
    deployment.timings["second plan"] = time.monotonic() - begun
    changes = {s.name: [c.address for c in s.plan.changes] for s in second.stacks if s.plan}
    assert not second.has_changes, changes
    assert all(s.plan is not None for s in second.stacks)  # nothing blocked: all outputs exist


# -- the dev preview (ran alongside) ----------------------------------------------------------------------


def test_dev_preview_plans_every_stack(deployment, dev_preview):
    worker, result = dev_preview
    worker.join(timeout=900)
    assert "error" not in result, result.get("error")
    run: RunResult = result["run"]
    assert run.preview and [s.name for s in run.stacks] == ["network", "cluster", "data", "platform"]
    for stack in run.stacks:
        assert stack.plan is not None and stack.plan.has_changes, stack.name
        assert stack.plan.count("create") == len(stack.plan.changes), stack.name  # a first deploy: creates only
        assert stack.applied is None, stack.name  # nothing was applied
    assert [s.name for s in run.stacks if s.stood_in] == ["network", "cluster", "data"]
    dev = load_environment("dev")
    node_groups = {c.address for c in run.stack("cluster").plan.changes if c.type == "aws_eks_node_group"}
    assert len(node_groups) == len(dev.node_pools)
    subnets = [c for c in run.stack("network").plan.changes if c.type == "aws_subnet"]
    assert len(subnets) == 2 * len(dev.availability_zones)
    mounts = [c for c in run.stack("data").plan.changes if c.type == "aws_efs_mount_target"]
    assert len(mounts) == len(dev.availability_zones)  # planned over the stand-in private subnets
    assert run.outputs is None  # a preview never writes outputs


# -- destroy ---------------------------------------------------------------------------------------------


def test_destroy_leaves_nothing_but_the_state_bucket(deployment):
    env, emulator = deployment.env, deployment.emulator
    begun = time.monotonic()
    destroyed = run_stacks(env, "destroy", emulator=emulator, terraform=deployment.terraform,
                           work_root=deployment.work_root)
    deployment.timings["destroy"] = time.monotonic() - begun
    assert [s.name for s in destroyed.stacks] == ["network", "cluster", "data", "platform"]
    assert not (deployment.work_root / OUTPUTS_FILE).exists()

    assert _tagged_vpcs(emulator, env.name) == []
    assert emulator.client("eks").list_clusters()["clusters"] == []
    assert [b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]] == [env.state.bucket]
    roles = [r["RoleName"] for r in emulator.client("iam").list_roles()["Roles"]]
    assert not [r for r in roles if r.startswith(env.cluster.name)]
    assert emulator.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert emulator.client("rds").describe_db_instances()["DBInstances"] == []
    assert emulator.client("efs").describe_file_systems()["FileSystems"] == []
    assert "QueueUrls" not in emulator.client("sqs").list_queues()
    kms = emulator.client("kms")
    # AWS-managed keys (alias/aws/ebs, alias/aws/s3 ...) are created by the services themselves.
    managed = {a["TargetKeyId"] for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/aws/")
               and "TargetKeyId" in a}
    ours = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"] if k["KeyId"] not in managed]
    assert ours and {key["KeyState"] for key in ours} == {"PendingDeletion"}
