#!/usr/bin/env python3
"""Shell exports that make the CDKTF CLI run Terraform the way eksml does: the same CLI config
(hashicorp/aws from the offline provider mirror, the shared plugin cache), no checkpoint calls, the
jsii-supported Node first on PATH; with --emulator URL also the emulator's endpoint and test
credentials (and nothing of the user's real AWS profile).

Usage: eval "$(.venv/bin/python scripts/cdktf_env.py [--emulator http://127.0.0.1:PORT])"
then:  EKSML_ENV=dev .tools/node_modules/.bin/cdktf synth | diff STACK | deploy STACKS --auto-approve
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eksml.cli.common import report_failures  # noqa: E402
from eksml.emulator.target import aws_environment  # noqa: E402
from eksml.terraform.setup import go_gc_percent, prepare_terraform  # noqa: E402
from eksml.workspace import shared_terraform_dir  # noqa: E402

NODE_BIN = ROOT / ".tools" / "node_modules" / "node" / "bin"


def cdktf_environment(emulator: str | None, region: str) -> dict[str, str | None]:
    """Variables for a cdktf run; None means unset."""
    cli = prepare_terraform(shared_terraform_dir())
    found = {
        "TF_CLI_CONFIG_FILE": str(cli.cli_config_file),
        "CDKTF_DISABLE_PLUGIN_CACHE_ENV": "1",  # else cdktf sets TF_PLUGIN_CACHE_DIR over our config's cache
        "TF_PLUGIN_CACHE_DIR": None,
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "GOGC": go_gc_percent(os.environ),  # as eksml's own terraform runs
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    if (NODE_BIN / "node").is_file():
        found["JSII_NODE"] = str(NODE_BIN / "node")
        found["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    if emulator:
        found["EKSML_EMULATOR_ENDPOINT"] = emulator
        found.update(aws_environment(emulator, region))
    return found


@click.command()
@click.option("--emulator", default=None, help="The local emulator's URL (http://127.0.0.1:PORT) to deploy to.")
@click.option("--region", default="us-east-1", show_default=True, help="Region for the emulator's credentials.")
@report_failures
def main(emulator: str | None, region: str) -> None:
    for name, value in cdktf_environment(emulator, region).items():
        click.echo(f"unset {name}" if value is None else f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
