import sys
from pathlib import Path

import click

from eksml.cli.common import env_argument, report_failures
from eksml.deploy.pipeline import DEPLOY_STAGES, DeployOptions
from eksml.deploy.progress import Progress


def _confirm(stack: str, plan) -> bool:
    click.echo(f"\n{stack}: {plan.adds} to add, {plan.updates} to change, {plan.destroys} to destroy", err=True)
    for change in plan.changes:
        click.echo(f"  {change.action:>8}  {change.address}", err=True)
    return click.confirm(f"Apply these changes to stack {stack}?", default=False, err=True)


def _options(auto_approve, allow_destroy, from_stage, emulator, kubeconfig, context) -> DeployOptions:
    return DeployOptions(
        auto_approve=auto_approve, allow_destroy=allow_destroy, from_stage=from_stage, emulator=emulator,
        kubeconfig=Path(kubeconfig) if kubeconfig else None, kube_context=context,
        interactive=sys.stdin.isatty(), confirm=_confirm,
    )


common = [
    click.option("--auto-approve", is_flag=True, help="Apply without asking (required for cloud environments without a terminal)."),
    click.option("--allow-destroy", is_flag=True, help="Permit replacing or destroying protected resources (staging, prod)."),
    click.option("--emulator", is_flag=True, help="Run against this environment's own local AWS emulator instead of AWS."),
    click.option("--kubeconfig", type=click.Path(dir_okay=False), help="Install the Kubernetes layer into this cluster."),
    click.option("--context", help="kubeconfig context to install into."),
]


def with_common(command):
    for option in reversed(common):
        command = option(command)
    return command


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
        report = run_deploy(env, _options(auto_approve, allow_destroy, from_stage, emulator, kubeconfig, context), progress)
    finally:
        click.echo("\n" + progress.summary(), err=True)
    click.echo("\n" + describe_deploy(report))


@click.command()
@env_argument
@with_common
@report_failures
def destroy(env, auto_approve, allow_destroy, emulator, kubeconfig, context):
    """Uninstall releases, remove controller leftovers, destroy the stacks in reverse order."""
    from eksml.deploy.pipeline import destroy as run_destroy

    progress = Progress()
    try:
        report = run_destroy(env, _options(auto_approve, allow_destroy, None, emulator, kubeconfig, context), progress)
    finally:
        click.echo("\n" + progress.summary(), err=True)
    click.echo(f"\nPlatform '{report.env.name}' is destroyed."
               + (f" Removed leftovers: {', '.join(report.leftovers_removed)}" if report.leftovers_removed else ""))
