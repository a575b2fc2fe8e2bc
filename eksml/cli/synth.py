"""`eksml synth`: write the Terraform JSON of every stack of an environment."""

from __future__ import annotations

import json
from pathlib import Path

import click

from eksml.cli.arguments import endpoint_url
from eksml.cli.common import env_argument, load, output_option, report_failures
from eksml.paths import PROJECT_ROOT
from eksml.aws.synth import default_outdir, synthesize
from eksml.emulator.deviations import NOT_EMULATED
from eksml.emulator.target import AwsTarget, DEFAULT_EMULATOR_ENDPOINT


def _endpoint(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return endpoint_url(value, DEFAULT_EMULATOR_ENDPOINT)  # http:// alone would reach the Terraform JSON


@click.command()
@env_argument
@click.option("--emulator", is_flag=True,
              help=f"Target the local AWS emulator instead of AWS (endpoint {DEFAULT_EMULATOR_ENDPOINT} "
                   "unless --emulator-endpoint is given).")
@click.option("--emulator-endpoint", metavar="URL", callback=_endpoint,
              help="Emulator URL to point every AWS call at; implies --emulator.")
@click.option("--outdir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write (default .eksml/ENV/cdktf.out, or .eksml/ENV/emulator/cdktf.out).")
@output_option
@report_failures
def synth(env: str, emulator: bool, emulator_endpoint: str | None, outdir: Path | None, output_format: str) -> None:
    """Synthesize the network, cluster, data and platform stacks of ENV to Terraform JSON."""
    environment = load(env)
    if emulator_endpoint or emulator or environment.emulator:
        target = AwsTarget(emulator_endpoint or DEFAULT_EMULATOR_ENDPOINT)
    else:
        target = AwsTarget()
    stacks = synthesize(environment, outdir or default_outdir(environment.name, target), target)
    if output_format == "json":
        click.echo(json.dumps({
            "ok": True,
            "environment": environment.name,
            "endpoint": target.endpoint_url,
            "not_emulated": list(NOT_EMULATED) if target.emulated else [],
            "stacks": [{"name": s.name, "directory": str(s.directory), "depends_on": list(s.depends_on)}
                       for s in stacks],
        }, indent=2))
        return
    where = f"the emulator at {target.endpoint_url}" if target.emulated else "AWS"
    click.echo(f"{environment.name}: {len(stacks)} stacks for {where}")
    for stack in stacks:
        after = f"  (after {', '.join(stack.depends_on)})" if stack.depends_on else ""
        click.echo(f"  {stack.name:<9} {_shown(stack.config_file)}{after}")
    if target.emulated:
        click.echo(f"  not emulated: {', '.join(NOT_EMULATED)}")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
