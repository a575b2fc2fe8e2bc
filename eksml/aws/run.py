"""The AWS layer of an environment: synthesize, then init + plan (+ apply) every stack.

A stack starts once the stacks it reads from are done; independent ones run side by side.

Stacks read their upstream stacks' outputs through `terraform_remote_state`, so a stack can only be
planned once its upstream stacks have state. How `plan` handles an upstream stack that has never
been applied depends on where it runs:

- `preview=True` (a throwaway emulator): after an upstream stack is planned, a state of stand-in
  values of its outputs is written into the emulator (`eksml.aws.preview`), so every downstream
  stack gets a full plan, with placeholders where values come from upstream outputs.
- otherwise (real AWS, or the persisted emulator of `local`): nothing is ever applied by a plan; a
  downstream stack whose upstream has no outputs yet is reported as blocked (with the reason), not
  guessed at.

Destroy runs in reverse: a stack goes once every stack reading from it is gone. Protected
environments (staging, prod) refuse a plan that would replace or destroy stateful resources
unless `allow_destroy` is set.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eksml.aws.events import EventCallback, StepFinished, StepResult, StepStarted, step
from eksml.aws.preview import write_stand_in_state
from eksml.aws.protection import protected_changes
from eksml.aws.run_result import Action, RunResult, StackResult
from eksml.aws.scheduler import in_dependency_order
from eksml.aws.synth import SynthesizedStack, synthesize_if_changed
from eksml.config.models import Environment
from eksml.contract.names import STACK_OUTPUTS
from eksml.contract.outputs import AwsOutputs
from eksml.outputs import outputs_from_terraform
from eksml.emulator.target import AwsTarget
from eksml.errors import StageError, first_line
from eksml.terraform import SIGNALS, ApplyResult, Plan, Terraform, TerraformCli, prepare_terraform
from eksml.workspace import Workspace, shared_terraform_dir

if TYPE_CHECKING:
    from eksml.emulator.process import Emulator

def run_stacks(
    env: Environment,
    action: Action,
    target: AwsTarget | None = None,
    *,
    on_event: EventCallback | None = None,
    emulator: "Emulator | None" = None,
    preview: bool = False,
    allow_destroy: bool = False,
    approve: Callable[[str, Plan], bool] | None = None,
    parallelism: int | None = None,
    terraform: TerraformCli | None = None,
    workspace: Workspace | None = None,
) -> RunResult:
    """Run `action` over every stack of `env`.

    `approve`: asked with (stack, plan) before a saved plan is applied; a no stops the run.
    `emulator`: the running emulator to use (its endpoint becomes the target; a persistent one is
    snapshotted after every applied stack). `preview`: plan only, and only against a throwaway
    emulator (see the module docstring). `workspace`: instead of .eksml/<env> (tests).
    """
    target = _checked_target(env, action, target, emulator, preview, allow_destroy)
    report = on_event or (lambda event: None)
    begun = time.monotonic()
    # A throwaway preview keeps its own working directories: the env's own .terraform dirs stay
    # connected to the env's real backend.
    workspace = workspace or Workspace.of(env.name)
    root = workspace.terraform_dir("preview" if preview else target.flavour)

    if action == "plan" and not preview:  # a reading command creates nothing: not deployed is said so
        _ensure_state_bucket(env, target, create=False)
    cli, stacks = _synthesized(env, target, root, terraform, report)
    if action != "plan" or preview:
        with step(report, "state", env.state.bucket):
            _ensure_state_bucket(env, target)
    runners = _runners(env, target, stacks, root, cli, report, parallelism, preview)
    # The emulator's port changes every run: its backend settings change, its state location does not.
    run = _Run(env, action, stacks, runners, report, emulator, preview, allow_destroy,
               reconfigure=target.endpoint_url is not None, approve=approve)
    if action == "destroy":
        results = _destroy(stacks, runners, report, emulator, run.reconfigure)
    else:
        results = _plan_then_apply(run, at_once=workspace.outputs_file.is_file() or action == "plan")
    platform_outputs, saved = _record_outputs(env, action, results, workspace)
    return RunResult(env.name, action, tuple(results), platform_outputs, saved, time.monotonic() - begun, preview)


def _synthesized(env: Environment, target: AwsTarget, root: Path, terraform: TerraformCli | None,
                 report: EventCallback) -> tuple[TerraformCli, list[SynthesizedStack]]:
    with step(report, "synth", "") as outcome:
        cli = terraform or prepare_terraform(shared_terraform_dir())
        (root / "synth").mkdir(parents=True, exist_ok=True)
        stacks, reused = synthesize_if_changed(env, root / "synth", target)
        outcome.note = "reused: environment and code unchanged" if reused else ""
    return cli, stacks


def _runners(env: Environment, target: AwsTarget, stacks: list[SynthesizedStack], root: Path,
             cli: TerraformCli, report: EventCallback, parallelism: int | None,
             preview: bool) -> dict[str, Terraform]:
    return {
        stack.name: Terraform(
            stack=stack.name,
            directory=stack.directory,
            data_dir=root / stack.name,
            cli=cli,
            extra_env=target.process_environment(env.region),
            on_event=report,
            parallelism=parallelism,
            # A throwaway emulator's locks vanish with it; elsewhere a stale lock must be released.
            unlock_hint=None if preview else f"eksml unlock {env.name} {stack.name} <ID>",
        )
        for stack in stacks
    }


def _checked_target(env: Environment, action: Action, target: AwsTarget | None, emulator: "Emulator | None",
                    preview: bool, allow_destroy: bool) -> AwsTarget:
    """Where the run goes, after refusing what must never run (a preview that is not one, an emulator
    environment against an account, a protected environment's destroy)."""
    if preview and (action != "plan" or emulator is None or emulator.state_dir is not None):
        raise ValueError("preview is a plan against a throwaway emulator")
    if target is None or (emulator is not None and target.endpoint_url is None):
        target = AwsTarget(endpoint_url=emulator.endpoint_url if emulator is not None else None)
    if env.emulator and target.endpoint_url is None:
        raise StageError(
            "plan", f"environment '{env.name}' is an emulator environment: it never runs against a real account",
            hint="start the local emulator (eksml deploy/plan do that for emulator environments)",
        )
    if action == "destroy" and env.protected and not allow_destroy:
        raise StageError(
            "destroy", f"environment '{env.name}' is protected ({env.resolved_tier.value}): destroy is refused",
            hint="pass --allow-destroy if you really mean to delete its data and cluster",
        )
    return target


@dataclass(frozen=True)
class _Run:
    """One plan or apply over an environment's stacks, as the steps below need it."""

    env: Environment
    action: Action
    stacks: list[SynthesizedStack]
    runners: dict[str, Terraform]
    report: EventCallback
    emulator: "Emulator | None"
    preview: bool
    allow_destroy: bool
    reconfigure: bool
    approve: Callable[[str, Plan], bool] | None = None

    @property
    def guarded(self) -> bool:
        return self.env.protected and not self.allow_destroy


def _plan_then_apply(run: _Run, *, at_once: bool) -> list[StackResult]:
    """After a complete apply every stack's inputs exist: all stacks can be planned at once. A plan
    also tries it without this machine's record of one (a CI runner, an apply made with the CDKTF
    CLI); the stacks that could not be planned yet then go stack by stack, after the others."""
    settled: dict[str, StackResult] = {}
    if not run.preview and run.approve is None and at_once:
        planned = _plan_all_at_once(run.stacks, run.runners, run.report, run.reconfigure)
        if run.guarded:
            for result in planned.values():
                _refuse_protected_changes(result.name, result.plan)
        changes = any(result.has_changes for result in planned.values())
        if len(planned) == len(run.stacks) and not (run.action == "apply" and changes):
            return [planned[stack.name] for stack in run.stacks]
        # Changes are applied in order, so only stacks nothing will change stay settled. A plan
        # applies nothing: every stack planned at once is its answer already.
        settled = _settled(run.stacks, planned) if run.action == "apply" else _with_needed_outputs(run, planned)
    return _plan_or_apply(run, settled)


def _with_needed_outputs(run: _Run, planned: dict[str, StackResult]) -> dict[str, StackResult]:
    """A stack planned with changes has not had its outputs read; a downstream stack planned next needs them."""
    needed = {dep for stack in run.stacks for dep in stack.depends_on}
    complete = dict(planned)
    for name, result in planned.items():
        if result.has_changes and name in needed:
            with step(run.report, "output", name):
                complete[name] = replace(result, outputs=run.runners[name].output_values())
    return complete


def _record_outputs(env: Environment, action: Action, results: list[StackResult],
                    workspace: Workspace) -> tuple[AwsOutputs | None, Path | None]:
    if action == "apply":
        outputs_by_stack = {r.name: {k: {"value": v} for k, v in r.outputs.items()} for r in results}
        platform_outputs = outputs_from_terraform(env, outputs_by_stack)
        platform_outputs.save(workspace.outputs_file)
        return platform_outputs, workspace.outputs_file
    if action == "destroy":
        workspace.outputs_file.unlink(missing_ok=True)  # nothing left that they describe
    return None, None


def plan_environment(env: Environment, *, preview: bool = False, on_event: EventCallback | None = None) -> RunResult:
    """`eksml plan`: a real plan where the environment lives, or a full preview in a throwaway emulator.

    preview: a fresh emulator, discarded afterwards; unapplied upstream stacks get stand-in outputs
    so every stack is planned (what a first deploy would create). Otherwise an emulator environment is
    planned against its persisted emulator and a cloud environment against its account.
    """
    from eksml.emulator.process import Emulator, emulator_where_env_lives

    if preview:
        with Emulator(region=env.region) as emulator:
            return run_stacks(env, "plan", on_event=on_event, emulator=emulator, preview=True)
    with emulator_where_env_lives(env.name, env.region, env.emulator) as emulator:
        return run_stacks(env, "plan", on_event=on_event, emulator=emulator)


# -- the two directions --------------------------------------------------------------------------


def _plan_or_apply(run: _Run, settled: dict[str, StackResult]) -> list[StackResult]:
    """Stack by stack in dependency order. `settled`: stacks already planned with no changes whose
    upstream stacks have none either."""
    needed_downstream = {dep for stack in run.stacks for dep in stack.depends_on}

    def run_one(stack: SynthesizedStack, done: dict[str, StackResult]) -> StackResult:
        if stack.name in settled:
            return settled[stack.name]
        begun = time.monotonic()
        missing = tuple(dep for dep in stack.depends_on if not _has_outputs(dep, done[dep].outputs))
        if missing:
            # Only reachable in a plan without preview: apply stops earlier, a preview stands in.
            note = f"waits for outputs of {', '.join(missing)} (not applied yet)"
            run.report(StepFinished("plan", stack.name, 0.0, StepResult.SKIPPED, note))
            return StackResult(stack.name, None, blocked_by=missing)
        plan, applied = _plan_and_apply_one(run, stack)
        if applied is not None and run.emulator is not None and run.emulator.state_dir is not None:
            run.emulator.snapshot()
        outputs, stood_in = _stack_outputs(run, stack, applied, needed=stack.name in needed_downstream)
        return StackResult(stack.name, plan, applied, outputs, time.monotonic() - begun, stood_in=stood_in)

    # One person answers one prompt at a time: with approvals, stacks run one after another.
    results = in_dependency_order(run.stacks, run_one, side_by_side=run.approve is None, guard=SIGNALS.relay)
    return [results[stack.name] for stack in run.stacks]


def _plan_and_apply_one(run: _Run, stack: SynthesizedStack) -> tuple[Plan, ApplyResult | None]:
    """Against the emulator nothing is at stake: plan and apply in one terraform run (unless someone
    wants to approve each plan). Elsewhere the saved plan is applied, so exactly what was planned
    (checked, approved) happens."""
    runner = run.runners[stack.name]
    _init(run.report, stack.name, runner, run.reconfigure)
    if run.action == "apply" and run.reconfigure and not run.env.protected and run.approve is None:
        with step(run.report, "apply", stack.name) as outcome:
            plan, applied = runner.apply_now()
            outcome.result = StepResult.of_change(plan.has_changes)
            outcome.note = applied.summary
        return plan, applied
    with step(run.report, "plan", stack.name) as outcome:
        plan = runner.plan()
        outcome.result = StepResult.of_change(plan.has_changes)
        outcome.note = plan.summary
    if run.guarded:
        _refuse_protected_changes(stack.name, plan)
    if not (plan.has_changes and run.action == "apply"):
        return plan, None
    if run.approve is not None and not run.approve(stack.name, plan):
        raise StageError("apply", f"the plan of stack {stack.name} was not approved; nothing was applied to it",
                         resource=stack.name)
    with step(run.report, "apply", stack.name) as outcome:
        applied = runner.apply(plan)
        outcome.note = applied.summary
    return plan, applied


def _init(report: EventCallback, stack: str, runner: Terraform, reconfigure: bool) -> None:
    with step(report, "init", stack) as outcome:
        if runner.init(reconfigure=reconfigure) is False:
            outcome.note = "reused: backend, providers and lock file unchanged since the last init"


def _stack_outputs(run: _Run, stack: SynthesizedStack, applied: ApplyResult | None,
                   *, needed: bool) -> tuple[dict[str, Any], bool]:
    """The stack's outputs, and whether they are stand-ins (a preview whose upstream was never applied)."""
    outputs: dict[str, Any] = {}
    reported = {k: v["value"] for k, v in (applied.outputs or {}).items() if "value" in v} if applied else {}
    if applied is not None and _has_outputs(stack.name, reported):
        outputs = reported  # sensitive outputs (cdktf's cross-stack ones) are only read by terraform
    elif run.action == "apply" or needed:
        with step(run.report, "output", stack.name):
            outputs = run.runners[stack.name].output_values()
    if run.preview and needed and not _has_outputs(stack.name, outputs):
        with step(run.report, "stand-in", stack.name):
            return write_stand_in_state(run.env.region, run.env.account_id, stack.directory, run.emulator.endpoint_url), True
    return outputs, False


def _settled(stacks: list[SynthesizedStack], planned: dict[str, StackResult]) -> dict[str, StackResult]:
    """The planned stacks nothing will change: no changes of their own, none upstream (`stacks` is in
    dependency order)."""
    settled: dict[str, StackResult] = {}
    for stack in stacks:
        result = planned.get(stack.name)
        if result is not None and not result.has_changes and all(dep in settled for dep in stack.depends_on):
            settled[stack.name] = result
    return settled


def _refuse_protected_changes(stack: str, plan: Plan) -> None:
    refused = protected_changes(stack, plan.changes)
    if refused:
        raise StageError(
            "plan", "refusing to change stateful resources of a protected environment:\n  "
            + "\n  ".join(str(change) for change in refused),
            resource=refused[0].address,
            hint="review the change; pass --allow-destroy only if losing that data is intended",
        )


def _plan_all_at_once(
    stacks: list[SynthesizedStack], runners: dict[str, Terraform], report: EventCallback, reconfigure: bool
) -> dict[str, StackResult]:
    """Plan every stack at the same time, each against the state its upstream stacks have now.

    That is the whole answer of a plan (nothing is applied in between), and of a deploy whose plans
    are all empty (a second deploy), in the time of the slowest plan rather than a chain of them.
    A stack that cannot be planned yet (it reads an output its upstream stack does not have until
    that is applied) is left out: the caller takes it stack by stack."""

    def plan_one(stack: SynthesizedStack, _done: dict[str, StackResult]) -> StackResult | None:
        runner = runners[stack.name]
        begun = time.monotonic()
        _init(report, stack.name, runner, reconfigure)
        report(StepStarted("plan", stack.name))
        planning = time.monotonic()
        try:
            plan = runner.plan()
        except StageError as exc:  # e.g. it reads an output its upstream stack does not have yet
            report(StepFinished("plan", stack.name, time.monotonic() - planning, StepResult.SKIPPED,
                                f"planned again after its upstream stacks ({first_line(exc)})"))
            return None
        report(StepFinished("plan", stack.name, time.monotonic() - planning,
                            StepResult.of_change(plan.has_changes), plan.summary))
        outputs = {}
        if not plan.has_changes:
            with step(report, "output", stack.name):
                outputs = runner.output_values()
        return StackResult(stack.name, plan, None, outputs, time.monotonic() - begun)

    results = in_dependency_order(stacks, plan_one, all_at_once=True, guard=SIGNALS.relay)
    return {stack.name: results[stack.name] for stack in stacks if results[stack.name] is not None}


def _destroy(
    stacks: list[SynthesizedStack],
    runners: dict[str, Terraform],
    report: EventCallback,
    emulator: "Emulator | None",
    reconfigure: bool,
) -> list[StackResult]:
    def destroy_one(stack: SynthesizedStack, _done: dict[str, StackResult]) -> StackResult:
        runner = runners[stack.name]
        begun = time.monotonic()
        _init(report, stack.name, runner, reconfigure)
        with step(report, "destroy", stack.name) as outcome:
            applied = runner.destroy()
            outcome.result = StepResult.of_change(bool(applied.destroyed))
            outcome.note = f"{applied.destroyed} destroyed"
        if applied.destroyed and emulator is not None and emulator.state_dir is not None:
            emulator.snapshot()
        return StackResult(stack.name, None, applied, seconds=time.monotonic() - begun)

    results = in_dependency_order(stacks, destroy_one, reverse=True, guard=SIGNALS.relay)
    return [results[stack.name] for stack in stacks]


# -- helpers -------------------------------------------------------------------------------------


def _has_outputs(stack: str, values: dict[str, Any]) -> bool:
    return all(name in values for name in STACK_OUTPUTS.get(stack, ())) and bool(values)


def _ensure_state_bucket(env: Environment, target: AwsTarget, create: bool = True) -> None:
    from eksml.aws.state_bucket import ensure_state_bucket, require_state_bucket

    session = None
    if target.endpoint_url is not None:
        from eksml.emulator.target import emulator_session

        session = emulator_session()
    (ensure_state_bucket if create else require_state_bucket)(env, endpoint_url=target.endpoint_url, session=session)
