"""`eksml plan ENV [--emulator]`: every stack's Terraform plan, then the Kubernetes layer's change."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from eksml.cli.common import env_argument, load, output_option, report_failures


@click.command()
@env_argument
@click.option(
    "--emulator", "preview", is_flag=True,
    help="Preview in a throwaway local emulator: the full plan of a first deploy, no cloud account needed.",
)
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="Also compare with the Helm releases of this cluster.")
@click.option("--context", help="kubeconfig context of the cluster to compare with.")
@output_option
@report_failures
def plan(env: str, preview: bool, kubeconfig: str | None, context: str | None, output_format: str) -> None:
    """Show what a deploy of ENV would change: every Terraform stack, then the Kubernetes layer (the
    rendered files against the last render; with --context, each Helm release against the cluster)."""
    from eksml.deploy.plan import plan as plan_environment, plan_json, plan_text
    from eksml.deploy.progress import Progress
    from eksml.deploy.progress_events import ProgressEvents

    planned = plan_environment(load(env), preview=preview, on_event=ProgressEvents(Progress(stream=sys.stderr)),
                               kubeconfig=Path(kubeconfig) if kubeconfig else None, context=context)
    click.echo(json.dumps(plan_json(planned), indent=2) if output_format == "json" else plan_text(planned))
