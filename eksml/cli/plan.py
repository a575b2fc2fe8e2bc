"""`eksml plan ENV [--emulator]`: every stack's Terraform plan, then the Kubernetes layer's change.

`eksml plan ENV... --emulator` (or `--all --emulator`) previews several environments in one process,
each against its own throwaway emulator (eksml.aws.preview_many)."""

from __future__ import annotations

import json
import sys

import click

from eksml.cli.common import all_option, envs_argument, load_many, output_option, report_failures

_SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "read": "<="}


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
    from eksml.aws.preview_many import preview_each
    from eksml.aws.run import plan_environment
    from eksml.deploy.progress_events import ProgressEvents
    from eksml.deploy.progress import Progress

    environments = load_many(envs, all_envs)
    single = len(environments) == 1 and not all_envs
    if not single and not preview:
        raise click.UsageError("several environments are planned together only with --emulator (a preview each); "
                               "plan an account's environment on its own")
    if not single and (kubeconfig or context):
        raise click.UsageError("--kubeconfig/--context compare one environment's cluster: name one ENV")
    progress = Progress(stream=sys.stderr)
    if single:
        results = [plan_environment(environments[0], preview=preview, on_event=ProgressEvents(progress))]
    else:
        results = preview_each(environments, lambda env: ProgressEvents(progress))
    if output_format == "json":
        reports = [_as_json(result) for result in results]
        click.echo(json.dumps(reports[0] if single else {"ok": True, "environments": reports}, indent=2))
        return
    for environment, result in zip(environments, results):
        _show(environment, result, kubeconfig, context)


def _show(environment, result, kubeconfig: str | None, context: str | None) -> None:
    where = (
        "a throwaway emulator (stand-in outputs for unapplied upstream stacks)" if result.preview
        else "the local emulator" if environment.emulator else f"account {environment.account_id or '(from credentials)'}"
    )
    click.echo(f"Plan of {environment.name} against {where}:")
    if result.preview or environment.emulator:
        from eksml.emulator.deviations import NOT_EMULATED

        click.echo(f"(emulator variant: {', '.join(NOT_EMULATED)} are left out; moto does not serve them)")
    for stack in result.stacks:
        if stack.plan is None:
            click.echo(f"\n{stack.name}: not planned, waits for outputs of {', '.join(stack.blocked_by)} "
                       "(deploy them first, or use --emulator for a full preview)")
            continue
        plan_ = stack.plan
        note = " (downstream stacks planned with stand-ins for its outputs)" if stack.stood_in else ""
        click.echo(f"\n{stack.name}: {plan_.summary}{note}")
        for change in sorted(plan_.changes, key=lambda c: c.address):
            if change.action in _SYMBOLS:
                click.echo(f"  {_SYMBOLS[change.action]:>3} {change.address}")
    total = sum(1 for stack in result.stacks for change in (stack.plan.changes if stack.plan else ()))
    click.echo(f"\n{total} resource changes in {len(result.stacks)} stacks ({result.seconds:.0f}s).")
    # Without a cluster the Kubernetes layer's plan is a diff of values and objects against the last render.
    from eksml.k8s.render import current_outputs, default_render_dir

    outputs = current_outputs(environment)
    click.echo("\n" + _kubernetes_plan(environment, outputs, default_render_dir(environment)))
    if kubeconfig or context:
        from pathlib import Path

        from eksml.k8s.live import format_changes, release_changes

        changes = release_changes(environment, outputs, Path(kubeconfig) if kubeconfig else None, context)
        click.echo("\n" + format_changes(changes))


def _kubernetes_plan(environment, outputs, previous_dir) -> str:
    """Object by object (real charts) when the last render has full manifests; else values and owned
    objects, which needs no chart."""
    from eksml.k8s.object_diff import has_object_render, plan_objects
    from eksml.k8s.render import plan_diff

    if not has_object_render(previous_dir):
        return (plan_diff(environment, outputs, previous_dir).summary()
                + f"\n(run `eksml render {environment.name}` once to compare full objects from the charts)")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="eksml-plan-") as scratch:
        return plan_objects(environment, outputs, previous_dir, Path(scratch)).summary()


def _as_json(result) -> dict:
    return {
        "ok": True,
        "environment": result.env_name,
        "preview": result.preview,
        "seconds": round(result.seconds, 1),
        "stacks": [
            {
                "name": stack.name,
                "planned": stack.plan is not None,
                "blocked_by": list(stack.blocked_by),
                "has_changes": stack.has_changes,
                "stand_in_outputs": stack.stood_in,
                "add": stack.plan.adds if stack.plan else 0,
                "change": stack.plan.updates if stack.plan else 0,
                "destroy": stack.plan.destroys if stack.plan else 0,
                "changes": [
                    {"address": c.address, "type": c.type, "action": c.action, "replace": c.is_replace,
                     "delete": c.is_delete}
                    for c in (stack.plan.changes if stack.plan else ())
                ],
            }
            for stack in result.stacks
        ],
    }
