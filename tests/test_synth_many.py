"""`eksml synth ENV...|--all` and `eksml plan ENV...|--all --emulator`: several environments in one
process, each exactly as it would be on its own."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from shipped import SHIPPED

from eksml.cli import cli


def test_synth_of_several_environments_writes_each_as_a_synth_of_it_alone(tmp_path: Path, synthesized_environments):
    result = CliRunner().invoke(cli, ["synth", "dev", "staging", "--outdir", str(tmp_path), "--output", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [r["environment"] for r in report["environments"]] == ["dev", "staging"]
    for name in ("dev", "staging"):
        for stack in synthesized_environments[name].stacks:
            together = json.loads((tmp_path / name / "stacks" / stack.name / "cdk.tf.json").read_text())
            alone = json.loads(stack.config_file.read_text())
            assert together == alone, f"{name}/{stack.name} differs from its own synth"


def test_synth_all_names_every_shipped_environment(tmp_path: Path):
    result = CliRunner().invoke(cli, ["synth", "--all", "--emulator", "--outdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == SHIPPED
    assert all((tmp_path / name / "stacks" / "platform" / "cdk.tf.json").is_file() for name in SHIPPED)


def test_one_environment_still_writes_to_outdir_itself(tmp_path: Path):
    result = CliRunner().invoke(cli, ["synth", "local", "--outdir", str(tmp_path), "--output", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["environment"] == "local"
    assert (tmp_path / "stacks" / "network" / "cdk.tf.json").is_file()


@pytest.mark.parametrize("args, words", [
    (["synth"], "name at least one ENV (or --all)"),
    (["synth", "dev", "--all"], "give ENV names or --all, not both"),
    (["plan", "dev", "staging"], "only with --emulator"),
    (["plan", "--all"], "only with --emulator"),
    (["plan", "dev", "staging", "--emulator", "--context", "x"], "name one ENV"),
])
def test_several_environments_misused_is_a_usage_error(args, words):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


def test_the_issues_of_every_named_environment_come_in_one_report(tmp_path: Path, monkeypatch):
    result = CliRunner().invoke(cli, ["synth", "dev", "no-such-env", "also-missing"])
    assert result.exit_code == 2, result.output
    assert "2 problems found" in result.output
    assert "no-such-env" in result.output and "also-missing" in result.output


FULL_IMPORT_SYNTH = """
import sys
from pathlib import Path
from eksml.toolchain import prefer_supported_node
prefer_supported_node()
import cdktf_cdktf_provider_aws  # the whole binding, as before the stacks imported it module by module
from eksml.aws.synth import synthesize
from eksml.config import load_environment
synthesize(load_environment("dev"), Path(sys.argv[1]))
print(sum(name.startswith("cdktf_cdktf_provider_aws.") for name in sys.modules))
"""


def test_the_session_synth_loads_only_the_provider_modules_the_stacks_use(synthesized_environments):
    lazily = sum(name.startswith("cdktf_cdktf_provider_aws.") for name in sys.modules)
    assert 0 < lazily < 200, "the session's synth loaded the whole provider binding"


@pytest.mark.deep  # a minute of CPU for the whole binding's import: `make fuzz`
def test_importing_only_the_provider_modules_used_synthesizes_the_same_json(tmp_path: Path, synthesized_environments):
    """The stacks load ~40 of the binding's ~2,100 modules; the JSON equals a synth with all of them loaded."""
    import subprocess

    full = subprocess.run([sys.executable, "-c", FULL_IMPORT_SYNTH, str(tmp_path)], capture_output=True, text=True,
                          timeout=600)
    assert full.returncode == 0, full.stderr[-3000:]
    assert int(full.stdout.split()[-1]) > 2000
    for stack in synthesized_environments["dev"].stacks:
        alone = json.loads(stack.config_file.read_text())
        assert json.loads((tmp_path / "stacks" / stack.name / "cdk.tf.json").read_text()) == alone, stack.name
