import click

from eksml.cli.common import env_argument, load, report_failures


@click.command()
@env_argument
@click.option("--output", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="text for people, json for machines, markdown for a pull request.")
@report_failures
def outdated(env: str, output_format: str) -> None:
    """For every pin of ENV (Kubernetes, AMI release, each chart): in use, newest available, and whether
    the newest fits the rest of the environment. Charts are compared with the repository's index.yaml
    (charts.mirror or EKSML_CHART_MIRROR when set)."""
    from eksml.versions.outdated import as_json, as_markdown, as_text, outdated_pins

    environment = load(env)
    pins = outdated_pins(environment)
    render = {"json": as_json, "markdown": as_markdown}.get(output_format, as_text)
    click.echo(render(environment, pins))
