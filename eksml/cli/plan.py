"""`eksml plan ENV [--emulator]`: every stack's Terraform plan, then the Kubernetes layer's change.

`eksml plan ENV... --emulator` (or `--all --emulator`) previews several environments in one process,
each against its own throwaway emulator (eksml.aws.preview_many)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from eksml.cli.common import all_option, envs_argument, load_many, output_option, report_failures


@click.command()
@envs_argument
@all_option
@click.option(
    "--emulator", "preview", is_flag=True,
    help="Preview in a throwaway local emulator: the full plan of a first deploy, no cloud account needed.",
)
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="Also compare with the Helm releases of this cluster.")
@click.option("--context", help="kubeconfig context of the cluster to compare with.")
@output_option
@report_failures
def plan(envs: tuple[str, ...], all_envs: bool, preview: bool, kubeconfig: str | None, context: str | None,
         output_format: str) -> None:
    """Show what a deploy of ENV would change: every Terraform stack, then the Kubernetes layer (the
    rendered files against the last render; with --context, each Helm release against the cluster).
    Several ENVs (or --all) need --emulator: one process previews them all."""
    from eksml.deploy.plan import plan_environments, plan_json, plan_text
    from eksml.deploy.progress import Progress
    from eksml.deploy.progress_events import ProgressEvents

    environments = load_many(envs, all_envs)
    single = len(environments) == 1 and not all_envs
    if not single and not preview:
        raise click.UsageError("several environments are planned together only with --emulator (a preview each); "
                               "plan an account's environment on its own")
    if not single and (kubeconfig or context):
        raise click.UsageError("--kubeconfig/--context compare one environment's cluster: name one ENV")
    progress = Progress(stream=sys.stderr)
    planned = plan_environments(environments, preview=preview, on_event_for=lambda env: ProgressEvents(progress),
                                kubeconfig=Path(kubeconfig) if kubeconfig else None, context=context)
    if output_format == "json":
        reports = [plan_json(each) for each in planned]
        click.echo(json.dumps(reports[0] if single else {"ok": True, "environments": reports}, indent=2))
        return
    click.echo("\n\n".join(plan_text(each) for each in planned))
