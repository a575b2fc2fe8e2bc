"""`eksml deploy ENV`: every stage in order, with a live progress display and a summary."""

import click

from eksml.cli.common import env_argument, report_failures
from eksml.cli.run_options import run_options, with_common
from eksml.deploy.pipeline import DEPLOY_STAGES
from eksml.deploy.progress import Progress


@click.command()
@env_argument
@with_common
@click.option("--from-stage", type=click.Choice(DEPLOY_STAGES), help="Resume a failed deploy at this stage.")
@report_failures
def deploy(env, auto_approve, allow_destroy, emulator, kubeconfig, context, from_stage):
    """Validate, synth, apply every stack, render and install the Kubernetes layer, verify."""
    from eksml.deploy.pipeline import deploy as run_deploy
    from eksml.deploy.summary import describe_deploy

    progress = Progress()
    try:
        report = run_deploy(env, run_options(auto_approve, allow_destroy, from_stage, emulator, kubeconfig, context), progress)
    finally:
        click.echo("\n" + progress.summary(), err=True)
    click.echo("\n" + describe_deploy(report))
