"""ENV as the command line gives it, and the readers around validation: what is not a readable file,
the last-resort handler, JSON usage errors, promote and the CI script on files the strict reader refuses."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import eksml.cli.common as cli_common
from eksml.cli import cli, main
from eksml.config.loader import validate_sections
from eksml.config.models import Environment, Tier
from eksml.config.yaml_source import ambiguity
from eksml.paths import ENVIRONMENTS_DIR, PROJECT_ROOT

DEV_TEXT = (ENVIRONMENTS_DIR / "dev.yaml").read_text()


def validate(*args: str):
    return CliRunner().invoke(cli, ["validate", *args])


def refused_with(result, words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert words in result.output, result.output


def test_a_directory_is_named_a_directory(tmp_path: Path):
    folder = tmp_path / "dev.yaml"
    folder.mkdir()
    refused_with(validate(str(folder)), "is a directory, not an environment file")


def test_a_symlink_loop_is_named(tmp_path: Path):
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    refused_with(validate(str(tmp_path / "a.yaml")), "symbolic link loop")


def test_a_dangling_symlink_is_named(tmp_path: Path):
    (tmp_path / "dev.yaml").symlink_to(tmp_path / "gone.yaml")
    refused_with(validate(str(tmp_path / "dev.yaml")), "symbolic link to a file that does not exist")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_named_and_not_read(tmp_path: Path):
    fifo = tmp_path / "dev.yaml"
    os.mkfifo(fifo)
    refused_with(validate(str(fifo)), "named pipe (FIFO)")  # reading it would block forever


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_a_device_is_named():
    refused_with(validate("/dev/null"), "character device")


def test_a_name_longer_than_the_file_system_allows():
    refused_with(validate("e" * 300), "longer than the file system allows")


def test_a_path_through_a_file(tmp_path: Path):
    (tmp_path / "file").write_text("x")
    refused_with(validate(str(tmp_path / "file" / "dev.yaml")), "a part of the path is a file")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file(tmp_path: Path):
    path = tmp_path / "dev.yaml"
    path.write_text(DEV_TEXT)
    path.chmod(0)
    refused_with(validate(str(path)), "permission denied")


def test_an_unknown_name_lists_the_known_environments():
    refused_with(validate("qa"), "known environments: dev, local, prod, staging")


@pytest.mark.parametrize("value, ambiguous", [
    ("yes", True), ("No", True), ("ON", True), ("y", True), ("010", True), ("0o17", True), ("0x1f", True),
    ("1_000", True), ("1:30", True), ("1e3", True), ("2026-07-14", True), ("=", True),
    ("true", False), ("False", False), ("10", False), ("-3", False), ("1.5", False), ("~", False),
    ("1.33.5-20260714", False), ("mlplatform-dev", False), ("0", False),
])
def test_ambiguous_scalars_are_those_yaml_11_and_12_read_differently(value: str, ambiguous: bool):
    assert (ambiguity(value) is not None) is ambiguous


def test_a_quoted_ambiguous_value_is_text_for_every_reader(tmp_path: Path):
    path = tmp_path / "dev.yaml"
    path.write_text(DEV_TEXT.replace("team: ml-platform", 'team: "on"'))
    assert validate(str(path)).exit_code == 0
    from ruamel.yaml import YAML

    assert YAML(typ="rt").load(path.read_text())["tags"]["team"] == yaml.safe_load(path.read_text())["tags"]["team"] == "on"


def test_a_file_named_prod_keeps_the_prod_guards_even_when_built_past_the_loader():
    data = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())
    data["tier"] = "dev"
    env = Environment.model_validate(data)
    assert env.resolved_tier is Tier.prod
    assert env.protected


def test_sections_that_validate_are_kept_when_another_does_not():
    data = yaml.safe_load(DEV_TEXT)
    data["node_pools"]["cpu"]["kind"] = "tpu"
    env, valid, issues = validate_sections(data, "dev.yaml")
    assert "node_pools" not in valid and {"cluster", "storage", "network"} <= valid
    assert env.cluster.name == "mlplatform-dev"
    assert [issue.path for issue in issues] == ["node_pools.cpu.kind"]


def test_usage_errors_are_json_under_output_json(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["eksml", "validate", "--output", "json"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    report = json.loads(capsys.readouterr().out)
    assert report == {"ok": False, "error": "usage", "message": "Missing argument 'ENV'."}


def test_an_unexpected_exception_is_one_line_and_a_log_file(monkeypatch, capsys, tmp_path: Path):
    def broken(_ref):
        raise RuntimeError("the loader broke\nsecond line")

    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setattr(cli_common, "load_environment", broken)
    monkeypatch.setattr(sys, "argv", ["eksml", "validate", "dev"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("error: stage 'validate' failed unexpectedly: RuntimeError: the loader broke")
    log = Path(err.rsplit("the traceback is in ", 1)[1].rstrip(")"))
    assert log.parent == tmp_path / "work" / "logs"
    assert "Traceback" in log.read_text() and "the loader broke" in log.read_text()


def test_the_crash_log_falls_back_to_the_temp_directory(monkeypatch, capsys, tmp_path: Path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("EKSML_WORK_DIR", str(blocker))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setattr(cli_common, "load_environment", lambda _ref: 1 / 0)
    monkeypatch.setattr(sys, "argv", ["eksml", "validate", "dev", "--output", "json"])
    with pytest.raises(SystemExit):
        main()
    report = json.loads(capsys.readouterr().out)
    assert report["stage"] == "validate" and report["error"].startswith("ZeroDivisionError")
    assert Path(report["log"]).parent == tmp_path / "tmp" / "eksml-logs"


@pytest.fixture
def envs(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, folder)
    monkeypatch.chdir(tmp_path)
    return folder


def test_promote_refuses_a_target_with_duplicate_keys_before_the_round_trip(envs: Path):
    staging = envs / "staging.yaml"
    staging.write_text(staging.read_text() + "region: us-east-2\n")
    before = staging.read_bytes()
    result = CliRunner().invoke(cli, ["promote", str(envs / "dev.yaml"), str(staging)])
    assert result.exit_code == 2, result.output
    assert "written twice" in result.output
    assert staging.read_bytes() == before


def test_promote_keeps_bom_and_crlf(envs: Path):
    dev, staging = envs / "dev.yaml", envs / "staging.yaml"
    dev.write_text(dev.read_text().replace('kubernetes_version: "1.35"', 'kubernetes_version: "1.36"')
                   .replace("ami_release_version: 1.35.7-20260903", "ami_release_version: 1.36.2-20261001"))
    staging.write_bytes(b"\xef\xbb\xbf" + staging.read_bytes().replace(b"\n", b"\r\n"))
    result = CliRunner().invoke(cli, ["promote", str(dev), str(staging)])
    assert result.exit_code == 0, result.output
    data = staging.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b'kubernetes_version: "1.36"\r\n' in data
    assert data.count(b"\n") == data.count(b"\r\n")


def test_promote_into_a_read_only_directory_fails_cleanly(envs: Path, monkeypatch):
    import tempfile

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    dev = envs / "dev.yaml"
    dev.write_text(dev.read_text().replace("mlflow: {version: 1.11.5}", "mlflow: {version: 1.11.6}"))
    from eksml.config import file_write

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(file_write, "_open_temp", refuse)  # a read-only directory refuses O_TMPFILE too
    result = CliRunner().invoke(cli, ["promote", str(dev), str(envs / "staging.yaml")])
    assert result.exit_code == 1, result.output
    assert "could not write" in result.output and "Traceback" not in result.output


SCRIPT = PROJECT_ROOT / "scripts" / "changed_environments.py"


def _script():
    spec = importlib.util.spec_from_file_location("changed_environments_strict", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("strict", [True, False], ids=["strict-reader", "line-reader"])
def test_the_ci_script_refuses_a_duplicated_emulator_key(tmp_path: Path, monkeypatch, strict: bool):
    script = _script()
    if not strict:
        monkeypatch.setattr(script, "_strict_reader", lambda: None)
    (tmp_path / "dev.yaml").write_text("name: dev\nemulator: false\nemulator: true\n")
    with pytest.raises(script.EnvironmentFileError, match="twice"):
        script.known_environments(tmp_path)


@pytest.mark.parametrize("strict", [True, False], ids=["strict-reader", "line-reader"])
def test_the_ci_script_refuses_yes_for_emulator(tmp_path: Path, monkeypatch, strict: bool):
    script = _script()
    if not strict:
        monkeypatch.setattr(script, "_strict_reader", lambda: None)
    (tmp_path / "dev.yaml").write_text("name: dev\nemulator: yes\n")
    with pytest.raises(script.EnvironmentFileError):
        script.known_environments(tmp_path)


@pytest.mark.parametrize("strict", [True, False], ids=["strict-reader", "line-reader"])
def test_the_ci_script_and_eksml_agree_on_the_shipped_files(monkeypatch, strict: bool):
    script = _script()
    if not strict:
        monkeypatch.setattr(script, "_strict_reader", lambda: None)
    from eksml.config import load_environment

    for name, info in script.known_environments(ENVIRONMENTS_DIR).items():
        env = load_environment(name)
        assert (info.tier, info.emulator) == (env.resolved_tier.value, env.emulator)
