"""The local default end to end, through the real `eksml` command as `make deploy` runs it.

One sequence, in order (each step needs the one before):
1. a deploy interrupted with SIGTERM in the middle of a Terraform apply stops cleanly (exit != 0,
   state not corrupt, the emulator's state kept);
2. a second deploy started while the next one runs fails fast on the run lock, naming the holder;
3. the next deploy converges: every stack applied, Kubernetes layer rendered, summary printed;
4. another deploy changes nothing;
5. destroy leaves nothing of the platform behind in the emulator.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eksml.emulator import persistent_emulator

pytestmark = pytest.mark.emulator

COMMAND = [sys.executable, "-m", "eksml"]
ENV_TAG = "eksml.io/environment"


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> dict[str, str]:
    environ = dict(os.environ, EKSML_WORK_DIR=str(tmp_path_factory.mktemp("work")), CI="true")
    return environ


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


@pytest.fixture(scope="module")
def interrupted(work):
    """Start a deploy and SIGTERM it while the cluster stack is being applied."""
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
    assert "apply network: ok" in output or "✓ apply network" in output
    assert (Path(work["EKSML_WORK_DIR"]) / "local" / "emulator").is_dir()


def test_concurrent_deploy_fails_fast_naming_the_holder(converged):
    _, _, _, competitor, seconds = converged
    assert competitor.returncode == 1
    assert "another run holds" in competitor.stderr and "deploy local by pid" in competitor.stderr
    assert seconds < 15


def test_next_deploy_converges_and_says_what_the_user_got(converged, work):
    code, out, err, _, _ = converged
    assert code == 0, err[-3000:]
    for stack in ("network", "cluster", "data", "platform"):
        assert f"apply {stack}" in err or f"plan {stack}" in err
    assert "Platform 'local' is deployed on the local AWS emulator" in out
    assert "not emulated aws_eks_access_entry, aws_eks_access_policy_association, aws_eks_addon" in out
    render = Path(work["EKSML_WORK_DIR"]) / "local" / "render"
    assert (render / "README.md").is_file() and list(render.glob("*.values.yaml"))
    assert "stage" in err and "total" in err  # the summary table


def test_second_deploy_changes_nothing(converged, work):
    result = _run(work, "deploy", "local")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "changed      nothing: every stack was already up to date" in result.stdout
    for stack in ("network", "cluster", "data", "platform"):
        assert f"plan {stack}: no changes" in result.stderr or f"apply {stack}: no changes" in result.stderr


def test_destroy_leaves_nothing_behind(converged, work, monkeypatch):
    result = _run(work, "destroy", "local")
    assert result.returncode == 0, result.stderr[-3000:]
    monkeypatch.setenv("EKSML_WORK_DIR", work["EKSML_WORK_DIR"])
    with persistent_emulator("local", "us-east-1") as emulator:
        ec2, eks, s3 = emulator.client("ec2"), emulator.client("eks"), emulator.client("s3")
        assert ec2.describe_vpcs(Filters=[{"Name": f"tag:{ENV_TAG}", "Values": ["local"]}])["Vpcs"] == []
        assert eks.list_clusters()["clusters"] == []
        buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert buckets == ["eksml-local-tfstate"]  # only the state bucket, like a real account
        assert emulator.client("rds").describe_db_instances()["DBInstances"] == []
