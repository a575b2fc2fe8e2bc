import json

import click

from eksml.cli.common import env_argument, load, report_failures


@click.command()
@env_argument
@click.option("--output", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="text for people, json for machines, markdown for a pull-request comment.")
@report_failures
def capacity(env: str, output_format: str) -> None:
    """The GPU slices each pool of ENV offers, the pods that ask for them, and the teams' quotas."""
    from eksml.capacity import capacity_report
    from eksml.capacity.format import format_markdown, format_text

    report = capacity_report(load(env))
    if output_format == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    elif output_format == "markdown":
        click.echo(format_markdown(report))
    else:
        click.echo(format_text(report))
