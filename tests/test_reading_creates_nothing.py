"""Reading commands (plan, status) create nothing: a never-deployed environment is said to be not deployed."""

from __future__ import annotations

import pytest

from eksml.aws.run import run_stacks
from eksml.config import load_environment
from eksml.emulator.process import Emulator
from eksml.emulator.target import emulator_session
from eksml.errors import StageError


@pytest.mark.emulator
def test_a_plan_of_a_never_deployed_environment_creates_no_state_bucket(tmp_path, monkeypatch):
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    env = load_environment("local")
    with Emulator(region=env.region) as emulator:
        with pytest.raises(StageError) as refused:
            run_stacks(env, "plan", emulator=emulator)  # what `eksml plan` and `eksml status` run
        s3 = emulator_session(env.region).client("s3", endpoint_url=emulator.endpoint_url)
        buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert refused.value.stage == "state" and "is not deployed" in str(refused.value)
    assert buckets == []
    assert not (tmp_path / "work" / "local" / "terraform").exists(), "not even a synth"
