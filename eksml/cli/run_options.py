"""What `eksml deploy` and `eksml destroy` share: their options and the approval prompt."""

import sys
from pathlib import Path

import click

from eksml.deploy.pipeline import DeployOptions


def confirm(stack: str, plan) -> bool:
    click.echo(f"\n{stack}: {plan.summary}", err=True)
    for change in plan.changes:
        click.echo(f"  {change.action:>8}  {change.address}", err=True)
    return click.confirm(f"Apply these changes to stack {stack}?", default=False, err=True)


def run_options(auto_approve, allow_destroy, from_stage, emulator, kubeconfig, context) -> DeployOptions:
    return DeployOptions(
        auto_approve=auto_approve, allow_destroy=allow_destroy, from_stage=from_stage, emulator=emulator,
        kubeconfig=Path(kubeconfig) if kubeconfig else None, kube_context=context,
        interactive=sys.stdin.isatty(), confirm=confirm,
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
