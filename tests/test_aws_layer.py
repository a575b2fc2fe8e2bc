"""The AWS layer's guards (checked before anything is synthesized) and its progress adapter.

The real runs (apply, second plan, destroy, preview) are in test_emulator_apply.py.
"""

from __future__ import annotations

import io

import pytest

from eksml.aws_layer import ProgressEvents, StepFinished, StepStarted, run_stacks
from eksml.config import load_environment
from eksml.deploy.progress import Progress
from eksml.emulator import Emulator
from eksml.errors import StageError
from eksml.synth import AwsTarget
from eksml.terraform import TerraformEvent


def test_emulator_environment_never_runs_against_a_real_account():
    with pytest.raises(StageError) as caught:
        run_stacks(load_environment("local"), "plan", AwsTarget())
    assert "emulator environment" in str(caught.value)


def test_protected_environment_refuses_destroy():
    with pytest.raises(StageError) as caught:
        run_stacks(load_environment("prod"), "destroy", AwsTarget())
    assert caught.value.stage == "destroy" and "--allow-destroy" in caught.value.hint


def test_preview_needs_a_throwaway_emulator(tmp_path):
    with pytest.raises(ValueError):
        run_stacks(load_environment("dev"), "plan", preview=True)
    with pytest.raises(ValueError):
        run_stacks(load_environment("dev"), "apply", emulator=Emulator(state_dir=tmp_path), preview=True)


def test_progress_adapter_records_each_step_with_its_result():
    stream = io.StringIO()
    progress = Progress(stream=stream, live=False)
    events = ProgressEvents(progress)
    events(StepStarted("plan", "network"))
    events(TerraformEvent("network", "plan", "planned_change", "aws_vpc.main: Plan to create", "aws_vpc.main"))
    events(StepFinished("plan", "network", 1.0, "changed", "1 to add, 0 to change, 0 to destroy"))
    events(StepStarted("apply", "network"))
    events(TerraformEvent("network", "apply", "apply_start", "aws_vpc.main: Creating...", "aws_vpc.main"))
    events(StepFinished("apply", "network", 2.0, "failed", "stage 'apply' failed at aws_vpc.main"))
    events(StepFinished("plan", "cluster", 0.0, "skipped", "waits for outputs of network"))
    assert [(s.stage, s.target, s.result) for s in progress.steps] == [
        ("plan", "network", "changed"), ("apply", "network", "failed"), ("plan", "cluster", "skipped")]
    assert progress.steps[0].note == "1 to add, 0 to change, 0 to destroy"
    text = stream.getvalue()
    assert "aws_vpc.main: Creating..." in text  # resource progress shown
    assert "Plan to create" not in text  # the plan listing is the summary's job, not progress noise
