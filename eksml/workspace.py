"""The `.eksml/<env>/` layout: every file eksml keeps for an environment, named in one place.

The root moves with EKSML_WORK_DIR (tests, benchmarks, several checkouts on one machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eksml.paths import work_root

OUTPUTS_FILE = "outputs.json"  # the last apply's outputs, read by the Kubernetes layer
HISTORY_FILE = "history.json"  # per stack: when it was last applied and what changed
LAST_RUN_FILE = "last-run.json"
RUN_LOCK_FILE = "run.lock"


@dataclass(frozen=True)
class Workspace:
    """Where one environment's working state lives on this machine."""

    root: Path

    @classmethod
    def of(cls, env_name: str) -> "Workspace":
        return cls(work_root() / env_name)

    @property
    def outputs_file(self) -> Path:
        return self.root / OUTPUTS_FILE

    @property
    def history_file(self) -> Path:
        return self.root / HISTORY_FILE

    @property
    def last_run_file(self) -> Path:
        return self.root / LAST_RUN_FILE

    @property
    def run_lock(self) -> Path:
        return self.root / RUN_LOCK_FILE

    @property
    def render_dir(self) -> Path:
        return self.root / "render"

    @property
    def emulator_dir(self) -> Path:
        """The persistent emulator's snapshot, log and lock."""
        return self.root / "emulator"

    def terraform_dir(self, flavour: str) -> Path:
        """Synthesis and Terraform data dirs per target flavour (aws, emulator, preview): the flavours
        never share working directories, whose cached backend settings differ."""
        return self.root / "terraform" / flavour

    def synth_dir(self, emulated: bool) -> Path:
        """Where `eksml synth` writes by default."""
        return (self.emulator_dir if emulated else self.root) / "cdktf.out"


def shared_terraform_dir() -> Path:
    """The Terraform CLI config and plugin cache all environments share."""
    return work_root() / "terraform"
