"""The AWS layer's guards (checked before anything is synthesized), the order stacks run in, and
its progress adapter.

The real runs (apply, second deploy, destroy, preview) are in test_local_default.py and
test_preview_plan.py; interrupting stacks that run side by side is in test_terraform_runner.py.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest

from eksml.aws.events import StepFinished, StepResult, StepStarted
from eksml.aws.run import StackResult, _plan_or_apply, _plan_then_apply, _Run, _settled, run_stacks
from eksml.aws.scheduler import in_dependency_order
from eksml.deploy.progress_events import ProgressEvents
from eksml.config import load_environment
from eksml.deploy.progress import Progress
from eksml.emulator.process import Emulator
from eksml.errors import StageError
from eksml.aws.synth import SynthesizedStack
from eksml.emulator.target import AwsTarget
from eksml.terraform import ApplyResult, Plan, ResourceChange, TerraformEvent


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
    events(StepFinished("plan", "network", 1.0, StepResult.CHANGED, "1 to add, 0 to change, 0 to destroy"))
    events(StepStarted("apply", "network"))
    events(TerraformEvent("network", "apply", "apply_start", "aws_vpc.main: Creating...", "aws_vpc.main"))
    events(StepFinished("apply", "network", 2.0, StepResult.FAILED, "stage 'apply' failed at aws_vpc.main"))
    events(StepFinished("plan", "cluster", 0.0, StepResult.SKIPPED, "waits for outputs of network"))
    assert [(s.stage, s.target, s.result) for s in progress.steps] == [
        ("plan", "network", "changed"), ("apply", "network", "failed"), ("plan", "cluster", "skipped")]
    assert progress.steps[0].note == "1 to add, 0 to change, 0 to destroy"
    text = stream.getvalue()
    assert "aws_vpc.main: Creating..." in text  # resource progress shown
    assert "Plan to create" not in text  # the plan listing is the summary's job, not progress noise


# -- the order stacks run in -------------------------------------------------------------------------

# The platform's stack graph: data and karpenter do not wait for each other, nor data for the cluster.
GRAPH = {"network": (), "cluster": ("network",), "data": ("network",), "karpenter": ("cluster",),
         "platform": ("cluster", "data", "karpenter")}


def _stacks() -> list[SynthesizedStack]:
    return [SynthesizedStack(name, Path("/nonexistent") / name, deps) for name, deps in GRAPH.items()]


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: list[str] = []
        self.finished: list[str] = []

    def run(self, stack: SynthesizedStack, done: dict[str, StackResult], hold: float = 0.0) -> StackResult:
        with self.lock:
            self.started.append(stack.name)
            finished_so_far = set(self.finished)
        time.sleep(hold)
        with self.lock:
            self.finished.append(stack.name)
        return StackResult(stack.name, None, outputs={"seen": sorted(done), "finished_before": sorted(finished_so_far)})


def test_a_stack_starts_after_its_upstream_stacks_and_independent_ones_run_side_by_side():
    both_running = threading.Barrier(2, timeout=5)  # cluster and data must be running at the same time
    recorder = Recorder()

    def run_one(stack, done):
        if stack.name in ("cluster", "data"):
            both_running.wait()  # BrokenBarrierError (a failure) if they ran one after the other
        return recorder.run(stack, done, hold=0.05)

    results = in_dependency_order(_stacks(), run_one)
    assert set(results) == set(GRAPH)
    for name, deps in GRAPH.items():
        assert set(deps) <= set(results[name].outputs["finished_before"]), name
        assert set(deps) <= set(results[name].outputs["seen"]), name  # their results are handed over


def test_after_a_failure_nothing_new_starts_and_running_stacks_finish_first():
    recorder = Recorder()

    def run_one(stack, done):
        if stack.name == "cluster":
            raise StageError("apply", "cluster failed", resource="aws_eks_cluster.eks")
        return recorder.run(stack, done, hold=0.3 if stack.name == "data" else 0.0)

    with pytest.raises(StageError, match="cluster failed"):
        in_dependency_order(_stacks(), run_one)
    assert recorder.finished == ["network", "data"]  # data (already running) finished; nothing after cluster ran


def test_destroy_takes_a_stack_only_after_every_stack_reading_it():
    recorder = Recorder()
    results = in_dependency_order(_stacks(), recorder.run, reverse=True)
    assert recorder.started[0] == "platform" and recorder.started[-1] == "network"
    for name, deps in GRAPH.items():
        for upstream in deps:  # the upstream stack is destroyed after this one
            assert name in results[upstream].outputs["finished_before"], (name, upstream)


def test_with_approvals_stacks_run_one_at_a_time_in_declared_order():
    recorder = Recorder()
    active = []

    def run_one(stack, done):
        active.append(stack.name)
        assert len(active) == 1, active
        try:
            return recorder.run(stack, done, hold=0.01)
        finally:
            active.remove(stack.name)

    in_dependency_order(_stacks(), run_one, side_by_side=False)
    assert recorder.started == list(GRAPH)


class StandInRunner:
    """Stands in for the terraform runner (the real one is tested in test_terraform_runner.py):
    every plan creates one resource; records what was applied."""

    def __init__(self, name: str, applied: list[str]) -> None:
        self.name, self.applied = name, applied

    def init(self, reconfigure: bool = False) -> None:
        pass

    def plan(self) -> Plan:
        change = ResourceChange(f"terraform_data.{self.name}", "terraform_data", ("create",))
        return Plan(self.name, Path("/nonexistent/plan"), True, (change,))

    def apply(self, plan: Plan) -> ApplyResult:
        self.applied.append(self.name)
        return ApplyResult(self.name, 1, 0, 0, 0.0, outputs={"id": {"value": self.name}})

    def outputs(self) -> dict:
        return {"id": {"value": self.name}}


def test_a_declined_plan_applies_nothing_to_its_stack_and_stops_the_run(monkeypatch):
    monkeypatch.setattr("eksml.aws.run._has_outputs", lambda stack, values: bool(values))
    applied: list[str] = []
    asked: list[str] = []
    runners = {name: StandInRunner(name, applied) for name in GRAPH}

    def approve(stack: str, plan: Plan) -> bool:
        asked.append(stack)
        assert plan.changes[0].address == f"terraform_data.{stack}"  # the person sees this stack's plan
        return stack != "data"

    with pytest.raises(StageError, match="plan of stack data was not approved"):
        _plan_or_apply(_Run(load_environment("dev"), "apply", _stacks(), runners, lambda event: None, None,
                            preview=False, allow_destroy=False, reconfigure=False, approve=approve), {})
    assert asked == ["network", "cluster", "data"]  # one prompt at a time, in order
    assert applied == ["network", "cluster"]  # nothing after the refusal


def test_stacks_settled_by_the_all_at_once_plan_are_not_planned_again(monkeypatch):
    monkeypatch.setattr("eksml.aws.run._has_outputs", lambda stack, values: bool(values))
    planned = {name: StackResult(name, Plan(name, None, name == "data", ()), outputs={"id": name}) for name in GRAPH}
    settled = _settled(_stacks(), planned)
    assert set(settled) == {"network", "cluster", "karpenter"}  # platform reads the changed data stack
    applied: list[str] = []
    runners = {name: StandInRunner(name, applied) for name in GRAPH}
    results = _plan_or_apply(_Run(load_environment("dev"), "apply", _stacks(), runners, lambda event: None, None,
                                  preview=False, allow_destroy=False, reconfigure=False), settled)
    assert applied == ["data", "platform"]
    assert [r.name for r in results] == list(GRAPH)
    assert all(results[i] is settled[r.name] for i, r in enumerate(results) if r.name in settled)


class PartlyDeployedRunner:
    """A stack of an environment where only `applied` stacks were ever applied (by the CDKTF CLI, say):
    those plan no changes and have outputs; the others plan creations; platform, which reads outputs
    the unapplied stacks do not have, fails to plan."""

    def __init__(self, name: str, applied: set[str], plans: list[str]) -> None:
        self.name, self.deployed, self.plans = name, name in applied, plans

    def init(self, reconfigure: bool = False) -> None:
        pass

    def plan(self) -> Plan:
        self.plans.append(self.name)
        if self.name == "platform":
            raise StageError("plan", "Unsupported attribute: this object does not have an attribute named \"db\"")
        changes = () if self.deployed else (ResourceChange(f"terraform_data.{self.name}", "terraform_data", ("create",)),)
        return Plan(self.name, None, bool(changes), changes)

    def output_values(self) -> dict:
        return {"id": self.name} if self.deployed else {}


def test_a_plan_of_a_partly_deployed_environment_plans_each_stack_once(monkeypatch):
    """Stacks planned at once are the plan's answer even when others could not be planned yet: only
    those go stack by stack, and one whose upstream has no outputs is reported blocked, unplanned."""
    monkeypatch.setattr("eksml.aws.run._has_outputs", lambda stack, values: bool(values))
    plans: list[str] = []
    runners = {name: PartlyDeployedRunner(name, {"network", "cluster"}, plans) for name in GRAPH}
    run = _Run(load_environment("dev"), "plan", _stacks(), runners, lambda event: None, None,
               preview=False, allow_destroy=False, reconfigure=False)
    results = {r.name: r for r in _plan_then_apply(run, at_once=True)}
    assert sorted(plans) == sorted(GRAPH)  # platform's failed attempt included, nothing twice
    assert [name for name, r in results.items() if r.plan and not r.has_changes] == ["network", "cluster"]
    assert [name for name, r in results.items() if r.has_changes] == ["data", "karpenter"]
    assert results["platform"].plan is None and results["platform"].blocked_by == ("data", "karpenter")
