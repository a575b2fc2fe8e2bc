"""The CDKTF CLI path CI users run (`cdktf synth/diff/deploy` from the repository root, EKSML_ENV
choosing the environment) on `local` against the emulator, sharing state with eksml.

cdktf synthesizes through eksml's app and deploys network and cluster, the second reading the
first's outputs across stacks, with the provider from eksml's mirror; `cdktf diff` then finds
nothing to do, and `eksml status local` (its own Terraform working directories, a new emulator
process restored from the snapshot, the same S3 state) finds those two in sync, the two that need
only them planned as not applied, and platform waiting for those. Deploying every stack is
test_local_default's part: here the RDS instance's provider waits would only repeat it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eksml.config import load_environment
from eksml.contract.names import STACK_NAMES, StackName
from eksml.emulator.process import persistent_emulator

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parent.parent
CDKTF = ROOT / ".tools" / "node_modules" / ".bin" / "cdktf"
ENV = load_environment("local")


def _shell(script: str, environ: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=timeout)


DEPLOYED = (StackName.NETWORK, StackName.CLUSTER)


def test_cdktf_deploys_local_and_eksml_sees_what_it_applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert CDKTF.is_file(), "cdktf-cli is missing from .tools: run `make install`"
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))  # the emulator's state, here and in the commands
    environ = dict(os.environ, EKSML_WORK_DIR=str(tmp_path / "work"), EKSML_ENV="local", CI="true")
    out = tmp_path / "cdktf.out"
    stacks = " ".join(DEPLOYED)
    with persistent_emulator("local", ENV.region) as emulator:
        setup = (f'eval "$({sys.executable} scripts/cdktf_env.py --emulator {emulator.endpoint_url} --region {ENV.region})"'
                 f" && {sys.executable} scripts/bootstrap_state.py local --endpoint-url {emulator.endpoint_url}")
        deployed = _shell(f"{setup} && {CDKTF} deploy {stacks} --auto-approve --skip-provider-lock --output {out}", environ, timeout=900)
        assert deployed.returncode == 0, deployed.stdout[-4000:] + deployed.stderr[-4000:]
        diffed = _shell(f"{setup} && {CDKTF} diff network --skip-synth --skip-provider-lock --output {out}", environ, timeout=300)
        assert diffed.returncode == 0, diffed.stdout[-4000:] + diffed.stderr[-4000:]
        assert "No changes" in diffed.stdout, diffed.stdout[-2000:]
    status = subprocess.run([sys.executable, "-m", "eksml", "status", "local", "--output", "json"], cwd=ROOT,
                            env=environ, capture_output=True, text=True, timeout=600)
    assert status.returncode == 0, status.stdout + status.stderr
    drift = {s["stack"]: s["drift"] for s in json.loads(status.stdout)["stacks"]}
    assert list(drift) == list(STACK_NAMES)
    assert [drift[stack] for stack in DEPLOYED] == ["in sync"] * len(DEPLOYED), drift
    for stack in (StackName.DATA, StackName.KARPENTER):  # planned on the outputs network and cluster gave
        assert drift[stack].startswith("not applied (") and " to add" in drift[stack], drift
    assert drift[StackName.PLATFORM] == "blocked: waits for data, karpenter", drift
