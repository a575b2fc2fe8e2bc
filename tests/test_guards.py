"""Every guard of the deploy path has a test that fails when the guard is removed.

The destroy/replace protection of staging and prod (per protected resource type, through the AWS
layer's real planning paths with a stand-in terraform), the approval without a terminal,
`--from-stage`, every verify finding. Expectations are literals or come from the environment files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

import eksml.aws.run as aws_run
from eksml.outputs import predict_outputs
from eksml.aws.run import run_stacks
from eksml.aws.synth import SynthesizedStack
from eksml.cli import cli
from eksml.config import load_environment
from eksml.contract.names import POOL_LABEL
from eksml.contract.outputs import AwsOutputs
from eksml.deploy.verify import verify_aws
from eksml.emulator.target import AwsTarget
from eksml.errors import StageError
from eksml.terraform import ApplyResult, Plan, ResourceChange
from eksml.workspace import Workspace

# What staging and prod must never lose without --allow-destroy (a literal list, not the module's table).
PROTECTED = ["aws_db_instance", "aws_s3_bucket", "aws_eks_cluster", "aws_efs_file_system", "aws_kms_key"]
LOSING = {"destroy": ("delete",), "replace": ("delete", "create"), "replace (create first)": ("create", "delete")}


class StandInTerraform:
    """One stack's terraform: plans the given changes, records whether anything was applied."""

    applied: list[str] = []
    changes: tuple[ResourceChange, ...] = ()

    def __init__(self, *, stack, **_kwargs):
        self.stack = stack

    def init(self, reconfigure=False):
        pass

    def plan(self):
        return Plan(self.stack, Path("plan.out"), bool(self.changes), self.changes)

    def apply(self, plan):
        StandInTerraform.applied.append(self.stack)
        return ApplyResult(self.stack, 0, 0, 0, 0.0, {})

    def apply_now(self):
        plan = self.plan()
        return plan, self.apply(plan)

    def output_values(self):
        return {}


@pytest.fixture
def stand_in(monkeypatch, tmp_path):
    """run_stacks with one stack (data), no synthesis, no state bucket, a stand-in terraform."""
    stack = SynthesizedStack("data", tmp_path / "data", ())
    monkeypatch.setattr(aws_run, "synthesize_if_changed", lambda env, out, target: ([stack], True))
    monkeypatch.setattr(aws_run, "_ensure_state_bucket", lambda env, target, create=True: None)
    monkeypatch.setattr(aws_run, "Terraform", StandInTerraform)
    StandInTerraform.applied = []

    def run(env_name, changes, *, all_at_once=False, **kwargs):
        StandInTerraform.changes = tuple(changes)
        workspace = Workspace(tmp_path / env_name)
        if all_at_once:  # after a complete apply: every stack is planned at once first
            workspace.outputs_file.parent.mkdir(parents=True, exist_ok=True)
            workspace.outputs_file.write_text("{}")
        return run_stacks(load_environment(env_name), kwargs.pop("action", "plan"), AwsTarget(), terraform=object(),
                          workspace=workspace, **kwargs)

    return run


def change(resource_type: str, actions: tuple[str, ...]) -> ResourceChange:
    return ResourceChange(f"{resource_type}.this", resource_type, actions)


@pytest.mark.parametrize("all_at_once", [False, True], ids=["stack by stack", "all at once"])
@pytest.mark.parametrize("verb", LOSING)
@pytest.mark.parametrize("resource_type", PROTECTED)
@pytest.mark.parametrize("env_name", ["staging", "prod"])
def test_protected_environments_refuse_losing_a_stateful_resource(stand_in, env_name, resource_type, verb, all_at_once):
    with pytest.raises(StageError) as caught:
        stand_in(env_name, [change(resource_type, LOSING[verb])], all_at_once=all_at_once)
    assert caught.value.stage == "plan"
    assert f"{resource_type}.this would be" in caught.value.message
    assert caught.value.resource == f"{resource_type}.this"


@pytest.mark.parametrize("resource_type", PROTECTED)
def test_allow_destroy_lets_the_plan_through(stand_in, resource_type):
    result = stand_in("prod", [change(resource_type, ("delete", "create"))], allow_destroy=True)
    assert [s.plan.changes[0].address for s in result.stacks] == [f"{resource_type}.this"]


@pytest.mark.parametrize("env_name, changes", [
    ("dev", [change("aws_db_instance", ("delete", "create"))]),  # dev is not protected
    ("prod", [change("aws_eks_node_group", ("delete", "create"))]),  # a node group holds no data
    ("prod", [change("aws_db_instance", ("update",))]),  # changed in place, nothing lost
])
def test_what_loses_nothing_is_planned(stand_in, env_name, changes):
    assert stand_in(env_name, changes).stacks[0].plan.has_changes


def test_a_refused_apply_applies_nothing(stand_in):
    with pytest.raises(StageError):
        stand_in("prod", [change("aws_db_instance", ("delete",))], action="apply", approve=lambda stack, plan: True)
    assert StandInTerraform.applied == []


def test_an_unapproved_plan_is_not_applied(stand_in):
    with pytest.raises(StageError) as caught:
        stand_in("prod", [change("aws_eks_node_group", ("update",))], action="apply", approve=lambda stack, plan: False)
    assert "was not approved" in caught.value.message
    assert StandInTerraform.applied == []


def test_destroying_a_protected_environment_needs_allow_destroy(stand_in):
    with pytest.raises(StageError) as caught:
        stand_in("staging", [], action="destroy")
    assert caught.value.stage == "destroy" and "protected" in caught.value.message


# -- the command line: approval without a terminal, --from-stage ----------------------------------


@pytest.fixture
def work_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    return tmp_path / "work"


@pytest.mark.parametrize("command", ["deploy", "destroy"])
@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_a_cloud_environment_without_a_terminal_needs_auto_approve(work_dir, command, env_name):
    allow = ["--allow-destroy"] if command == "destroy" else []  # else the protection refuses first
    result = CliRunner().invoke(cli, [command, env_name, *allow])
    assert result.exit_code == 2, result.output
    assert "nobody can confirm here (no terminal)" in result.output and "--auto-approve" in result.output
    assert not (work_dir / env_name / "outputs.json").exists()


def test_an_unknown_from_stage_is_a_usage_error(work_dir):
    result = CliRunner().invoke(cli, ["deploy", "dev", "--auto-approve", "--from-stage", "apply"])
    assert result.exit_code == 2
    assert "apply" in result.output and "render" in result.output


def test_resuming_after_the_aws_stage_without_its_outputs_fails_naming_the_stage(work_dir):
    result = CliRunner().invoke(cli, ["deploy", "dev", "--auto-approve", "--from-stage", "render"])
    assert result.exit_code == 1, result.output
    assert "stage 'aws' failed" in result.output
    assert "no outputs of an earlier apply" in result.output
    assert "without --from-stage" in result.output


# -- verify: each finding ---------------------------------------------------------------------------


def client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Call")


class World:
    """A stand-in AWS that answers what verify asks; healthy unless a test breaks one part."""

    def __init__(self, env, outputs):
        self.cluster_status = "ACTIVE"
        self.cluster_error: ClientError | None = None
        self.nodegroups = {name: {"labels": {POOL_LABEL: name}, "instanceTypes": list(pool.instance_types)}
                           for name, pool in env.node_pools.items()}
        self.buckets = set(outputs.bucket_names.values())
        self.db_addresses = [outputs.db_endpoint]
        self.queues = {outputs.karpenter_interruption_queue_name}

    def client(self, service):
        return self

    # eks
    def describe_cluster(self, name):
        if self.cluster_error:
            raise self.cluster_error
        return {"cluster": {"name": name, "status": self.cluster_status}}

    def list_nodegroups(self, clusterName):
        return {"nodegroups": list(self.nodegroups)}

    def describe_nodegroup(self, clusterName, nodegroupName):
        return {"nodegroup": self.nodegroups[nodegroupName]}

    # s3, rds, sqs
    def head_bucket(self, Bucket):
        if Bucket not in self.buckets:
            raise client_error("404", "Not Found")

    def describe_db_instances(self):
        return {"DBInstances": [{"Endpoint": {"Address": address}} for address in self.db_addresses]}

    def get_queue_url(self, QueueName):
        if QueueName not in self.queues:
            raise client_error("AWS.SimpleQueueService.NonExistentQueue", "does not exist")
        return {"QueueUrl": f"https://sqs/{QueueName}"}


@pytest.fixture
def world():
    env = load_environment("staging")
    outputs = predict_outputs(env)
    return env, outputs, World(env, outputs)


def test_a_healthy_platform_has_no_findings(world):
    env, outputs, aws = world
    assert verify_aws(env, outputs, aws) == []


def test_verify_reports_each_thing_that_is_not_there(world):
    env, outputs, aws = world
    pools = list(env.node_pools)
    cases = []

    aws.cluster_status = "FAILED"
    cases.append((f"cluster {outputs.cluster_name} is FAILED", verify_aws(env, outputs, aws)))
    aws.cluster_status = "ACTIVE"

    missing = aws.nodegroups.pop(pools[0])
    cases.append((f"node pool {pools[0]}: no node group labelled {POOL_LABEL}={pools[0]}", verify_aws(env, outputs, aws)))
    aws.nodegroups[pools[0]] = missing

    aws.nodegroups[pools[1]] = {**aws.nodegroups[pools[1]], "instanceTypes": ["t3.micro"]}
    cases.append((f"node pool {pools[1]}: instance types ['t3.micro'] differ", verify_aws(env, outputs, aws)))
    aws.nodegroups[pools[1]] = {**aws.nodegroups[pools[1]], "instanceTypes": list(env.node_pools[pools[1]].instance_types)}

    item, bucket = next(iter(outputs.bucket_names.items()))
    aws.buckets.discard(bucket)
    cases.append((f"bucket {bucket} ({item}) is missing", verify_aws(env, outputs, aws)))
    aws.buckets.add(bucket)

    aws.db_addresses = ["other.rds.amazonaws.com"]
    cases.append((f"no database answers at {outputs.db_endpoint}", verify_aws(env, outputs, aws)))
    aws.db_addresses = [outputs.db_endpoint]

    aws.queues.clear()
    cases.append((f"Karpenter interruption queue {outputs.karpenter_interruption_queue_name} is missing",
                  verify_aws(env, outputs, aws)))

    for expected, found in cases:
        assert len(found) == 1 and found[0].startswith(expected), (expected, found)


def test_an_unreachable_cluster_is_the_only_finding(world):
    env, outputs, aws = world
    aws.cluster_error = client_error("ResourceNotFoundException", "No cluster found")
    aws.buckets.clear()
    assert verify_aws(env, outputs, aws) == [f"cluster {outputs.cluster_name}: No cluster found"]
