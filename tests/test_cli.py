"""The command line itself: every command loads and documents itself, and argument mistakes are
refused before anything runs (exit 2, click's usage or our file/field message)."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from eksml.cli import COMMANDS, cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_loads_and_shows_its_help(name):
    """Commands load lazily: a broken import would otherwise only show when someone runs it."""
    result = run(name, "--help")
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {name}" in result.output or f"Usage: eksml {name}" in result.output
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, click.Command)
    assert (command.help or "").strip(), f"{name} has no help text"


def test_the_top_level_help_lists_every_command():
    result = run("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name}" in result.output


def test_an_unknown_command_is_a_usage_error():
    result = run("deplo", "dev")
    assert result.exit_code == 2
    assert "No such command" in result.output


# -- catalog --------------------------------------------------------------------------------------


def test_catalog_lists_the_gpu_instance_types():
    result = run("catalog")
    assert result.exit_code == 0
    for name in ("p4de.24xlarge", "p5.48xlarge", "m5.large"):
        assert name in result.output


def test_catalog_describes_one_type_with_its_mig_profiles_as_json():
    result = run("catalog", "p4de.24xlarge", "--output", "json")
    assert result.exit_code == 0, result.output
    described = json.loads(result.output)
    assert described["type"] == "p4de.24xlarge"
    text = json.dumps(described)
    assert "A100-80GB" in text and "3g.40gb" in text


def test_catalog_refuses_an_unknown_type_naming_the_known_ones():
    result = run("catalog", "p9.mega")
    assert result.exit_code == 2
    assert "unknown instance type 'p9.mega'" in result.output
    assert "p4de.24xlarge" in result.output


# -- argument errors of the commands that touch AWS: refused before anything runs -------------------


@pytest.mark.parametrize("args, fragment", [
    (("status",), "Missing argument 'ENV'"),
    (("status", "dev", "--output", "yaml"), "'yaml' is not one of"),
    (("status", "no-such-env"), "no such environment file"),
    (("plan",), "name at least one ENV (or --all)"),
    (("plan", "dev", "--output", "xml"), "'xml' is not one of"),
    (("plan", "no-such-env"), "no such environment file"),
    (("plan", "dev", "--emulator", "--bogus"), "No such option"),
    (("unlock", "dev"), "Missing argument 'STACK'"),
    (("unlock", "dev", "cluster"), "Missing argument 'LOCK_ID'"),
    (("unlock", "dev", "nosuch", "1234"), "'nosuch' is not one of"),
    (("unlock", "no-such-env", "cluster", "1234"), "no such environment file"),
    (("deploy", "dev", "--from-stage", "later"), "'later' is not one of"),
    (("synth", "dev", "--emulator-endpoint", "localhost:4566"), "is not a URL"),
])
def test_argument_mistakes_exit_2_before_anything_runs(args, fragment):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_unlock_lists_the_stacks_it_knows():
    result = run("unlock", "dev", "nosuch", "1234")
    for stack in ("network", "cluster", "data", "karpenter", "platform"):
        assert stack in result.output
