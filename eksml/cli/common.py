"""Shared pieces of the CLI: the ENV argument, output format, and mapping failures to exit codes."""

from __future__ import annotations

import functools
import json
import sys

import click

from eksml.config import Environment, load_environment
from eksml.errors import ConfigError, StageError

env_argument = click.argument("env", metavar="ENV")
output_option = click.option(
    "--output", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text for people, json for machines.",
)


def report_failures(command):
    """Bad input exits 2 with every issue; an operational failure exits 1 naming its stage."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        output_format = kwargs.get("output_format", "text")
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            if output_format == "json":
                click.echo(json.dumps({"ok": False, "issues": [i.as_dict() for i in exc.issues]}, indent=2))
            else:
                noun = "problem" if len(exc.issues) == 1 else "problems"
                click.echo(f"error: {len(exc.issues)} {noun} found; nothing was written or applied.", err=True)
                for issue in exc.issues:
                    click.echo(f"  {issue}", err=True)
            sys.exit(ConfigError.exit_code)
        except StageError as exc:
            _report_stage_error(exc, output_format)
        except OSError as exc:
            # A file the command had to read or write: said as an operational failure, not a traceback.
            stage = click.get_current_context().info_name or "eksml"
            what = f"cannot use {exc.filename}" if exc.filename else "cannot write the output"
            _report_stage_error(StageError(stage, f"{what}: {exc.strerror or exc}"), output_format)

    return wrapper


def _report_stage_error(exc: StageError, output_format: str) -> None:
    if output_format == "json":
        click.echo(json.dumps({"ok": False, "stage": exc.stage, "error": str(exc)}, indent=2))
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(StageError.exit_code)


def load(env_ref: str) -> Environment:
    return load_environment(env_ref)


envs_argument = click.argument("envs", metavar="ENV...", nargs=-1)
all_option = click.option("--all", "all_envs", is_flag=True, help="Every environment under environments/.")


def load_many(env_refs: tuple[str, ...], all_envs: bool) -> list[Environment]:
    """The environments named (or all of them), each validated; the issues of all of them in one report."""
    from eksml.config.loader import known_environments

    if all_envs and env_refs:
        raise click.UsageError("give ENV names or --all, not both")
    refs = known_environments() if all_envs else list(dict.fromkeys(env_refs))
    if not refs:
        raise click.UsageError("name at least one ENV (or --all)")
    loaded, issues = [], []
    for ref in refs:
        try:
            loaded.append(load_environment(ref))
        except ConfigError as exc:
            issues += exc.issues
    if issues:
        raise ConfigError(issues)
    return loaded
