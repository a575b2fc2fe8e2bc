import json
import sys

import click

from eksml.cli.common import load, output_option, report_failures
from eksml.doctor import format_report, run_doctor


@click.command()
@click.option("--env", "env_ref", metavar="ENV", default=None, help="Also check ENV's state bucket and account.")
@output_option
@report_failures
def doctor(env_ref: str | None, output_format: str) -> None:
    """Check tools, credentials and the provider mirror; print the fix for each problem (exit 1 if one is missing)."""
    environment = load(env_ref) if env_ref else None
    report = run_doctor(environment)
    if output_format == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(format_report(report))
    sys.exit(0 if report.ok else 1)
