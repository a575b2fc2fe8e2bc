"""`eksml destroy ENV`: releases first, then the leftovers check, then the stacks in reverse."""

import click

from eksml.cli.common import env_argument, report_failures
from eksml.cli.run_options import run_options, with_common
from eksml.deploy.progress import Progress


@click.command()
@env_argument
@with_common
@report_failures
def destroy(env, auto_approve, allow_destroy, emulator, kubeconfig, context):
    """Uninstall releases, remove controller leftovers, destroy the stacks in reverse order."""
    from eksml.deploy.pipeline import destroy as run_destroy

    progress = Progress()
    try:
        report = run_destroy(env, run_options(auto_approve, allow_destroy, None, emulator, kubeconfig, context), progress)
    finally:
        click.echo("\n" + progress.summary(), err=True)
    click.echo(f"\nPlatform '{report.env.name}' is destroyed."
               + (f" Removed leftovers: {', '.join(report.leftovers_removed)}" if report.leftovers_removed else ""))
