import json

import click

from eksml.cli.common import env_argument, load, output_option, report_failures


@click.command()
@env_argument
@click.option("--emulator", is_flag=True, help="Look at this environment's local AWS emulator instead of AWS.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="Also report the Helm releases of this cluster.")
@click.option("--context", help="kubeconfig context of the cluster whose releases to report.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 3 when any stack has drifted, any release is not deployed at its pinned version, "
                   "or a schedule's last backup did not complete.")
@output_option
@report_failures
def status(env, emulator, kubeconfig, context, detailed_exitcode, output_format):
    """Each stack's last apply and drift (a plan that is not empty); with a cluster, each release's
    revision and health (in gitops mode, each Argo CD Application's sync and health) and the last
    Velero backup of each schedule."""
    from eksml.deploy.status import (
        Drift,
        applications_of,
        backups_of,
        format_applications,
        format_backups,
        format_releases,
        format_status,
        releases_of,
        stack_status,
    )

    environment = load(env)
    statuses = stack_status(environment, emulator=emulator)
    releases = applications = backups = None
    if kubeconfig or context:
        backups = backups_of(environment, kubeconfig, context) if environment.backups is not None else None
        if environment.delivery == "gitops":  # Argo CD syncs the releases: ask it, not Helm
            applications = applications_of(environment, kubeconfig, context)
        else:
            releases = releases_of(environment, kubeconfig, context)
    if output_format == "json":
        report = {"environment": environment.name, "stacks": [s.as_dict() for s in statuses]}
        if releases is not None:
            report["releases"] = [r.as_dict() for r in releases]
        if applications is not None:
            report["applications"] = [a.as_dict() for a in applications]
        if backups is not None:
            report["backups"] = [b.as_dict() for b in backups]
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_status(environment, statuses))
        if releases is not None:
            click.echo("\n" + format_releases(releases))
        if applications is not None:
            click.echo("\n" + format_applications(applications))
        if backups is not None:
            click.echo("\n" + format_backups(backups))
    unhealthy = [item for item in [*(releases or ()), *(applications or ()), *(backups or ())] if not item.healthy]
    drifted = any(s.drift is not Drift.IN_SYNC for s in statuses) or bool(unhealthy)
    if detailed_exitcode and drifted:
        raise SystemExit(3)
