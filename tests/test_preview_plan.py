"""`eksml plan dev --emulator`'s engine: a whole cloud environment planned against a throwaway
moto server with the real provider, every downstream stack planned over stand-in outputs."""

from __future__ import annotations

import pytest

from eksml.toolchain import prefer_supported_node

prefer_supported_node()

from eksml.aws.run import RunResult, run_stacks  # noqa: E402
from eksml.config import load_environment  # noqa: E402
from eksml.emulator.process import Emulator  # noqa: E402
from eksml.contract.names import STACK_NAMES  # noqa: E402
from eksml.terraform import prepare_terraform  # noqa: E402
from eksml.workspace import Workspace  # noqa: E402

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def dev():
    return load_environment("dev")


@pytest.fixture(scope="module")
def preview(tmp_path_factory, dev) -> RunResult:
    terraform = prepare_terraform(tmp_path_factory.mktemp("terraform"))
    with Emulator(region=dev.region) as emulator:
        return run_stacks(dev, "plan", emulator=emulator, preview=True, terraform=terraform,
                          workspace=Workspace(tmp_path_factory.mktemp("dev")))


def test_every_stack_is_planned_as_a_first_deploy(preview):
    assert preview.preview and [s.name for s in preview.stacks] == list(STACK_NAMES)
    for stack in preview.stacks:
        assert stack.plan is not None and stack.plan.has_changes, stack.name
        assert stack.plan.count("create") == len(stack.plan.changes), stack.name  # creates only
        assert stack.applied is None, stack.name  # nothing was applied
    # Every stack another one reads from got stand-in outputs; the last one is read by nobody.
    assert [s.name for s in preview.stacks if s.stood_in] == ["network", "cluster", "data", "karpenter"]
    assert preview.outputs is None  # a preview never writes outputs


def test_downstream_plans_are_complete_over_the_stand_ins(preview, dev):
    node_groups = {c.address for c in preview.stack("cluster").plan.changes if c.type == "aws_eks_node_group"}
    assert len(node_groups) == len(dev.node_pools)
    subnets = [c for c in preview.stack("network").plan.changes if c.type == "aws_subnet"]
    assert len(subnets) == 2 * len(dev.availability_zones)
    mounts = [c for c in preview.stack("data").plan.changes if c.type == "aws_efs_mount_target"]
    assert len(mounts) == len(dev.availability_zones)  # planned over the stand-in private subnets
    grants = [c for c in preview.stack("platform").plan.changes if c.type == "aws_vpc_security_group_ingress_rule"]
    assert len(grants) == 2  # NFS and PostgreSQL, from the stand-in cluster security group
    queues = [c for c in preview.stack("karpenter").plan.changes if c.type == "aws_sqs_queue"]
    assert len(queues) == 1
