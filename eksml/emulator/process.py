"""The local AWS emulator: a moto server in its own process on 127.0.0.1, optionally persistent.

Persistence (why a snapshot): moto keeps everything in memory. `eksml.emulator.server` (the process
we start) loads a pickle of moto's backends on start and writes it on `snapshot()` (after every
applied stack), on stop, on SIGTERM/SIGINT, and when our process dies (once terraform has stopped
calling), so the next run (a new process, a new port) finds the same VPC, subnet, cluster IDs and
the Terraform state in its S3, and plans no changes. Moto's own recorder was the alternative: it
replays every request ever made (slower with every run) and gives the same IDs only if every random
draw recurs in the same order (`/moto-api/seed`), which any change in request interleaving breaks
(terraform runs 10 requests in parallel). Snapshots are written atomically (temp file + rename);
the state directory is locked (flock) while an emulator uses it, so two runs never write the same
snapshot. A snapshot is tied to the moto version that wrote it; a corrupt or foreign one fails the
start with the log tail (delete .eksml/<env>/emulator to begin again).

A throwaway emulator (`state_dir=None`) starts empty and leaves nothing behind.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eksml.emulator.server import SNAPSHOT_UNUSABLE
from eksml.emulator.target import ACCESS_KEY_ID, HOST, SECRET_ACCESS_KEY, aws_environment
from eksml.errors import StageError
from eksml.paths import PROJECT_ROOT
from eksml.workspace import Workspace

SNAPSHOT_FILE = "moto-state.pickle"
LOG_FILE = "emulator.log"
LOCK_FILE = "emulator.lock"
PORT_FILE = "port"  # the last port of a persistent emulator

# Settings of the moto process. AWS managed policies must exist: the stacks attach
# AmazonEKSClusterPolicy, AmazonEKSWorkerNodePolicy, ... and moto refuses unknown policy ARNs.
MOTO_ENVIRONMENT = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_ALLOW_NONEXISTENT_REGION": "false",
}


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether the server could bind it (it sets SO_REUSEADDR: a port in TIME_WAIT counts as free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


@dataclass
class Emulator:
    """A moto server process. Use as a context manager; `stop()` is also registered with atexit."""

    state_dir: Path | None = None  # None: throwaway, nothing persisted
    port: int | None = None  # None: a free port chosen at start
    region: str = "us-east-1"
    startup_timeout: float = 60.0

    def __post_init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._lock_handle: Any = None
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._log_handle: Any = None

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def endpoint_url(self) -> str:
        if self.port is None or self._process is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self._files_dir() / LOG_FILE

    @property
    def snapshot_path(self) -> Path | None:
        return self.state_dir / SNAPSHOT_FILE if self.state_dir is not None else None

    def start(self) -> "Emulator":
        if self.running:
            return self
        self._lock_state_dir()
        try:
            chosen = self.port
            if chosen is not None and not port_is_free(chosen):
                raise StageError(
                    "emulator",
                    f"port {chosen} on {HOST} is already in use",
                    hint="stop what listens there (`ss -ltnp | grep :%d`) or let eksml pick a free port" % chosen,
                )
            # A persistent emulator takes its last port again when it is free: the synthesized
            # files name the endpoint, so they (and the synthesis) stay valid from run to run.
            preferred = self._last_port() if chosen is None else None
            # A port picked by us can still be taken before the server binds it: retry with another.
            for attempt in range(3):
                if chosen is not None:
                    self.port = chosen
                elif attempt == 0 and preferred is not None and port_is_free(preferred):
                    self.port = preferred
                else:
                    self.port = free_port()
                self._spawn()
                if self._wait_ready():
                    self._remember_port()
                    atexit.register(self.stop)
                    return self
                if chosen is not None or "Address already in use" not in self._log_tail():
                    break
            raise self._startup_error()
        except BaseException:
            self._terminate()
            self._unlock_state_dir()
            raise

    def stop(self) -> None:
        """Stop the server; a persistent one writes its snapshot first (SIGTERM -> save -> exit)."""
        atexit.unregister(self.stop)
        try:
            if self.running:
                self._terminate(graceful_timeout=60.0)
                if self._process is not None and self._process.returncode not in (0, None) and self.state_dir:
                    raise StageError(
                        "emulator",
                        f"the emulator exited with code {self._process.returncode} while saving its state",
                        hint=f"see {self.log_path}:\n{self._log_tail()}",
                    )
        finally:
            self._process = None
            self._unlock_state_dir()
            if self._log_handle is not None:
                self._log_handle.close()
                self._log_handle = None
            if self._scratch is not None:
                self._scratch.cleanup()
                self._scratch = None

    def _last_port(self) -> int | None:
        if self.state_dir is None:
            return None
        try:
            return int((self.state_dir / PORT_FILE).read_text().strip())
        except (OSError, ValueError):
            return None

    def _remember_port(self) -> None:
        if self.state_dir is not None:
            (self.state_dir / PORT_FILE).write_text(f"{self.port}\n")

    def snapshot(self) -> None:
        """Write the emulator's state now (after each applied stack: a crash later loses nothing)."""
        if self.state_dir is None:
            return
        self._check_alive()
        request = urllib.request.Request(f"{self.endpoint_url}/_eksml/snapshot", method="POST", data=b"")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise StageError("emulator", f"could not save the emulator state: {exc}", hint=self._log_tail()) from exc

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- clients -----------------------------------------------------------------------------------

    def environment(self) -> dict[str, str | None]:
        return aws_environment(self.endpoint_url, self.region)

    def client(self, service: str, region: str | None = None):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=region or self.region,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    # -- internals ---------------------------------------------------------------------------------

    def _files_dir(self) -> Path:
        if self.state_dir is not None:
            return self.state_dir
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="eksml-emulator-")
        return Path(self._scratch.name)

    def _lock_state_dir(self) -> None:
        if self.state_dir is None:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.state_dir / LOCK_FILE, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StageError(
                "emulator",
                f"the emulator state in {self.state_dir} is in use by {holder}",
                hint="wait for that eksml run to finish; the state can only be used by one run at a time",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._lock_handle = handle

    def _unlock_state_dir(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()  # closing releases the flock
            self._lock_handle = None

    def _spawn(self) -> None:
        files = self._files_dir()
        if self._log_handle is not None:
            self._log_handle.close()
        self._log_handle = open(files / LOG_FILE, "w")
        argv = [sys.executable, "-m", "eksml.emulator.server", "--host", HOST, "--port", str(self.port),
                "--parent", str(os.getpid())]
        if self.snapshot_path is not None:
            argv += ["--state", str(self.snapshot_path)]
        env = dict(os.environ)
        env.update(MOTO_ENVIRONMENT)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=files,
            start_new_session=True,  # Ctrl-C reaches us; we stop the server in order (snapshot first)
        )

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        url = f"http://{HOST}:{self.port}/_eksml/ready"
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        return False

    def _startup_error(self) -> StageError:
        tail = self._log_tail()
        if self._process is not None and self._process.poll() is None:
            return StageError(
                "emulator", f"the emulator did not answer on {HOST}:{self.port} within {self.startup_timeout:.0f}s",
                hint=f"log {self.log_path}:\n{tail}",
            )
        if "Address already in use" in tail:
            return StageError("emulator", f"port {self.port} on {HOST} is already in use", hint=tail)
        code = self._process.returncode if self._process is not None else "?"
        if code == SNAPSHOT_UNUSABLE:
            return StageError(
                "emulator", f"the saved emulator state {self.snapshot_path} cannot be loaded",
                hint=f"{tail.splitlines()[-1] if tail else ''}\n  it was written by another moto version or is "
                     f"damaged; delete {self.state_dir} to start the emulator empty (its resources are lost)",
            )
        return StageError("emulator", f"the emulator exited during start (exit code {code})", hint=f"log:\n{tail}")

    def _check_alive(self) -> None:
        if not self.running:
            code = self._process.returncode if self._process is not None else None
            raise StageError(
                "emulator", f"the emulator is not running (exit code {code})", hint=f"log:\n{self._log_tail()}"
            )

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = (self._files_dir() / LOG_FILE).read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _terminate(self, graceful_timeout: float = 10.0) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=graceful_timeout)
        except subprocess.TimeoutExpired:
            process.kill()  # it ignored SIGTERM for a minute: the snapshot write is atomic, so nothing half-written
            process.wait()


def persistent_emulator(env_name: str, region: str) -> Emulator:
    """The emulator that holds an emulator environment's resources between runs (.eksml/<env>/emulator)."""
    return Emulator(state_dir=Workspace.of(env_name).emulator_dir, region=region)


@contextmanager
def emulator_where_env_lives(env_name: str, region: str, emulated: bool) -> Iterator[Emulator | None]:
    """The running persistent emulator of an emulator environment; None for one that lives in AWS."""
    if not emulated:
        yield None
        return
    with persistent_emulator(env_name, region) as emulator:
        yield emulator
