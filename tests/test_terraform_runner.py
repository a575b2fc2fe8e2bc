"""The terraform runner with a real terraform: offline provider install, plans, errors, interrupts.

Most stacks here use the built-in `terraform_data` resource: it needs no provider, so each command
takes a fraction of a second; one test installs and loads the real AWS provider from the mirror.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from eksml.errors import StageError
from eksml.terraform import (
    MIRROR_ENV,
    Interrupted,
    StateLocked,
    Terraform,
    TerraformEvent,
    find_provider_mirror,
    parse_lock_info,
    prepare_terraform,
    render_cli_config,
    stage_error,
)
from eksml.terraform.diagnostics import Diagnostic
from eksml.terraform.runner import LOCK_FILE, _alone_until_cache_filled
from eksml.terraform.setup import PROVIDER_VERSION, mirror_has_provider, terraform_platform

REAL_MIRROR = find_provider_mirror({})  # the machine's mirror (/opt/tf-plugins here)

LOCK_DETAIL = """Error message: operation error S3: PutObject, https response error StatusCode: 412, RequestID: 5B2, api error PreconditionFailed: At least one of the pre-conditions you specified did not hold
Lock Info:
  ID:        2b2b2c7a-8b5c-debc-7ec0-23f93884b8d8
  Path:      eksml-local-tfstate/eksml/local/network.tfstate
  Operation: OperationTypeApply
  Who:       alice@build-7
  Version:   1.11.4
  Created:   2026-11-23 11:46:58.728016445 +0000 UTC
  Info:      

Terraform acquires a state lock to protect the state from being written
by multiple users at the same time. Please resolve the issue above and try
again. For most commands, you can disable locking with the "-lock=false"
flag, but this is not recommended."""


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    return prepare_terraform(tmp_path_factory.mktemp("tfconfig"))


def _stack(directory: Path, config: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cdk.tf.json").write_text(json.dumps(config))
    return directory


def _runner(cli, tmp_path: Path, config: dict, events: list | None = None, name: str = "demo") -> Terraform:
    return Terraform(
        stack=name,
        directory=_stack(tmp_path / "synth" / name, config),
        data_dir=tmp_path / "work" / name,
        cli=cli,
        on_event=events.append if events is not None else None,
    )


# -- offline provider setup ------------------------------------------------------------------------


def test_cli_config_restricts_only_the_aws_provider_to_the_mirror(tmp_path):
    text = render_cli_config(Path("/mirror/dir"), tmp_path / "cache")
    assert 'path    = "/mirror/dir"' in text
    assert text.count('["registry.terraform.io/hashicorp/aws"]') == 2  # mirror include + direct exclude
    assert f'plugin_cache_dir = "{tmp_path / "cache"}"' in text
    # with the registry allowed, no provider_installation block at all: terraform's defaults apply
    assert "provider_installation" not in render_cli_config(None, tmp_path / "cache")


def test_mirror_must_hold_the_exact_provider_version(tmp_path):
    wrong = tmp_path / "registry.terraform.io" / "hashicorp" / "aws" / "5.99.0" / terraform_platform()
    wrong.mkdir(parents=True)
    binary = wrong / "terraform-provider-aws_v5.99.0_x5"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert not mirror_has_provider(tmp_path)
    with pytest.raises(StageError) as caught:
        find_provider_mirror({MIRROR_ENV: str(tmp_path)})
    assert caught.value.stage == "init"
    assert PROVIDER_VERSION in str(caught.value) and MIRROR_ENV in caught.value.hint
    assert "network" in caught.value.hint  # tells users with network how to opt out


def test_mirror_from_environment_and_network_opt_out():
    assert REAL_MIRROR is not None and mirror_has_provider(REAL_MIRROR)
    assert find_provider_mirror({MIRROR_ENV: str(REAL_MIRROR)}) == REAL_MIRROR
    assert find_provider_mirror({MIRROR_ENV: "network"}) is None


def test_init_installs_the_aws_provider_offline_and_keeps_the_lock_file(cli, tmp_path, monkeypatch):
    # Any attempt to reach the registry goes to a dead proxy and fails: success proves offline install.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    config = {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}}},
        "provider": {"aws": [{"region": "us-east-1"}]},
    }
    events: list[TerraformEvent] = []
    runner = _runner(cli, tmp_path, config, events)
    runner.init()
    installed = runner.data_dir / "providers" / "registry.terraform.io" / "hashicorp" / "aws" / PROVIDER_VERSION
    assert installed.is_dir()
    assert (runner.data_dir / ".terraform.lock.hcl").is_file()
    assert not (runner.directory / ".terraform").exists()  # TF_DATA_DIR, not the synth dir, holds it
    assert any(e.command == "init" and "Installed" in e.message for e in events)

    # Re-synthesis replaces the stack directory; init restores the kept provider selection.
    (runner.directory / ".terraform.lock.hcl").unlink()
    runner.init()
    assert (runner.directory / ".terraform.lock.hcl").read_text() == (runner.data_dir / ".terraform.lock.hcl").read_text()


def test_init_of_a_new_stack_leaves_the_filled_plugin_cache_alone(tmp_path):
    """Stacks without a lock file yet are initialized while others run: if such an init re-installed
    into the shared cache, the others would find no provider binary for a moment."""
    cli = prepare_terraform(tmp_path / "tf")
    assert "plugin_cache_may_break_dependency_lock_file = true" in cli.cli_config_file.read_text()
    config = {"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}}}}
    _runner(cli, tmp_path, config, name="first").init()
    cached = next((tmp_path / "tf" / "plugin-cache" / "registry.terraform.io" / "hashicorp" / "aws").glob("*/*"))
    before = os.lstat(cached)

    second = _runner(cli, tmp_path, config, name="second")
    second.init()
    after = os.lstat(cached)
    assert (after.st_ino, after.st_ctime_ns) == (before.st_ino, before.st_ctime_ns)
    assert (second.data_dir / LOCK_FILE).is_file()


def test_init_is_skipped_until_what_it_acts_on_changes(cli, tmp_path):
    """Terraform refuses a plan whose backend settings changed since the last init ("Backend
    initialization required"): the skip must end exactly when they change."""
    def config(state: str) -> dict:
        return {"terraform": {"backend": {"local": {"path": str(tmp_path / state)}}},
                "resource": {"terraform_data": {"kept": {"input": "same"}}}}

    events: list[TerraformEvent] = []
    runner = _runner(cli, tmp_path, config("one.tfstate"), events)
    assert runner.init() is True
    ran = len(events)
    assert runner.init() is False and len(events) == ran  # no terraform started
    runner.apply(runner.plan())
    assert (tmp_path / "one.tfstate").is_file()

    _stack(runner.directory, config("two.tfstate"))  # as the emulator's port moving would change it
    assert runner.init(reconfigure=True) is True
    assert runner.plan().has_changes  # the new backend has no state yet


def test_init_runs_again_when_the_provider_left_the_plugin_cache(tmp_path):
    cli = prepare_terraform(tmp_path / "tf")
    config = {"terraform": {"backend": {"local": {"path": str(tmp_path / "state")}},
                            "required_providers": {"aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}}}}
    runner = _runner(cli, tmp_path, config)
    assert runner.init() is True and runner.init() is False
    shutil.rmtree(tmp_path / "tf" / "plugin-cache")  # the stack's provider is a link into it
    assert runner.init() is True
    assert next((runner.data_dir / "providers").glob(f"*/*/aws/{PROVIDER_VERSION}/*/terraform-provider-aws*")).is_file()


# -- plans, applies, outputs -------------------------------------------------------------------------


def test_plan_apply_outputs_and_replacement(cli, tmp_path):
    def config(trigger: str) -> dict:
        return {
            "resource": {"terraform_data": {
                "kept": {"input": "same"},
                "rebuilt": {"input": "x", "triggers_replace": [trigger]},
            }},
            "output": {"kept": {"value": "${terraform_data.kept.output}"}},
        }

    runner = _runner(cli, tmp_path, config("one"))
    runner.init()
    first = runner.plan()
    assert first.has_changes and (first.adds, first.updates, first.destroys) == (2, 0, 0)
    assert {c.address for c in first.changes} == {"terraform_data.kept", "terraform_data.rebuilt"}
    applied = runner.apply(first)
    assert (applied.added, applied.destroyed) == (2, 0)
    assert not first.plan_file.exists()  # the saved plan is gone once applied
    assert runner.outputs()["kept"]["value"] == "same"

    assert not runner.plan().has_changes  # detailed exit code 0

    _stack(runner.directory, config("two"))
    replace = runner.plan()
    assert [(c.address, c.action, c.is_replace, c.is_delete) for c in replace.changes] == [
        ("terraform_data.rebuilt", "replace", True, True)
    ]
    assert (replace.adds, replace.destroys) == (1, 1)

    destroyed = runner.destroy()
    assert destroyed.destroyed == 2
    assert runner.outputs() == {}


@pytest.mark.parametrize("users_gogc, seen", [(None, "400"), ("150", "150")])
def test_terraform_and_what_it_starts_collect_garbage_less_often_unless_the_user_chose(
        cli, tmp_path, monkeypatch, users_gogc, seen):
    if users_gogc is None:
        monkeypatch.delenv("GOGC", raising=False)
    else:
        monkeypatch.setenv("GOGC", users_gogc)
    report = tmp_path / "gogc"
    runner = _runner(cli, tmp_path, {"resource": {"terraform_data": {"probe": {
        "provisioner": [{"local-exec": {"command": f"printf %s \"$GOGC\" > {report}"}}]}}}})
    runner.init()
    runner.apply_now()
    assert report.read_text() == seen


# -- failures ------------------------------------------------------------------------------------------


def test_configuration_error_names_stage_and_resource(cli, tmp_path):
    runner = _runner(cli, tmp_path, {"resource": {"terraform_data": {"broken": {"bogus_argument": 1}}}})
    runner.init()
    with pytest.raises(StageError) as caught:
        runner.plan()
    assert caught.value.stage == "plan"
    assert caught.value.resource == "terraform_data.broken"
    assert "bogus_argument" in str(caught.value)


def test_apply_error_names_the_failing_resource(cli, tmp_path):
    config = {"resource": {"terraform_data": {
        "fine": {"input": 1},
        "fails": {"input": 2, "provisioner": [{"local-exec": {"command": "echo boom >&2; exit 3"}}]},
    }}}
    runner = _runner(cli, tmp_path, config)
    runner.init()
    with pytest.raises(StageError) as caught:
        runner.apply(runner.plan())
    assert caught.value.stage == "apply"
    assert caught.value.resource == "terraform_data.fails"
    assert "[demo]" in str(caught.value)


def test_lock_info_is_parsed_from_terraform_text():
    lock = parse_lock_info(LOCK_DETAIL)
    assert lock is not None
    assert lock.id == "2b2b2c7a-8b5c-debc-7ec0-23f93884b8d8"
    assert lock.who == "alice@build-7"
    assert lock.operation == "OperationTypeApply"
    assert lock.created.startswith("2026-11-23 11:46:58")
    assert lock.path.endswith("network.tfstate")
    assert parse_lock_info("Error: something else") is None


def test_lock_error_says_who_holds_it_and_how_to_release_it():
    diagnostic = Diagnostic("error", "Error acquiring the state lock", LOCK_DETAIL)
    error = stage_error("apply", "network", [diagnostic], "", "eksml unlock local network <ID>")
    assert isinstance(error, StateLocked) and error.stage == "apply"
    assert "alice@build-7" in str(error) and "2026-11-23 11:46:58" in str(error)
    assert "eksml unlock local network 2b2b2c7a-8b5c-debc-7ec0-23f93884b8d8" in error.hint


def test_real_local_lock_conflict_is_reported_as_state_locked(cli, tmp_path):
    """A second terraform on the same state while the first applies fails with the holder's details."""
    config = {"resource": {"terraform_data": {"slow": {"input": 1, "provisioner": [
        {"local-exec": {"command": "sleep 4"}}]}}}}
    first = _runner(cli, tmp_path, config)
    first.init()
    plan = first.plan()
    second = Terraform(first.stack, first.directory, first.data_dir, cli)
    worker = threading.Thread(target=first.apply, args=(plan,))
    worker.start()
    try:
        lock_info = first.directory / ".terraform.tfstate.lock.info"
        deadline = time.monotonic() + 20
        while not lock_info.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(StateLocked) as caught:
            second.plan()
    finally:
        worker.join()
    assert caught.value.lock is not None and caught.value.lock.operation == "OperationTypeApply"
    assert caught.value.lock.id in caught.value.hint and "force-unlock" in caught.value.hint


# One resource created at once, then one whose provisioner runs for a minute: something to interrupt.
SLOW_APPLY = {"resource": {"terraform_data": {
    "fast": {"input": 1},
    "slow": {"input": 2, "depends_on": ["terraform_data.fast"],
             "provisioner": [{"local-exec": {"command": "sleep 60"}}]},
}}}


def _signal_once_provisioning(events: list[TerraformEvent], signum: int, stacks: set[str]) -> None:
    """In the background: send `signum` to this process once every stack named runs its slow provisioner."""

    def watch() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if {e.stack for e in events if e.kind == "provision_progress"} >= stacks:
                os.kill(os.getpid(), signum)
                return
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()


def test_interrupt_is_forwarded_once_and_terraform_stops_cleanly(cli, tmp_path):
    events: list[TerraformEvent] = []
    before = signal.getsignal(signal.SIGINT)  # a background job starts with SIGINT ignored
    runner = _runner(cli, tmp_path, SLOW_APPLY, events)
    runner.init()
    plan = runner.plan()
    _signal_once_provisioning(events, signal.SIGINT, {"demo"})
    begun = time.monotonic()
    with pytest.raises(Interrupted) as caught:
        runner.apply(plan)
    assert time.monotonic() - begun < 30  # stopped, not waited out
    assert caught.value.signum == signal.SIGINT and caught.value.command == "apply"
    assert any("Gracefully shutting down" in e.message for e in events)
    # terraform wrote its state (fast exists) and released the lock (a new plan runs).
    after = runner.plan()
    assert [c.address for c in after.changes] == ["terraform_data.slow"]
    assert signal.getsignal(signal.SIGINT) is before  # our handler is gone again, the one before is back


def test_interrupt_reaches_every_stack_running_side_by_side(cli, tmp_path):
    """Stacks applied side by side run terraform from worker threads: one signal stops them all."""
    from eksml.aws.run_result import StackResult
    from eksml.aws.scheduler import in_dependency_order
    from eksml.aws.synth import SynthesizedStack
    from eksml.terraform import SIGNALS

    events: list[TerraformEvent] = []
    runners = {name: _runner(cli, tmp_path, SLOW_APPLY, events, name=name) for name in ("left", "right", "after")}
    plans = {}
    for name, runner in runners.items():
        runner.init()
        plans[name] = runner.plan()
    stacks = [SynthesizedStack("left", runners["left"].directory, ()),
              SynthesizedStack("right", runners["right"].directory, ()),
              SynthesizedStack("after", runners["after"].directory, ("left", "right"))]
    applied: list[str] = []

    def apply_one(stack, _done):
        runners[stack.name].apply(plans[stack.name])
        applied.append(stack.name)
        return StackResult(stack.name, plans[stack.name])

    _signal_once_provisioning(events, signal.SIGTERM, {"left", "right"})
    begun = time.monotonic()
    with pytest.raises(Interrupted) as caught:
        in_dependency_order(stacks, apply_one, guard=SIGNALS.relay)
    assert time.monotonic() - begun < 30  # both stopped, not waited out
    assert caught.value.signum == signal.SIGTERM
    assert applied == []  # nothing finished, and `after` never started
    for name in ("left", "right"):  # each wrote its state and released its lock
        assert [c.address for c in runners[name].plan().changes] == ["terraform_data.slow"], name
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the relay's handlers are gone again


def test_inits_that_waited_for_the_first_one_then_run_side_by_side(tmp_path):
    """The first init fills the plugin cache alone; the ones queued behind it must not then take turns."""
    cli_config = tmp_path / "terraform.rc"
    cli_config.write_text("")
    first_inside, release_first = threading.Event(), threading.Event()
    together = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def first() -> None:
        with _alone_until_cache_filled(cli_config):
            first_inside.set()
            release_first.wait(10)

    def queued() -> None:
        with _alone_until_cache_filled(cli_config):
            try:
                together.wait()  # both queued inits inside at once
                outcomes.append("side by side")
            except threading.BrokenBarrierError:
                outcomes.append("one after the other")

    leader = threading.Thread(target=first)
    leader.start()
    assert first_inside.wait(10)
    followers = [threading.Thread(target=queued) for _ in range(2)]
    for thread in followers:
        thread.start()
    time.sleep(0.3)  # both are waiting on the lock now
    assert outcomes == []
    release_first.set()
    for thread in [leader, *followers]:
        thread.join(30)
    assert outcomes == ["side by side"] * 2
