import json
from pathlib import Path
from typing import Optional

import click

from eksml.cli.common import env_argument, load, output_option, report_failures


@click.command()
@env_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to write to (default: .eksml/<env>/render).")
@output_option
@report_failures
def render(env: str, out_dir: Optional[Path], output_format: str) -> None:
    """Write every Helm release's final values and every object eksml applies, without a cluster.

    Uses the last apply's outputs when there are any, else names predicted from the environment.
    A workload that asks for a GPU but fits no pool stops the render (exit 2, nothing written).
    """
    from eksml.k8s.render import current_outputs, render_platform

    environment = load(env)
    result = render_platform(environment, current_outputs(environment), out_dir)
    if output_format == "json":
        click.echo(json.dumps({
            "ok": True,
            "environment": environment.name,
            "out_dir": str(result.out_dir),
            "index": str(result.index),
            "predicted_outputs": result.predicted,
            "releases": [c.name for c in result.components if c.is_release],
            "files": [str(p) for p in result.files],
        }, indent=2))
        return
    releases = sum(1 for c in result.components if c.is_release)
    source = "predicted outputs" if result.predicted else "outputs of the last apply"
    click.echo(f"{environment.name}: rendered {releases} releases and {len(result.files) - releases - 1} objects "
               f"({source}) to {result.out_dir}")
    click.echo(f"index: {result.index}")
