"""`eksml deploy` and `eksml destroy`: every stage in order, each timed, the first failure stops the run.

Deploy: validate → preflight (static scheduling check, before anything is applied) → emulator (for
emulator environments) → aws (synth, state bucket, init/plan/apply per stack) → render → install
(with a cluster) → verify. Destroy: validate → uninstall releases (with a cluster) → leftovers
(controller-made load balancers, volumes, security groups, instances) → stacks in reverse.
"""

from __future__ import annotations

import json
import signal
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

from eksml.config import Environment, load_environment
from eksml.deploy.progress import Progress
from eksml.deploy.run_lock import exclusive_run
from eksml.errors import ConfigError, Issue, StageError, first_line
from eksml.contract.outputs import AwsOutputs
from eksml.outputs import predict_outputs
from eksml.workspace import Workspace

# Stages a failed deploy can be resumed from, in order. Terraform stacks already applied plan to
# "no changes", so resuming at `aws` costs one plan per finished stack, never a second apply.
DEPLOY_STAGES = ("aws", "render", "install", "verify")

Approver = Callable[[str, object], bool]


@dataclass(frozen=True)
class DeployOptions:
    auto_approve: bool = False
    allow_destroy: bool = False
    from_stage: Optional[str] = None
    emulator: bool = False  # run against this environment's own persisted emulator instead of AWS
    kubeconfig: Optional[Path] = None
    kube_context: Optional[str] = None
    interactive: bool = False  # a person can answer a confirmation prompt
    confirm: Optional[Approver] = None  # asks that person (stack name, plan) -> yes/no


@dataclass
class DeployReport:
    env: Environment
    outputs: Optional[AwsOutputs] = None
    render_dir: Optional[Path] = None
    render_index: Optional[Path] = None
    not_emulated: tuple[str, ...] = ()
    emulated: bool = False
    installed: bool = False
    changed_stacks: list[str] = field(default_factory=list)
    leftovers_removed: list[str] = field(default_factory=list)


def _stop_on_sigterm() -> Callable[[], None]:
    """SIGTERM ends a run the way Ctrl-C does: terraform gets the signal once and stops cleanly."""

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)


def _require_approval(env: Environment, options: DeployOptions, uses_emulator: bool, command: str) -> None:
    if uses_emulator or options.auto_approve or options.interactive:
        return
    raise ConfigError([Issue(
        f"environments/{env.name}.yaml", "",
        f"`eksml {command} {env.name}` changes a real AWS account and nobody can confirm here (no terminal); "
        "pass --auto-approve to proceed without a prompt",
    )])


@contextmanager
def _emulator_if_needed(env: Environment, uses_emulator: bool, progress: Progress) -> Iterator[object]:
    if not uses_emulator:
        yield None
        return
    from eksml.emulator.process import persistent_emulator

    emulator = persistent_emulator(env.name, env.region)
    with progress.step("emulator", "start") as step:
        emulator.start()
        step.note = emulator.endpoint_url
    try:
        yield emulator
    finally:
        with progress.step("emulator", "stop") as step:
            emulator.stop()
            step.note = f"state kept in {emulator.state_dir}"


def _preflight(env: Environment) -> None:
    """The Kubernetes layer's static checks need only names, so a bad placement fails before any apply."""
    from eksml.k8s.model.platform import build_platform
    from eksml.k8s.checks.scheduling import check_scheduling

    check_scheduling(build_platform(env, predict_outputs(env)))


def _stages_to_run(from_stage: Optional[str]) -> tuple[str, ...]:
    if from_stage is None:
        return DEPLOY_STAGES
    if from_stage not in DEPLOY_STAGES:
        raise ConfigError([Issue("--from-stage", "", f"'{from_stage}' is not a stage; allowed: {', '.join(DEPLOY_STAGES)}")])
    return DEPLOY_STAGES[DEPLOY_STAGES.index(from_stage):]


def deploy(env_ref: str, options: DeployOptions, progress: Progress) -> DeployReport:
    with progress.step("validate", env_ref):
        env = load_environment(env_ref)
        stages = _stages_to_run(options.from_stage)
    uses_emulator = env.emulator or options.emulator
    _require_approval(env, options, uses_emulator, "deploy")
    report = DeployReport(env, emulated=uses_emulator)
    workspace = Workspace.of(env.name)
    restore_signals = _stop_on_sigterm()
    current = "preflight"
    try:
        with ExitStack() as stack:
            stack.enter_context(exclusive_run(workspace.run_lock, f"deploy {env.name}"))
            with progress.step("preflight", "scheduling"):
                _preflight(env)
            emulator = stack.enter_context(_emulator_if_needed(env, uses_emulator, progress))
            current = "aws"
            if "aws" in stages:
                report.outputs = _apply_aws(env, options, emulator, progress, report)
            else:
                report.outputs = _saved_outputs(env)
                progress.skip("aws", "", f"resumed from {options.from_stage}")
            current = "render"
            if "render" in stages:
                from eksml.k8s.rendering.render import render_platform

                with progress.step("render", "kubernetes layer") as step:
                    rendered = render_platform(env, report.outputs)
                    step.note = f"{len(rendered.files)} files"
                report.render_dir, report.render_index = rendered.out_dir, rendered.index
            current = "install"
            if options.kubeconfig or options.kube_context:
                from eksml.k8s.cluster.install import install_platform

                with progress.step("install", "helm releases") as step:
                    result = install_platform(
                        env, report.outputs, options.kubeconfig, options.kube_context,
                        on_event=lambda event: progress.detail(f"{event.component}: {event.phase} {event.message}"),
                    )
                    step.note = f"{len(result.releases)} releases, {result.objects_applied} objects"
                report.installed = True
            else:
                reason = "the emulator has no Kubernetes API" if uses_emulator else "no --kubeconfig/--context given"
                progress.skip("install", "helm releases", f"rendered only: {reason}")
            current = "verify"
            with progress.step("verify", "aws resources") as step:
                step.note = _verify(env, report.outputs, emulator)
        _record_run(workspace, "deploy", ok=True)
        return report
    except StageError as exc:
        _record_run(workspace, "deploy", ok=False, stage=current, error=exc.message)
        if current in DEPLOY_STAGES and exc.stage not in ("lock", "emulator"):
            raise exc.with_hint(f"after fixing it, resume with: eksml deploy {env.name} --from-stage {current}") from None
        raise
    except (ConfigError, KeyboardInterrupt) as exc:
        _record_run(workspace, "deploy", ok=False, stage=current, error=first_line(exc) if str(exc) else "interrupted")
        raise
    finally:
        restore_signals()


def _apply_aws(env, options, emulator, progress: Progress, report: DeployReport) -> AwsOutputs:
    from eksml.aws.run import run_stacks
    from eksml.deploy.progress_events import ProgressEvents
    from eksml.emulator.deviations import NOT_EMULATED

    approve = None if (options.auto_approve or report.emulated) else options.confirm
    result = run_stacks(
        env, "apply", emulator=emulator, on_event=ProgressEvents(progress),
        allow_destroy=options.allow_destroy, approve=approve,
    )
    report.not_emulated = NOT_EMULATED if report.emulated else ()
    report.changed_stacks = [stack.name for stack in result.stacks if stack.has_changes]
    _record_history(Workspace.of(env.name), result)
    return result.outputs


def _saved_outputs(env: Environment) -> AwsOutputs:
    path = Workspace.of(env.name).outputs_file
    if not path.is_file():
        raise StageError("aws", f"no outputs of an earlier apply at {path}", hint=f"run `eksml deploy {env.name}` without --from-stage")
    return AwsOutputs.load(path)


def _verify(env: Environment, outputs: AwsOutputs, emulator) -> str:
    """Ask AWS (or the emulator) whether what the environment describes is there and healthy."""
    from eksml.deploy.verify import verify_aws

    problems = verify_aws(env, outputs, _session(env, emulator))
    if problems:
        raise StageError("verify", "; ".join(problems))
    return f"cluster {outputs.cluster_name}, {len(env.node_pools)} node groups, {len(outputs.bucket_names)} buckets"


def _session(env: Environment, emulator):
    """boto3 for where the environment lives: the emulator (every client pointed at it) or AWS."""
    import boto3

    if emulator is None:
        return boto3.session.Session(region_name=env.region)
    from eksml.emulator.target import emulator_session

    session = emulator_session(env.region)
    original = session.client

    def client(service, *args, **kwargs):
        kwargs.setdefault("endpoint_url", emulator.endpoint_url)
        return original(service, *args, **kwargs)

    session.client = client  # type: ignore[method-assign]
    return session


def destroy(env_ref: str, options: DeployOptions, progress: Progress) -> DeployReport:
    with progress.step("validate", env_ref):
        env = load_environment(env_ref)
    uses_emulator = env.emulator or options.emulator
    if env.protected and not options.allow_destroy:
        raise StageError(
            "destroy", f"environment '{env.name}' is protected ({env.resolved_tier.value}): destroy is refused",
            hint="pass --allow-destroy if you really mean to delete its database, buckets and cluster",
        )
    _require_approval(env, options, uses_emulator, "destroy")
    report = DeployReport(env, emulated=uses_emulator)
    workspace = Workspace.of(env.name)
    restore_signals = _stop_on_sigterm()
    try:
        with ExitStack() as stack:
            stack.enter_context(exclusive_run(workspace.run_lock, f"destroy {env.name}"))
            emulator = stack.enter_context(_emulator_if_needed(env, uses_emulator, progress))
            if options.kubeconfig or options.kube_context:
                from eksml.k8s.cluster.install import uninstall_platform

                with progress.step("uninstall", "helm releases") as step:
                    removed = uninstall_platform(env, options.kubeconfig, options.kube_context)
                    step.note = f"{len(removed)} releases removed; controllers delete their load balancers and volumes"
            else:
                progress.skip("uninstall", "helm releases", "no cluster given")
            with progress.step("leftovers", "tagged with the cluster") as step:
                report.leftovers_removed = _remove_leftovers(env, emulator, progress)
                step.note = f"{len(report.leftovers_removed)} removed" if report.leftovers_removed else "none found"
            from eksml.aws.run import run_stacks
            from eksml.deploy.progress_events import ProgressEvents

            run_stacks(env, "destroy", emulator=emulator, on_event=ProgressEvents(progress), allow_destroy=options.allow_destroy)
        workspace.history_file.unlink(missing_ok=True)
        _record_run(workspace, "destroy", ok=True)
        return report
    finally:
        restore_signals()


def _remove_leftovers(env: Environment, emulator, progress: Progress) -> list[str]:
    from eksml.deploy.leftovers import find_leftovers, remove_leftovers

    session = _session(env, emulator)
    vpc_id = None
    saved = Workspace.of(env.name).outputs_file
    if saved.is_file():
        vpc_id = AwsOutputs.load(saved).vpc_id
    leftovers = find_leftovers(env.cluster.name, vpc_id, session)
    remove_leftovers(leftovers, session, progress.detail)
    return [str(item) for item in leftovers]


def _record_run(workspace: Workspace, command: str, *, ok: bool, stage: str | None = None,
                error: str | None = None) -> None:
    workspace.root.mkdir(parents=True, exist_ok=True)
    record = {"command": command, "ok": ok, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "failed_stage": stage, "error": error}
    workspace.last_run_file.write_text(json.dumps(record, indent=2) + "\n")


def _record_history(workspace: Workspace, result) -> None:
    """Per stack: when it was last applied and what changed; `eksml status` reads it."""
    path = workspace.history_file
    history = json.loads(path.read_text()) if path.is_file() else {}
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for stack in result.stacks:
        entry = history.setdefault(stack.name, {})
        entry["last_checked"] = now
        if stack.applied is not None:
            entry["last_applied"] = now
            entry["last_change"] = stack.applied.summary
    path.write_text(json.dumps(history, indent=2, sort_keys=True) + "\n")


def load_history(env: Environment) -> dict:
    path = Workspace.of(env.name).history_file
    return json.loads(path.read_text()) if path.is_file() else {}
