"""Release a stale Terraform state lock, left by a run that was killed before it could unlock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eksml.aws.synth import synthesize
from eksml.config.models import Environment
from eksml.emulator.target import AwsTarget
from eksml.errors import StageError
from eksml.terraform import Terraform, prepare_terraform
from eksml.terraform.lock_id import check_lock_id
from eksml.workspace import Workspace, shared_terraform_dir

if TYPE_CHECKING:
    from eksml.emulator.process import Emulator


def force_unlock_environment(env: Environment, stack: str, lock_id: str) -> None:
    """Release a stale lock where the environment lives (its persisted emulator, or its account)."""
    from eksml.emulator.process import emulator_where_env_lives

    check_lock_id(lock_id)  # before the emulator, the synth and terraform init
    with emulator_where_env_lives(env.name, env.region, env.emulator) as emulator:
        force_unlock(env, stack, lock_id, emulator=emulator)
        if emulator is not None:
            emulator.snapshot()


def force_unlock(env: Environment, stack: str, lock_id: str, target: AwsTarget | None = None,
                 emulator: "Emulator | None" = None) -> None:
    """Release the lock of one stack, through the same working directories a run uses."""
    target = target or AwsTarget(endpoint_url=emulator.endpoint_url if emulator is not None else None)
    root = Workspace.of(env.name).terraform_dir(target.flavour)
    cli = prepare_terraform(shared_terraform_dir())
    (root / "synth").mkdir(parents=True, exist_ok=True)
    stacks = {s.name: s for s in synthesize(env, root / "synth", target)}
    if stack not in stacks:
        raise StageError("unlock", f"no stack '{stack}' in {env.name}; stacks: {', '.join(stacks)}")
    runner = Terraform(stack, stacks[stack].directory, root / stack, cli,
                       extra_env=target.process_environment(env.region))
    runner.init(reconfigure=target.emulated)
    runner.force_unlock(lock_id)
