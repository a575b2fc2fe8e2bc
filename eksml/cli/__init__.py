"""The `eksml` command: argument parsing only; every command calls into the library.

Subcommands load lazily so `eksml validate` never pays for the CDKTF/jsii import.
"""

from __future__ import annotations

import importlib
import sys

import click

from eksml.cli.last_resort import report_crash, report_usage_error, stage_of
from eksml.cli.output_failure import flush_stdout, report_os_error

from eksml.toolchain import prefer_supported_node

# command name -> "module:function" under eksml.cli
COMMANDS = {
    "validate": "eksml.cli.validate:validate",
    "catalog": "eksml.cli.catalog:catalog",
    "capacity": "eksml.cli.capacity:capacity",
    "synth": "eksml.cli.synth:synth",
    "plan": "eksml.cli.plan:plan",
    "deploy": "eksml.cli.deploy:deploy",
    "destroy": "eksml.cli.destroy:destroy",
    "render": "eksml.cli.render:render",
    "charts": "eksml.cli.charts:charts",
    "images": "eksml.cli.images:images",
    "netcheck": "eksml.cli.netcheck:netcheck",
    "status": "eksml.cli.status:status",
    "promote": "eksml.cli.promote:promote",
    "doctor": "eksml.cli.doctor:doctor",
    "unlock": "eksml.cli.unlock:unlock",
    "outdated": "eksml.cli.outdated:outdated",
    "endpoints": "eksml.cli.access:endpoints",
    "port-forward": "eksml.cli.access:port_forward",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return None  # a command not built yet: click reports "No such command"
        return getattr(module, attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="eksml")
def cli() -> None:
    """Provision and operate a GPU-ready AI/MLOps platform on AWS EKS.

    ENV is an environment name under environments/ (local, dev, staging, prod)
    or a path to an environment file.
    """
    prefer_supported_node()


def main() -> None:
    """Runs the command; usage errors exit 2, and an unexpected exception becomes one line and a log file."""
    argv = sys.argv[1:]
    try:
        code = cli.main(args=argv, prog_name="eksml", standalone_mode=False)
    except click.ClickException as exc:
        code = report_usage_error(exc, argv)
    except click.Abort:
        click.echo("Aborted!", err=True)
        code = 1
    except OSError as exc:  # the output or a file no command caught: an operational failure, not a bug
        code = report_os_error(exc, stage_of(argv, COMMANDS))
    except Exception as exc:  # noqa: BLE001 - the last resort: anything else is a bug, reported without a traceback
        code = report_crash(exc, stage_of(argv, COMMANDS), argv)
    unwritten = flush_stdout()
    if unwritten is not None:
        code = report_os_error(unwritten, stage_of(argv, COMMANDS))
    sys.exit(code if isinstance(code, int) else 0)
