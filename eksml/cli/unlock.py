"""`eksml unlock ENV STACK LOCK_ID`: release a stale Terraform state lock."""

import click

from eksml.cli.common import env_argument, load, report_failures
from eksml.contract.names import STACK_NAMES


@click.command()
@env_argument
@click.argument("stack", type=click.Choice([str(name) for name in STACK_NAMES]), metavar="STACK")
@click.argument("lock_id")
@report_failures
def unlock(env: str, stack: str, lock_id: str) -> None:
    """Release a stale Terraform state lock of STACK (left by a run that was killed)."""
    from eksml.aws.unlock import force_unlock_environment

    force_unlock_environment(load(env), stack, lock_id)
    click.echo(f"released lock {lock_id} of {stack} in {env}")
