"""Every validation rule, fed a real bad file through the CLI: message, field path and exit code."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from eksml.cli import cli
from eksml.paths import ENVIRONMENTS_DIR, PROJECT_ROOT
from shipped import SHIPPED, shipped_data, with_chart_llm

# with ChatQnA's own vLLM back (dev calls KServe's model): these cases test that server's placement
DEV = with_chart_llm(shipped_data("dev"))


def write_env(tmp_path: Path, data: dict, stem: str | None = None) -> Path:
    path = tmp_path / f"{stem or data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_validate(*args: str):
    return CliRunner().invoke(cli, ["validate", *args])


def mutate(change) -> dict:
    data = copy.deepcopy(DEV)
    change(data)
    return data


def test_shipped_environments_are_the_four_of_the_platform():
    assert SHIPPED == ["dev", "local", "prod", "staging"]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_environment_validates(name):
    result = run_validate(name)
    assert result.exit_code == 0, result.output
    assert f"{name}: valid" in result.output


def _set(path: str, value):
    """Build a mutation that sets a dotted path in the dev file."""

    def change(data):
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _multi(*changes):
    def change(data):
        for item in changes:
            item(data)

    return change


BAD_FILES = {
    "mig-on-gpu-without-mig": (
        _multi(_set("node_pools.a100-mig.instance_types", ["g5.48xlarge"]), _set("node_pools.a100-mig.gpu", "A10G-24GB")),
        "node_pools.a100-mig.instance_types[0]",
        "does not support MIG",
    ),
    "profile-not-on-a100-40gb": (
        _multi(
            _set("node_pools.a100-mig.instance_types", ["p4d.24xlarge"]),
            _set("node_pools.a100-mig.gpu", "A100-40GB"),
            _set("node_pools.a100-mig.mig", {"strategy": "mixed", "layout": ["3g.20gb", "3g.40gb"]}),
            _set("genai.chatqna.llm_gpu", {"mig_profile": "3g.20gb"}),
        ),
        "node_pools.a100-mig.mig.layout[1]",
        "'3g.40gb' is not a MIG profile of A100-40GB",
    ),
    "five-1g.10gb-on-a100-40gb": (
        _multi(
            _set("node_pools.a100-mig.instance_types", ["p4d.24xlarge"]),
            _set("node_pools.a100-mig.gpu", "A100-40GB"),
            _set("node_pools.a100-mig.mig", {"strategy": "single", "layout": ["1g.10gb"] * 5}),
            _set("genai.chatqna.llm_node_pool", "h100"),
            _set("genai.chatqna.llm_gpu", {"count": 1}),
        ),
        "node_pools.a100-mig.mig.layout",
        "cannot be placed on one A100-40GB",
    ),
    "two-4g-slices-do-not-fit": (
        _multi(
            _set("node_pools.a100-mig.mig", {"strategy": "mixed", "layout": ["4g.40gb", "4g.40gb"]}),
            _set("genai.chatqna.llm_gpu", {"mig_profile": "4g.40gb"}),
        ),
        "node_pools.a100-mig.mig.layout",
        "cannot be placed on one A100-80GB",
    ),
    "declared-gpu-differs-from-instance": (
        _set("node_pools.h100.gpu", "A100-80GB"),
        "node_pools.h100.instance_types[0]",
        "p5.48xlarge carries H100-80GB GPUs",
    ),
    "time-slicing-replicas-too-low": (
        _set("node_pools.h100.time_slicing", {"replicas": 1}),
        "node_pools.h100.time_slicing.replicas",
        "greater than or equal to 2",
    ),
    "time-slicing-replicas-too-high": (
        _set("node_pools.a100-timeslice.time_slicing", {"replicas": 100}),
        "node_pools.a100-timeslice.time_slicing.replicas",
        "less than or equal to 48",
    ),
    "desired-above-max": (
        _set("node_pools.cpu.desired_size", 9),
        "node_pools.cpu",
        "min_size <= desired_size <= max_size, got 2 <= 9 <= 6",
    ),
    "subnet-outside-vpc": (
        _multi(
            _set("network.private_subnets", ["10.20.0.0/18", "10.20.64.0/18", "10.99.0.0/18"]),
            _set("network.public_subnets", ["10.20.192.0/24", "10.20.193.0/24", "10.20.194.0/24"]),
        ),
        "network.private_subnets[2]",
        "10.99.0.0/18 is outside the VPC CIDR 10.20.0.0/16",
    ),
    "subnets-overlap": (
        _multi(
            _set("network.private_subnets", ["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/18"]),
            _set("network.public_subnets", ["10.20.192.0/24", "10.20.64.0/24", "10.20.194.0/24"]),
        ),
        "network.public_subnets[1]",
        "overlaps 10.20.64.0/18 (network.private_subnets[1])",
    ),
    "zone-outside-region": (
        _set("availability_zones", ["us-east-1a", "us-west-2b", "us-east-1c"]),
        "availability_zones[1]",
        "'us-west-2b' is not an availability zone of region us-east-1",
    ),
    "karpenter-overflow-to-missing-pool": (
        _set("karpenter.node_pools.gpu-workloads.overflow_for", "a100-big"),
        "karpenter.node_pools.gpu-workloads.overflow_for",
        "no node pool named 'a100-big'",
    ),
    "karpenter-overflow-to-cpu-pool": (
        _set("karpenter.node_pools.gpu-workloads.overflow_for", "cpu"),
        "karpenter.node_pools.gpu-workloads.overflow_for",
        "'cpu' is a cpu pool",
    ),
    "genai-on-missing-pool": (
        _set("genai.chatqna.llm_node_pool", "a100-big"),
        "genai.chatqna.llm_node_pool",
        "no node pool named 'a100-big'",
    ),
    "genai-on-cpu-pool": (
        _set("genai.chatqna.llm_node_pool", "cpu"),
        "genai.chatqna.llm_node_pool",
        "'cpu' is a cpu pool",
    ),
    "genai-profile-not-in-layout": (
        _set("genai.chatqna.llm_gpu", {"mig_profile": "7g.80gb"}),
        "genai.chatqna.llm_gpu.mig_profile",
        "'7g.80gb' is not in pool 'a100-mig' layout",
    ),
    "taint-effect-unknown": (
        _set("node_pools.h100.taints", [{"key": "gpu", "value": "h100", "effect": "NoScheduleEver"}]),
        "node_pools.h100.taints[0].effect",
        "'NoSchedule', 'PreferNoSchedule' or 'NoExecute'",
    ),
    "label-key-with-space": (
        _set("node_pools.cpu.labels", {"workload type": "control"}),
        "node_pools.cpu.labels.workload type (key)",
        "name part must be 1-63 characters",
    ),
    "label-value-too-long": (
        _set("node_pools.cpu.labels", {"workload-type": "x" * 64}),
        "node_pools.cpu.labels.workload-type",
        "at most 63 characters",
    ),
    "pool-name-not-dns": (
        lambda data: data["node_pools"].__setitem__("A100_Big", data["node_pools"].pop("h100")),
        "node_pools.A100_Big (key)",
        "DNS-1123 label",
    ),
    "reserved-label-prefix": (
        _set("node_pools.cpu.labels", {"node.kubernetes.io/role": "control"}),
        "node_pools.cpu.labels.node.kubernetes.io/role",
        "reserved Kubernetes prefix",
    ),
    "unknown-field": (
        _set("cluster.endpoint_public", True),
        "cluster.endpoint_public",
        "unknown field 'endpoint_public'; allowed here: name, kubernetes_version, endpoint_public_access",
    ),
    "unknown-instance-type": (
        _set("node_pools.cpu.instance_types", ["m5.2xlarge", "p9.fake"]),
        "node_pools.cpu.instance_types[1]",
        "unknown instance type 'p9.fake'",
    ),
    "gpu-instance-in-cpu-pool": (
        _set("node_pools.cpu.instance_types", ["g5.xlarge"]),
        "node_pools.cpu.instance_types[0]",
        "but the pool is kind cpu",
    ),
    "cpu-pool-with-nvidia-ami": (
        _set("node_pools.cpu.ami_type", "AL2023_x86_64_NVIDIA"),
        "node_pools.cpu.ami_type",
        "is a GPU image",
    ),
    "single-strategy-mixed-layout": (
        _set("node_pools.a100-mig.mig.strategy", "single"),
        "node_pools.a100-mig.mig.strategy",
        "needs one identical profile on every GPU",
    ),
    "mlflow-without-secret-delivery": (
        _set("addons.external_secrets", {"version": "0.20.4", "enabled": False}),
        "addons.external_secrets.enabled",
        "MLflow reads its database password through external-secrets",
    ),
    "kubernetes-version-without-gpu-ami": (
        _set("cluster.kubernetes_version", "1.29"),
        "cluster.kubernetes_version",
        "allowed: 1.30, 1.31",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_reported_with_path_and_exit_2(tmp_path, case):
    change, expected_path, expected_message = BAD_FILES[case]
    path = write_env(tmp_path, mutate(change))
    result = run_validate(str(path))
    assert result.exit_code == 2, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    expected_prefix = f"{path}: {expected_path}: " if not str(path).startswith(str(Path.cwd())) else None
    matching = [line for line in lines if f": {expected_path}: " in line and expected_message in line]
    assert matching, f"no line for {expected_path} with {expected_message!r} in:\n{result.output}"
    assert path.name in matching[0]
    if expected_prefix:
        assert matching[0].startswith(expected_prefix)


def test_valid_1g10gb_layout_on_a100_40gb_is_accepted(tmp_path):
    """1g.10gb is a real A100-40GB profile (4 per GPU at most); a common belief says otherwise."""
    data = mutate(
        _multi(
            _set("node_pools.a100-mig.instance_types", ["p4d.24xlarge"]),
            _set("node_pools.a100-mig.gpu", "A100-40GB"),
            _set("node_pools.a100-mig.mig", {"strategy": "mixed", "layout": ["1g.10gb"] * 4}),
            _set("genai.chatqna.llm_gpu", {"mig_profile": "1g.10gb"}),
            # dev serves a 7B model on a 2g.20gb slice of that pool: a small one on 1g.10gb instead
            _set("serving.models.mistral-7b", {"source": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
                                               "pool": "a100-mig", "mig_profile": "1g.10gb"}),
        )
    )
    result = run_validate(str(write_env(tmp_path, data)))
    assert result.exit_code == 0, result.output


def test_public_endpoint_open_to_the_world_is_refused_in_prod(tmp_path):
    data = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())
    data["cluster"]["endpoint_public_access"] = True
    data["cluster"]["public_access_cidrs"] = ["10.0.0.0/8", "0.0.0.0/0"]
    result = run_validate(str(write_env(tmp_path, data)))
    assert result.exit_code == 2
    assert "cluster.public_access_cidrs[1]: 0.0.0.0/0 opens the Kubernetes API to the whole internet" in result.output
    # The same setting is allowed in dev, where it is a choice, not a policy breach.
    dev = mutate(_set("cluster.public_access_cidrs", ["0.0.0.0/0"]))
    assert run_validate(str(write_env(tmp_path, dev))).exit_code == 0


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    data = mutate(
        _multi(
            _set("node_pools.cpu.desired_size", 9),
            _set("availability_zones", ["us-east-1a", "eu-west-1b", "us-east-1c"]),
            _set("node_pools.h100.gpu", "A100-80GB"),
        )
    )
    result = run_validate(str(write_env(tmp_path, data)))
    assert result.exit_code == 2
    assert "4 problems found" in result.output
    # the fourth: a100-mig names us-east-1b, which the edited zones no longer have
    for path in ("node_pools.cpu:", "availability_zones[1]:", "node_pools.h100.instance_types[0]:",
                 "node_pools.a100-mig.availability_zones[0]:"):
        assert path in result.output


def test_name_must_match_the_file(tmp_path):
    path = write_env(tmp_path, DEV, stem="dev-copy")
    result = run_validate(str(path))
    assert result.exit_code == 2
    assert "name: 'dev' must equal the file name 'dev-copy'" in result.output


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_text("name: dev\nregion: [us-east-1\n")
    result = run_validate(str(path))
    assert result.exit_code == 2
    assert "not valid YAML: line" in result.output


def test_unknown_environment_lists_the_known_ones():
    result = run_validate("qa")
    assert result.exit_code == 2
    assert "known environments: dev, local, prod, staging" in result.output


def test_json_output_lists_issues_for_machines(tmp_path):
    path = write_env(tmp_path, mutate(_set("node_pools.cpu.desired_size", 9)))
    result = CliRunner().invoke(cli, ["validate", str(path), "--output", "json"])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["issues"] == [
        {"file": str(path), "path": "node_pools.cpu", "message": "sizes must satisfy min_size <= desired_size <= max_size, got 2 <= 9 <= 6"}
    ]


def test_installed_command_exits_2_and_writes_nothing(tmp_path):
    """The real entry point, as a user runs it: exit code 2, the message on stderr, no files created."""
    path = write_env(tmp_path, mutate(_set("node_pools.h100.gpu", "A100-80GB")))
    before = sorted(tmp_path.rglob("*"))
    proc = subprocess.run(
        [sys.executable, "-m", "eksml", "validate", str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 2
    assert "node_pools.h100.instance_types[0]: p5.48xlarge carries H100-80GB GPUs" in proc.stderr
    assert sorted(tmp_path.rglob("*")) == before
    assert not (PROJECT_ROOT / ".eksml" / "dev-copy").exists()
