import json

import click

from eksml.cli.common import env_argument, load, output_option, report_failures


@click.command()
@env_argument
@click.option("--emulator", is_flag=True, help="Look at this environment's local AWS emulator instead of AWS.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 3 when any stack has drifted (for scripts).")
@output_option
@report_failures
def status(env, emulator, detailed_exitcode, output_format):
    """Each stack's last apply and drift (a plan that is not empty)."""
    from eksml.deploy.status import format_status, stack_status

    environment = load(env)
    statuses = stack_status(environment, emulator=emulator)
    if output_format == "json":
        click.echo(json.dumps({"environment": environment.name, "stacks": [s.as_dict() for s in statuses]}, indent=2))
    else:
        click.echo(format_status(environment, statuses))
    if detailed_exitcode and any(s.drift != "in sync" for s in statuses):
        raise SystemExit(3)
