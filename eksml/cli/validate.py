import json

import click

from eksml.cli.common import env_argument, load, output_option, report_failures


@click.command()
@env_argument
@output_option
@report_failures
def validate(env: str, output_format: str) -> None:
    """Check an environment file; report every problem with its field path (exit 2)."""
    environment = load(env)
    if output_format == "json":
        click.echo(json.dumps({"ok": True, "environment": environment.name, "issues": []}))
        return
    pools = ", ".join(f"{name} ({pool.kind.value})" for name, pool in environment.node_pools.items())
    click.echo(f"{environment.name}: valid. cluster {environment.cluster.name} in {environment.region}; pools: {pools}")
