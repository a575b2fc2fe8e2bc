"""The GitHub workflows: valid against GitHub's schema, wired as the pipeline promises, and the
changed-environments logic they run, on sample path lists and on a real git history."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from eksml.paths import ENVIRONMENTS_DIR, PROJECT_ROOT

WORKFLOWS = sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.yml"))
ACTION_VALIDATOR = PROJECT_ROOT / ".tools" / "node_modules" / ".bin" / "action-validator"
SCRIPT = PROJECT_ROOT / "scripts" / "changed_environments.py"

_spec = importlib.util.spec_from_file_location("changed_environments", SCRIPT)
ce = importlib.util.module_from_spec(_spec)
sys.modules["changed_environments"] = ce  # dataclasses look their module up while the class is built
_spec.loader.exec_module(ce)

KNOWN = ce.known_environments(ENVIRONMENTS_DIR)


def load_workflow(name: str) -> dict:
    # YAML 1.2 (ruamel): `on` stays the string "on", as GitHub reads it.
    return YAML(typ="safe").load((PROJECT_ROOT / ".github" / "workflows" / name).read_text())


def step_runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def step_uses(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]


# -- schema ----------------------------------------------------------------------------------------


def test_the_two_workflows_exist():
    assert [path.name for path in WORKFLOWS] == ["deploy.yml", "pull-request.yml"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_is_valid_against_githubs_schema(workflow: Path):
    if not os.access(ACTION_VALIDATOR, os.X_OK):
        pytest.skip(f"{ACTION_VALIDATOR.relative_to(PROJECT_ROOT)} is missing: run `make install` (npm install --prefix .tools)")
    result = subprocess.run([str(ACTION_VALIDATOR), str(workflow)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_a_broken_workflow(tmp_path: Path):
    """Guards the test above: a schema check that passes everything proves nothing."""
    if not os.access(ACTION_VALIDATOR, os.X_OK):
        pytest.skip(f"{ACTION_VALIDATOR.relative_to(PROJECT_ROOT)} is missing: run `make install`")
    broken = (PROJECT_ROOT / ".github" / "workflows" / "deploy.yml").read_text().replace("cancel-in-progress", "cancel-in-progres")
    (tmp_path / "deploy.yml").write_text(broken)
    result = subprocess.run([str(ACTION_VALIDATOR), str(tmp_path / "deploy.yml")], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "cancel-in-progres" in result.stdout + result.stderr


# -- wiring ----------------------------------------------------------------------------------------


def test_pull_requests_run_the_tests_and_plan_each_changed_environment():
    workflow = load_workflow("pull-request.yml")
    assert "pull_request" in workflow["on"]
    jobs = workflow["jobs"]
    assert "make test" in step_runs(jobs["test"])
    plan = jobs["plan"]
    assert plan["needs"] == "changes"
    assert plan["strategy"]["matrix"]["environment"] == "${{ fromJSON(needs.changes.outputs.environments) }}"
    runs = step_runs(plan)
    for command in ("make install", 'eksml validate "$ENVIRONMENT"', 'eksml synth "$ENVIRONMENT"', 'eksml plan "$ENVIRONMENT"'):
        assert command in runs
    assert runs.index("make install") < runs.index("eksml validate") < runs.index("eksml synth") < runs.index("eksml plan")
    assert "--emulator" in runs, "emulator environments (local) plan against the emulator"
    assert step_uses(plan, "actions/upload-artifact") and step_uses(plan, "actions/github-script")
    assert plan["permissions"]["id-token"] == "write" and plan["permissions"]["pull-requests"] == "write"
    (credentials,) = step_uses(plan, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert "emulator" in credentials["if"], "no AWS role for the emulator environment"


def test_merges_apply_one_environment_at_a_time_in_promotion_order():
    workflow = load_workflow("deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    apply = workflow["jobs"]["apply"]
    assert apply["strategy"]["max-parallel"] == 1 and apply["strategy"]["fail-fast"] is True
    assert apply["environment"] == "${{ matrix.environment }}", "staging and prod get their GitHub environment (reviewers)"
    assert "matrix.environment" in apply["concurrency"]["group"]
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert 'eksml deploy "$ENVIRONMENT" --auto-approve' in step_runs(apply)
    (credentials,) = step_uses(apply, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert apply["permissions"]["id-token"] == "write"
    assert "--apply" in step_runs(workflow["jobs"]["changes"]), "the emulator environment is never applied on merge"


# -- changed environments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "paths, expected",
    [
        (["environments/staging.yaml"], ["staging"]),
        (["environments/prod.yaml", "environments/dev.yaml"], ["dev", "prod"]),
        (["eksml/cli/plan.py"], ["local", "dev", "staging", "prod"]),
        (["modules/vpc.py", "environments/dev.yaml"], ["local", "dev", "staging", "prod"]),
        (["stacks/cluster.py"], ["local", "dev", "staging", "prod"]),
        (["pyproject.toml"], ["local", "dev", "staging", "prod"]),
        (["helm_values/prod/kserve.yaml"], ["prod"]),
        (["helm_values/kserve.yaml"], ["local", "dev", "staging", "prod"]),
        (["helm_values/gpu-operator/values.yaml"], ["local", "dev", "staging", "prod"]),
        (["README.md", "tests/test_promote.py", ".github/workflows/deploy.yml"], []),
        (["environments/retired.yaml"], []),  # deleted in the change: nothing left to plan
        (["./environments/local.yaml", ""], ["local"]),
        ([], []),
    ],
)
def test_changed_paths_map_to_environments(paths: list[str], expected: list[str]):
    assert ce.changed_environments(paths, KNOWN) == expected


def test_apply_leaves_out_emulator_environments():
    assert ce.changed_environments(["eksml/deploy/run.py"], KNOWN, apply=True) == ["dev", "staging", "prod"]
    assert ce.changed_environments(["environments/local.yaml"], KNOWN, apply=True) == []


def test_order_follows_the_tier_not_the_name(tmp_path: Path):
    for name, text in {
        "zeta.yaml": "name: zeta\ntier: dev\n",
        "alpha.yaml": "name: alpha\ntier: prod\n",
        "staging.yaml": "name: staging\n",
        "sandbox.yaml": "name: sandbox\ntier: local\nemulator: true\n",
    }.items():
        (tmp_path / name).write_text(text)
    known = ce.known_environments(tmp_path)
    assert ce.changed_environments(["eksml/x.py"], known) == ["sandbox", "zeta", "staging", "alpha"]
    assert ce.changed_environments(["eksml/x.py"], known, apply=True) == ["zeta", "staging", "alpha"]


def test_the_script_reads_stdin_and_prints_json():
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], input="environments/prod.yaml\nenvironments/dev.yaml\n",
        capture_output=True, text=True, timeout=30, check=True,
    )
    assert json.loads(result.stdout) == ["dev", "prod"]
    everything = subprocess.run([sys.executable, str(SCRIPT), "--all", "--apply"], capture_output=True, text=True, check=True)
    assert json.loads(everything.stdout) == ["dev", "staging", "prod"]


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("workflow", ["pull-request.yml", "deploy.yml"])
def test_the_workflow_step_finds_the_environments_of_a_real_commit(tmp_path: Path, workflow: str):
    """Runs the workflow's own `changed` step script against a git history, the way the runner does."""
    repo = tmp_path / "repo"
    shutil.copytree(ENVIRONMENTS_DIR, repo / "environments")
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts" / SCRIPT.name)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    with (repo / "environments" / "staging.yaml").open("a") as handle:
        handle.write("# a comment is a change too\n")
    _git(repo, "commit", "-q", "-am", "staging")
    head = _git(repo, "rev-parse", "HEAD")

    (step,) = [s for s in load_workflow(workflow)["jobs"]["changes"]["steps"] if s.get("id") == "changed"]
    output = tmp_path / "github_output"
    env = {**os.environ, "GITHUB_OUTPUT": str(output), "BASE_SHA": base, "HEAD_SHA": head, "BEFORE": base, "AFTER": head}
    subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=repo, env=env, check=True, capture_output=True, timeout=60)
    assert output.read_text().strip() == 'environments=["staging"]'

    if workflow == "deploy.yml":  # first push of a branch: no "before" commit, every real environment
        env["BEFORE"] = "0" * 40
        output.write_text("")
        subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=repo, env=env, check=True, capture_output=True, timeout=60)
        assert output.read_text().strip() == 'environments=["dev", "staging", "prod"]'


def test_the_plan_comment_carries_the_capacity_change_against_the_base():
    plan = load_workflow("pull-request.yml")["jobs"]["plan"]
    (checkout,) = step_uses(plan, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0, "the base commit must be there to compare with"
    (capacity,) = [step for step in plan["steps"] if step.get("id") == "capacity"]
    assert capacity["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert 'eksml capacity "$ENVIRONMENT" --against "$BASE_SHA" --output markdown' in capacity["run"]
    assert 'capacity-$ENVIRONMENT.md' in capacity["run"]
    (comment,) = step_uses(plan, "actions/github-script")
    assert "capacity-${env}.md" in comment["with"]["script"], "the comment posts the capacity change"
    (artifact,) = step_uses(plan, "actions/upload-artifact")
    assert "capacity-${{ matrix.environment }}.md" in artifact["with"]["path"]
