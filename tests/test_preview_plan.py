"""`eksml plan local dev --emulator`: whole cloud environments planned in one process, each against
its own throwaway moto server with the real provider, every downstream stack planned over stand-in
outputs. One run serves every test here (a preview of two environments takes minutes)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from eksml.cli import cli
from eksml.config import load_environment
from eksml.contract.names import STACK_NAMES

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def dev():
    return load_environment("dev")


@pytest.fixture(scope="module")
def previews(tmp_path_factory) -> dict[str, dict]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EKSML_WORK_DIR", str(tmp_path_factory.mktemp("work")))
        result = CliRunner().invoke(cli, ["plan", "local", "dev", "--emulator", "--output", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # progress goes to stderr
    assert report["ok"] is True
    return {one["environment"]: one for one in report["environments"]}


def changes(preview: dict, stack: str, resource_type: str) -> list[dict]:
    [found] = [s for s in preview["stacks"] if s["name"] == stack]
    return [c for c in found["changes"] if c["type"] == resource_type]


def test_each_environment_is_previewed_on_its_own(previews):
    assert list(previews) == ["local", "dev"]
    assert all(one["preview"] is True for one in previews.values())
    assert previews["local"]["stacks"] != previews["dev"]["stacks"]


@pytest.mark.parametrize("env_name", ["local", "dev"])
def test_every_stack_is_planned_as_a_first_deploy(previews, env_name):
    preview = previews[env_name]
    assert [s["name"] for s in preview["stacks"]] == list(STACK_NAMES)
    for stack in preview["stacks"]:
        assert stack["planned"] and stack["has_changes"] and stack["add"] > 0, stack["name"]
        assert {c["action"] for c in stack["changes"]} == {"create"}, stack["name"]  # creates only
        assert stack["change"] == stack["destroy"] == 0, stack["name"]
    # Every stack another one reads from got stand-in outputs; the last one is read by nobody.
    assert [s["name"] for s in preview["stacks"] if s["stand_in_outputs"]] == ["network", "cluster", "data", "karpenter"]


def test_downstream_plans_are_complete_over_the_stand_ins(previews, dev):
    preview = previews["dev"]
    assert len(changes(preview, "cluster", "aws_eks_node_group")) == len(dev.node_pools)
    assert len(changes(preview, "network", "aws_subnet")) == 2 * len(dev.availability_zones)
    # planned over the stand-in private subnets
    assert len(changes(preview, "data", "aws_efs_mount_target")) == len(dev.availability_zones)
    # NFS and PostgreSQL, from the stand-in cluster security group
    assert len(changes(preview, "platform", "aws_vpc_security_group_ingress_rule")) == 2
    assert len(changes(preview, "karpenter", "aws_sqs_queue")) == 1


def test_a_preview_applies_nothing_and_writes_no_outputs(previews, tmp_path_factory):
    work = tmp_path_factory.getbasetemp()
    assert not list(work.glob("work*/*/outputs.json")), "a preview never writes outputs"
