"""Runs terraform for one synthesized stack: init, plan, apply, destroy, output.

Every command runs with `-json`, so progress (resource by resource), the planned changes and the
errors (with the resource address) come as structured events instead of scraped text; the plan is
listed from the streamed `planned_change` events, which saves a `show -json` (5-6 s of provider
schema loading per stack).

Interrupts are relayed to every running terraform (`signals`); the runner waits for it to stop
cleanly and raises `Interrupted`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eksml.terraform.lock_id import check_lock_id
from eksml.terraform.diagnostics import Diagnostic, stage_error
from eksml.terraform.model import (
    _UI_ACTIONS,
    ApplyResult,
    EventCallback,
    Interrupted,
    Plan,
    ResourceChange,
    TerraformEvent,
)
from eksml.terraform.signals import SIGNALS
from eksml.terraform.setup import TerraformCli

LOCK_FILE = ".terraform.lock.hcl"
CONFIG_FILE = "cdk.tf.json"
INIT_RECORD = "init.sha256"  # in data_dir: what the last successful init acted on
_LOCKED_PROVIDER = re.compile(r'^provider "([^"]+)" \{\s*\n\s*version\s*=\s*"([^"]+)"', re.MULTILINE)
# Terraform's shared plugin cache is not safe for installs running at once ("file exists"): the
# first `init` per CLI config (per plugin cache) runs alone; after it, the cache only links (the CLI
# config lets terraform use the cache even before a stack has a lock file).
_CACHES_FILLED: set[Path] = set()  # by CLI config file (each names its plugin cache)


@dataclass(frozen=True)
class _Outcome:
    returncode: int
    events: tuple[dict, ...]
    diagnostics: tuple[Diagnostic, ...]
    stdout: str
    stderr: str


@dataclass
class Terraform:
    """Terraform for one stack directory. `data_dir` outlives re-synthesis (it holds .terraform)."""

    stack: str
    directory: Path
    data_dir: Path
    cli: TerraformCli
    extra_env: Mapping[str, str | None] = field(default_factory=dict)
    on_event: EventCallback | None = None
    parallelism: int | None = None
    unlock_hint: str | None = None  # how users release a stale lock; default: the raw terraform command

    # -- commands ----------------------------------------------------------------------------------

    def init(self, *, reconfigure: bool = False) -> bool:
        """Install the provider (from the mirror) and connect the backend; False when it was skipped.

        The dependency lock file is kept in `data_dir` and copied into the freshly synthesized
        directory, so re-synthesis never changes the provider selection. Terraform needs a new init
        only when what it acts on changes (the backend settings, the provider requirements, the lock
        file, the CLI configuration): while a record of those matches, the init is skipped. With state
        in the backend one costs 1.5-2 CPU-seconds per stack, and the first one per process runs alone.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        kept, here = self.data_dir / LOCK_FILE, self.directory / LOCK_FILE
        if kept.is_file() and not here.is_file():
            shutil.copyfile(kept, here)
        record = self.data_dir / INIT_RECORD
        inputs = self._init_inputs()
        if inputs is not None and _read(record) == inputs and self._still_installed():
            return False
        record.unlink(missing_ok=True)  # an init that fails or is interrupted leaves no record
        args = ["init", "-input=false"] + (["-reconfigure"] if reconfigure else [])
        with _alone_until_cache_filled(self.cli.cli_config_file):
            self._check("init", self._run("init", args))
        if here.is_file():
            shutil.copyfile(here, kept)
        if (inputs := self._init_inputs()) is not None:
            record.write_text(inputs)
        return True

    def _init_inputs(self) -> str | None:
        """A digest of what an init acts on; None when the stack is not a JSON configuration."""
        try:
            config = json.loads((self.directory / CONFIG_FILE).read_text())
            cli_config = self.cli.cli_config_file.read_bytes()
        except (OSError, ValueError):
            return None
        lock = here.read_bytes() if (here := self.directory / LOCK_FILE).is_file() else b""
        acted_on = {"terraform": config.get("terraform", {}), "module": config.get("module", {})}
        digest = hashlib.sha256()
        for part in (f"{self.cli.binary} {self.cli.version}".encode(), cli_config, lock,
                     json.dumps(acted_on, sort_keys=True).encode()):
            digest.update(hashlib.sha256(part).digest())
        return digest.hexdigest()

    def _still_installed(self) -> bool:
        """What the last init put in `data_dir` is there: the backend record, and every provider the
        lock file selects (a plugin cache deleted since leaves dangling links)."""
        if not (self.data_dir / "terraform.tfstate").is_file():
            return False
        lock = _read(self.directory / LOCK_FILE) or ""
        locked = _LOCKED_PROVIDER.findall(lock)
        if len(locked) != lock.count('provider "'):  # a lock file this reader does not follow: init
            return False
        for address, version in locked:
            platforms = list((self.data_dir / "providers" / address / version).glob("*"))
            if not platforms or not all(path.is_dir() and any(path.iterdir()) for path in platforms):
                return False
        return True

    def plan(self, *, destroy: bool = False, refresh: bool = True) -> Plan:
        plan_file = self.data_dir / ("destroy.tfplan" if destroy else "plan.tfplan")
        args = ["plan", "-input=false", "-detailed-exitcode", f"-out={plan_file}"]
        args += ["-destroy"] if destroy else []
        args += [] if refresh else ["-refresh=false"]
        args += self._parallelism()
        outcome = self._run("plan", args)
        if outcome.returncode not in (0, 2):
            self._check("plan", outcome)
        changes = _planned_changes(outcome.events)
        return Plan(self.stack, plan_file, has_changes=outcome.returncode == 2, changes=changes, destroy=destroy)

    def apply_now(self) -> tuple[Plan, ApplyResult]:
        """Plan and apply in one terraform run: one provider start fewer than plan + apply.

        For targets where nothing is at stake (the emulator); elsewhere show a saved plan first.
        """
        begun = time.monotonic()
        outcome = self._run("apply", ["apply", "-input=false", "-auto-approve", *self._parallelism()])
        self._check("apply", outcome)
        changes = _planned_changes(outcome.events)
        plan = Plan(self.stack, None, has_changes=any(c.action not in ("no-op", "read") for c in changes),
                    changes=changes)
        return plan, self._applied(outcome, begun)

    def apply(self, plan: Plan) -> ApplyResult:
        """Apply exactly the saved plan: what was shown is what happens."""
        if plan.plan_file is None:
            raise ValueError(f"the plan of {plan.stack} was already applied")
        command = "destroy" if plan.destroy else "apply"
        begun = time.monotonic()
        try:
            outcome = self._run(command, ["apply", "-input=false", "-auto-approve", *self._parallelism(), str(plan.plan_file)])
        finally:
            plan.plan_file.unlink(missing_ok=True)  # a saved plan holds secrets and is stale once used
        self._check(command, outcome)
        return self._applied(outcome, begun)

    def destroy(self) -> ApplyResult:
        """Destroy everything in the stack's state in one terraform run (its own plan, then delete)."""
        begun = time.monotonic()
        outcome = self._run("destroy", ["destroy", "-input=false", "-auto-approve", *self._parallelism()])
        self._check("destroy", outcome)
        return self._applied(outcome, begun)

    def _applied(self, outcome: "_Outcome", begun: float) -> ApplyResult:
        summary = next((e["changes"] for e in reversed(outcome.events) if e.get("type") == "change_summary"), {})
        outputs = next((e["outputs"] for e in reversed(outcome.events) if e.get("type") == "outputs"), None)
        return ApplyResult(
            self.stack,
            added=int(summary.get("add", 0)),
            changed=int(summary.get("change", 0)),
            destroyed=int(summary.get("remove", 0)),
            seconds=time.monotonic() - begun,
            outputs=outputs,
        )

    def outputs(self) -> dict[str, Any]:
        """`terraform output -json`: name -> {"value", "type", "sensitive"}."""
        outcome = self._run("output", ["output", "-json"], json_lines=False)
        self._check("output", outcome)
        return json.loads(outcome.stdout or "{}")

    def output_values(self) -> dict[str, Any]:
        """The outputs' values alone: what a downstream stack or the Kubernetes layer reads."""
        return {name: output.get("value") for name, output in self.outputs().items()}

    def force_unlock(self, lock_id: str) -> None:
        # After `--`: an ID is never read as a flag (-help), even if a caller skipped check_lock_id.
        arguments = ["force-unlock", "-force", "--", check_lock_id(lock_id)]
        self._check("force-unlock", self._run("force-unlock", arguments, json_lines=False))

    def unlock_command(self) -> str:
        """A shell command that releases a stale lock of this stack (shown in lock errors)."""
        if self.unlock_hint:
            return self.unlock_hint
        env = self.cli.environment(self.data_dir, self.extra_env)
        names = ("TF_CLI_CONFIG_FILE", "TF_DATA_DIR", *sorted(k for k, v in self.extra_env.items() if v is not None))
        assignments = " ".join(f"{name}={env[name]}" for name in names)
        return f"{assignments} {self.cli.binary} -chdir={self.directory} force-unlock <ID>"

    # -- process handling --------------------------------------------------------------------------

    def _parallelism(self) -> list[str]:
        return [f"-parallelism={self.parallelism}"] if self.parallelism else []

    def _check(self, command: str, outcome: _Outcome) -> None:
        if outcome.returncode != 0:
            raise stage_error(command, self.stack, list(outcome.diagnostics), outcome.stderr, self.unlock_command())

    def _emit(self, command: str, kind: str, message: str, address: str | None = None, level: str = "info") -> None:
        if self.on_event is not None and message:
            self.on_event(TerraformEvent(self.stack, command, kind, message, address, level))

    def _run(self, command: str, args: Sequence[str], *, json_lines: bool = True) -> _Outcome:
        subcommand, *rest = args
        flags = ["-no-color"] + (["-json"] if json_lines else [])
        argv = [self.cli.binary, f"-chdir={self.directory}", subcommand, *flags, *rest]
        if SIGNALS.signum is not None:  # a stack running side by side was interrupted: start nothing new
            raise Interrupted(self.stack, command, SIGNALS.signum)
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.cli.environment(self.data_dir, self.extra_env),
            start_new_session=True,  # a terminal Ctrl-C reaches us only; we forward it once
        )
        events: list[dict] = []
        diagnostics: list[Diagnostic] = []
        stdout: list[str] = []
        stderr: list[str] = []

        def read_stdout() -> None:
            for line in process.stdout:  # type: ignore[union-attr]
                stdout.append(line)
                if not json_lines:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    self._emit(command, "log", line.rstrip())
                    continue
                events.append(event)
                address = _event_address(event)
                if event.get("type") == "diagnostic":
                    diagnostics.append(Diagnostic.from_json(event.get("diagnostic", {})))
                self._emit(command, event.get("type", "log"), event.get("@message", ""), address, event.get("@level", "info"))

        def read_stderr() -> None:
            for line in process.stderr:  # type: ignore[union-attr]
                stderr.append(line)
                self._emit(command, "stderr", line.rstrip(), level="error")

        readers = [threading.Thread(target=read_stdout, daemon=True), threading.Thread(target=read_stderr, daemon=True)]
        for reader in readers:
            reader.start()
        with SIGNALS.relay(), SIGNALS.tracking(process):
            returncode = process.wait()
            for reader in readers:
                reader.join()
            received = SIGNALS.signum
        if received is not None:
            raise Interrupted(self.stack, command, received)
        return _Outcome(returncode, tuple(events), tuple(diagnostics), "".join(stdout), "".join(stderr))


@contextmanager
def _alone_until_cache_filled(cli_config: Path) -> Iterator[None]:
    """Until an init per plugin cache has finished here, inits hold a file lock: it excludes other
    threads (each opens the file anew) and other eksml processes sharing the cache alike. A thread
    that waited while another one filled the cache goes on without the lock, side by side."""
    lock = None
    if cli_config not in _CACHES_FILLED:
        lock = open(cli_config.with_name(f"{cli_config.name}.init-lock"), "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cli_config in _CACHES_FILLED:
            lock.close()
            lock = None
    try:
        yield
        if lock is not None:  # marked before the lock goes, so a waiter that wakes sees it filled
            _CACHES_FILLED.add(cli_config)
    finally:
        if lock is not None:
            lock.close()


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _planned_changes(events: tuple[dict, ...]) -> tuple[ResourceChange, ...]:
    return tuple(
        ResourceChange(
            address=event["change"]["resource"]["addr"],
            type=event["change"]["resource"].get("resource_type", ""),
            actions=_UI_ACTIONS.get(event["change"]["action"], (event["change"]["action"],)),
        )
        for event in events
        if event.get("type") == "planned_change"
    )


def _event_address(event: dict) -> str | None:
    for key in ("change", "hook"):
        resource = (event.get(key) or {}).get("resource")
        if resource:
            return resource.get("addr")
    return (event.get("diagnostic") or {}).get("address")
