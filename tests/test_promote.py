"""`eksml promote` on copies of the shipped environments: what moves, what stays, and what is refused."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from eksml.cli import cli
from eksml.config import load_environment
from eksml.config import rules
from eksml.paths import ENVIRONMENTS_DIR
from eksml.promote import promoted_fields

# What dev runs after a release in these tests (the shipped files all run the same versions).
NEW_VERSIONS = {
    '  kubernetes_version: "1.35"': '  kubernetes_version: "1.36"',
    "  ami_release_version: 1.35.7-20260903": "  ami_release_version: 1.36.2-20261001",
    "  kserve: {version: v0.20.0,": "  kserve: {version: v0.21.0,",
    "  karpenter: {version: 1.14.1}": "  karpenter: {version: 1.15.0}",
    "    llm_model: Intel/neural-chat-7b-v3-3": "    llm_model: meta-llama/Llama-3.1-8B-Instruct",
    "    llm_serving: vllm": "    llm_serving: tgi",
}
CHANGED_FIELDS = {
    "cluster.kubernetes_version": ("1.35", "1.36"),
    "cluster.ami_release_version": ("1.35.7-20260903", "1.36.2-20261001"),
    "addons.kserve.version": ("v0.20.0", "v0.21.0"),
    "addons.karpenter.version": ("1.14.1", "1.15.0"),
    "genai.chatqna.llm_model": ("Intel/neural-chat-7b-v3-3", "meta-llama/Llama-3.1-8B-Instruct"),
    "genai.chatqna.llm_serving": ("vllm", "tgi"),
}


def edit(path: Path, replacements: dict[str, str]) -> None:
    text = path.read_text()
    for old, new in replacements.items():
        assert text.count(old) == 1, f"fixture edit '{old}' must match exactly once in {path.name}"
        text = text.replace(old, new)
    path.write_text(text)


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    """The shipped environments in a scratch directory; dev carries a new release."""
    for path in ENVIRONMENTS_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    edit(tmp_path / "dev.yaml", NEW_VERSIONS)
    return tmp_path


def promote(envs: Path, source: str, target: str, *args: str):
    return CliRunner().invoke(cli, ["promote", str(envs / f"{source}.yaml"), str(envs / f"{target}.yaml"), *args])


def without(data: dict, dotted: set[str]) -> dict:
    """model_dump minus the promoted fields: everything an environment owns."""
    for path in dotted:
        *parents, leaf = path.split(".")
        node = data
        for key in parents:
            node = node.get(key) or {}
        node.pop(leaf, None)
    return data


def test_versions_are_copied_and_the_result_validates(envs: Path):
    result = promote(envs, "dev", "staging")
    assert result.exit_code == 0, result.output
    dev, staging = load_environment(envs / "dev.yaml"), load_environment(envs / "staging.yaml")
    assert promoted_fields(staging) == promoted_fields(dev)
    assert staging.addons.kserve.version == "v0.21.0"
    assert staging.genai.chatqna.llm_serving == "tgi"


def test_sizing_network_and_access_stay_the_targets(envs: Path):
    before = load_environment(envs / "prod.yaml")
    edit(envs / "staging.yaml", NEW_VERSIONS)  # staging got the release already
    result = promote(envs, "staging", "prod")
    assert result.exit_code == 0, result.output
    after = load_environment(envs / "prod.yaml")
    staging = load_environment(envs / "staging.yaml")
    promoted = set(promoted_fields(before))
    assert without(after.model_dump(mode="json"), promoted) == without(before.model_dump(mode="json"), promoted)
    # the fixture really has differences that promotion had to leave alone
    assert after.node_pools["cpu"].max_size == 12 != staging.node_pools["cpu"].max_size
    assert after.cluster.endpoint_public_access is False and staging.cluster.endpoint_public_access is True
    assert after.network.vpc_cidr == "10.40.0.0/16" and after.teams["inference"].gpu_quota == 16
    assert after.account_id == "210987654321" and after.state.bucket == "acme-mlplatform-tfstate-prod"


def test_only_the_changed_scalars_change_in_the_text(envs: Path):
    original = (envs / "staging.yaml").read_text()
    result = promote(envs, "dev", "staging")
    assert result.exit_code == 0, result.output
    promoted = (envs / "staging.yaml").read_text()
    old_lines, new_lines = original.splitlines(), promoted.splitlines()
    assert len(old_lines) == len(new_lines), "no line added, removed or re-wrapped"
    differing = [(old, new) for old, new in zip(old_lines, new_lines) if old != new]
    assert len(differing) == len(CHANGED_FIELDS), "one line per promoted field, every other line identical"
    for old, new in differing:
        assert old.split(":")[0] == new.split(":")[0], "same key, same indentation, same order"
    assert '  kubernetes_version: "1.36"' in promoted, "double quotes are kept"
    assert "  kserve: {version: v0.21.0, deployment_mode: Standard}" in promoted, "flow style is kept"
    comments = [line for line in original.splitlines() if "#" in line]
    assert comments and all(line in promoted.splitlines() for line in comments)


def test_the_summary_is_a_pull_request_description(envs: Path):
    result = promote(envs, "dev", "staging")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Promote dev → staging"
    assert "| field | from | to |" in lines
    for field, (before, after) in CHANGED_FIELDS.items():
        assert f"| `{field}` | `{before}` | `{after}` |" in lines
    assert "`network.vpc_cidr`" in result.output, "kept differences are listed for the reviewer"
    assert "addons.mlflow.version" not in result.output, "unchanged versions are not in the table"


def test_nothing_to_promote_leaves_the_file_alone(envs: Path):
    target = envs / "prod.yaml"
    before, mtime = target.read_bytes(), target.stat().st_mtime_ns
    result = promote(envs, "staging", "prod")
    assert result.exit_code == 0, result.output
    assert "no changes" in result.output
    assert target.read_bytes() == before and target.stat().st_mtime_ns == mtime


def test_dry_run_writes_nothing(envs: Path):
    before = (envs / "staging.yaml").read_bytes()
    result = promote(envs, "dev", "staging", "--dry-run", "--output", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dry_run"] is True and report["written"] is False
    assert {c["field"]: (c["from"], c["to"]) for c in report["changes"]} == CHANGED_FIELDS
    assert (envs / "staging.yaml").read_bytes() == before


def test_a_missing_ami_pin_is_added_next_to_the_kubernetes_version(envs: Path):
    edit(envs / "staging.yaml", {"  ami_release_version: 1.35.7-20260903\n": ""})
    result = promote(envs, "dev", "staging")
    assert result.exit_code == 0, result.output
    lines = (envs / "staging.yaml").read_text().splitlines()
    at = lines.index('  kubernetes_version: "1.36"')
    assert lines[at + 1] == "  ami_release_version: 1.36.2-20261001"
    assert "| `cluster.ami_release_version` | (not set) | `1.36.2-20261001` |" in result.output


def test_an_add_on_the_target_leaves_to_its_default_gets_its_own_pin(envs: Path):
    edit(envs / "dev.yaml", {"  external_secrets: {version: 2.9.0}": "  external_secrets: {version: 2.10.0}"})
    edit(envs / "staging.yaml", {"  external_secrets: {version: 2.9.0}\n": ""})  # written before it existed
    result = promote(envs, "dev", "staging")
    assert result.exit_code == 0, result.output
    assert load_environment(envs / "staging.yaml").addons.external_secrets.version == "2.10.0"
    assert "| `addons.external_secrets.version` | `0.20.4` | `2.10.0` |" in result.output


def test_skipping_a_stage_is_refused_unless_forced(envs: Path):
    before = (envs / "prod.yaml").read_bytes()
    refused = promote(envs, "dev", "prod")
    assert refused.exit_code == 2
    assert "skips staging" in refused.output and "--force" in refused.output
    assert (envs / "prod.yaml").read_bytes() == before

    forced = promote(envs, "dev", "prod", "--force")
    assert forced.exit_code == 0, forced.output
    assert "Forced" in forced.output
    assert load_environment(envs / "prod.yaml").cluster.kubernetes_version == "1.36"


@pytest.mark.parametrize(
    "source, target, words",
    [("staging", "dev", "backwards"), ("prod", "staging", "backwards"), ("local", "dev", "local"), ("dev", "local", "local")],
)
def test_off_path_promotions_are_refused(envs: Path, source: str, target: str, words: str):
    before = (envs / f"{target}.yaml").read_bytes()
    result = promote(envs, source, target)
    assert result.exit_code == 2
    assert words in result.output
    assert (envs / f"{target}.yaml").read_bytes() == before


def test_an_invalid_source_is_refused_with_its_field_path(envs: Path):
    edit(envs / "dev.yaml", {"  mlflow: {version: 1.11.5}": "  mlflow: {version: latest}"})
    result = promote(envs, "dev", "staging")
    assert result.exit_code == 2
    assert "dev.yaml: addons.mlflow.version" in result.output


def test_a_promotion_that_would_make_the_target_invalid_is_refused(envs: Path, monkeypatch):
    # A target-specific rule (like prod's endpoint rules): staging may not run Kubernetes 1.36 yet.
    def staging_lags_behind(env, _catalog):
        if env.name == "staging" and env.cluster.kubernetes_version == "1.36":
            yield "cluster.kubernetes_version", "staging stays on 1.35 until the freeze ends"

    monkeypatch.setattr(rules, "RULES", rules.RULES + (staging_lags_behind,))
    before = (envs / "staging.yaml").read_bytes()
    result = promote(envs, "dev", "staging")
    assert result.exit_code == 2
    assert "staging.yaml: cluster.kubernetes_version: after promotion from dev" in result.output
    assert (envs / "staging.yaml").read_bytes() == before
    assert sorted(p.name for p in envs.iterdir()) == ["dev.yaml", "local.yaml", "prod.yaml", "staging.yaml"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failed_write_leaves_the_original_and_no_temp_file(envs: Path, monkeypatch, failing: str):
    def boom(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    before = (envs / "staging.yaml").read_bytes()
    result = promote(envs, "dev", "staging")
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "stage 'promote' failed" in result.output and "No space left on device" in result.output
    assert (envs / "staging.yaml").read_bytes() == before
    assert sorted(p.name for p in envs.iterdir()) == ["dev.yaml", "local.yaml", "prod.yaml", "staging.yaml"]


def test_the_written_file_keeps_its_permissions(envs: Path):
    (envs / "staging.yaml").chmod(0o640)
    result = promote(envs, "dev", "staging")
    assert result.exit_code == 0, result.output
    assert (envs / "staging.yaml").stat().st_mode & 0o777 == 0o640

