import json

import click

from eksml.cli.common import env_argument, load, report_failures


@click.command()
@env_argument
@click.option("--output", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="text for people, json for machines, markdown for a pull-request comment.")
@click.option("--against", "other", metavar="OTHER_FILE_OR_GIT_REF",
              help="Print the change in slices and cost from another environment file or from ENV at a git ref.")
@click.option("--add", "addition", metavar="'NAME: RESOURCE xN'",
              help="What if N more pods ask for one RESOURCE each: does it fit, where, and at what cost.")
@report_failures
def capacity(env: str, output_format: str, other: str | None, addition: str | None) -> None:
    """The GPU slices each pool of ENV offers, the pods that ask for them, the teams' quotas and the cost."""
    from eksml.capacity import capacity_report
    from eksml.capacity.format import format_changes, format_markdown, format_text

    if other is not None:
        from eksml.capacity.against import capacity_against

        report, changes, new = capacity_against(env, other)
        if output_format == "json":
            click.echo(json.dumps({"environment": report.env, "against": other, "new": new,
                                   "changes": [c.as_dict() for c in changes]}, indent=2))
        else:
            click.echo(format_changes(report.env, other, changes, new, markdown=output_format == "markdown"))
        return
    if addition is not None:
        from eksml.capacity import capacity_what_if
        from eksml.capacity.what_if import describe

        result, hours = capacity_what_if(load(env), addition)
        if output_format == "json":
            click.echo(json.dumps({"add": vars(result.addition), "options": [o.as_dict(hours) for o in result.options],
                                   "chosen": result.chosen.pool if result.chosen else None}, indent=2))
        else:
            click.echo(describe(result, hours))
        return
    report = capacity_report(load(env))
    if output_format == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    elif output_format == "markdown":
        click.echo(format_markdown(report))
    else:
        click.echo(format_text(report))
