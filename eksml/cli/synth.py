"""`eksml synth ENV... | --all`: write the Terraform JSON of every stack of one or more environments,
all in one process (the CDKTF AWS binding is imported once)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from eksml.cli.arguments import endpoint_url
from eksml.cli.common import all_option, envs_argument, load_many, output_option, report_failures
from eksml.paths import PROJECT_ROOT
from eksml.aws.synth import default_outdir
from eksml.aws.synth_many import EnvironmentSynthesis, synthesize_each, target_for
from eksml.emulator.deviations import NOT_EMULATED
from eksml.emulator.target import DEFAULT_EMULATOR_ENDPOINT


def _endpoint(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return endpoint_url(value, DEFAULT_EMULATOR_ENDPOINT)  # http:// alone would reach the Terraform JSON


@click.command()
@envs_argument
@all_option
@click.option("--emulator", is_flag=True,
              help=f"Target the local AWS emulator instead of AWS (endpoint {DEFAULT_EMULATOR_ENDPOINT} "
                   "unless --emulator-endpoint is given).")
@click.option("--emulator-endpoint", metavar="URL", callback=_endpoint,
              help="Emulator URL to point every AWS call at; implies --emulator.")
@click.option("--outdir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write (default .eksml/ENV/cdktf.out, or .eksml/ENV/emulator/cdktf.out); "
                   "with several environments, OUTDIR/ENV.")
@output_option
@report_failures
def synth(envs: tuple[str, ...], all_envs: bool, emulator: bool, emulator_endpoint: str | None, outdir: Path | None,
          output_format: str) -> None:
    """Synthesize the network, cluster, data and platform stacks of each ENV to Terraform JSON."""
    environments = load_many(envs, all_envs)
    single = len(environments) == 1 and not all_envs
    done = synthesize_each(environments, lambda env: target_for(env, emulator_endpoint, emulator),
                           lambda env, target: _outdir(env.name, target, outdir, single))
    if output_format == "json":
        reports = [_as_json(one) for one in done]
        click.echo(json.dumps(reports[0] if single else {"ok": True, "environments": reports}, indent=2))
        return
    for one in done:
        _show(one)


def _as_json(one: EnvironmentSynthesis) -> dict:
    return {
        "ok": True,
        "environment": one.env.name,
        "endpoint": one.target.endpoint_url,
        "not_emulated": list(NOT_EMULATED) if one.target.emulated else [],
        "stacks": [{"name": s.name, "directory": str(s.directory), "depends_on": list(s.depends_on)}
                   for s in one.stacks],
    }


def _show(one: EnvironmentSynthesis) -> None:
    where = f"the emulator at {one.target.endpoint_url}" if one.target.emulated else "AWS"
    click.echo(f"{one.env.name}: {len(one.stacks)} stacks for {where}")
    for stack in one.stacks:
        after = f"  (after {', '.join(stack.depends_on)})" if stack.depends_on else ""
        click.echo(f"  {stack.name:<9} {_shown(stack.config_file)}{after}")
    if one.target.emulated:
        click.echo(f"  not emulated: {', '.join(NOT_EMULATED)}")


def _outdir(env_name: str, target, outdir: Path | None, single: bool) -> Path:
    """OUTDIR itself for one environment (as before), OUTDIR/ENV for several, else the default place."""
    if outdir is None:
        return default_outdir(env_name, target)
    return outdir if single else outdir / env_name


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
