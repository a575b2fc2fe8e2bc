"""The CDKTF CLI path CI users run (`cdktf synth/diff/deploy` from the repository root, EKSML_ENV
choosing the environment) on `local` against the emulator, sharing state with eksml.

One deploy (about 2.5 minutes of provider waits, the RDS instance the longest): cdktf synthesizes
through eksml's app, applies the five stacks in dependency order with the provider from eksml's
mirror, `cdktf diff` then finds nothing to do, and `eksml status local` (its own Terraform working
directories, a new emulator process restored from the snapshot, the same S3 state) finds every
stack in sync.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eksml.config import load_environment
from eksml.contract.names import STACK_NAMES
from eksml.emulator.process import persistent_emulator

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parent.parent
CDKTF = ROOT / ".tools" / "node_modules" / ".bin" / "cdktf"
ENV = load_environment("local")


def _shell(script: str, environ: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=timeout)


def test_cdktf_deploys_local_and_eksml_sees_every_stack_in_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert CDKTF.is_file(), "cdktf-cli is missing from .tools: run `make install`"
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))  # the emulator's state, here and in the commands
    environ = dict(os.environ, EKSML_WORK_DIR=str(tmp_path / "work"), EKSML_ENV="local", CI="true")
    out = tmp_path / "cdktf.out"
    stacks = " ".join(STACK_NAMES)
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
    assert drift == {stack: "in sync" for stack in STACK_NAMES}
