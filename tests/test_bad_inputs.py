"""Hostile inputs beyond the environment file (tests/bad_inputs/input_cases.py), each through the real CLI.

Overlays, output folders, promote targets, lock IDs and arguments: every case exits with its code
and names the problem, never prints a traceback or "a bug in eksml", and a user's files are byte for
byte what they were. Bounded-resource cases (alias bomb, deep nesting, huge files) finish in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import eksml.k8s.model.context as render_context
from eksml.cli import cli
from eksml.paths import ENVIRONMENTS_DIR, HELM_VALUES_DIR, PROJECT_ROOT

CORPUS = Path(__file__).parent / "bad_inputs"
sys.path.insert(0, str(CORPUS))
from input_cases import ARGUMENTS, ENVIRONMENT_VARIABLES, FOLDERS, LOCK_IDS, OVERLAYS, PROMOTE_TARGETS, FolderCase, OverlayCase  # noqa: E402

sys.path.remove(str(CORPUS))


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_clean(output: str) -> None:
    assert "Traceback" not in output and "a bug in eksml" not in output, output


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def values_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of helm_values/ that every render of this test reads instead of the project's."""
    copy = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, copy, symlinks=True)
    monkeypatch.setattr(render_context, "HELM_VALUES_DIR", copy)
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    return copy


def write_overlay(values_dir: Path, case: OverlayCase) -> None:
    for relative, entry in case.files.items():
        path = values_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(entry):
            path.unlink(missing_ok=True)  # a shipped base file of that name makes way
            entry(path)
        else:
            path.write_bytes(entry)


@pytest.mark.parametrize("name", sorted(OVERLAYS))
@pytest.mark.parametrize("gitops", [False, True], ids=["render", "gitops"])
def test_bad_overlay_is_refused_on_both_render_paths(name, gitops, values_dir, tmp_path):
    case = OVERLAYS[name]
    write_overlay(values_dir, case)
    out = tmp_path / "out"
    env = "staging" if gitops else case.env
    if gitops and case.env == "dev" and any(k.startswith("dev/") for k in case.files):
        for relative in case.files:  # the same overlay, for the environment that renders for GitOps
            source = values_dir / relative
            if relative.startswith("dev/") and (source.exists() or source.is_symlink()):
                (values_dir / "staging").mkdir(exist_ok=True)
                os.replace(source, values_dir / "staging" / relative.removeprefix("dev/"))
        if name == "broken_for_disabled":
            pytest.skip("argocd is enabled in staging")
    begun = time.monotonic()
    args = ["render", env, "--gitops" if gitops else "--out", str(out)]
    result = run(*args)
    assert time.monotonic() - begun < 20, "a bounded-resource case must finish in seconds"
    assert result.exit_code == case.code, result.output
    assert case.expect in result.output, result.output
    assert_clean(result.output)
    assert not out.exists(), "nothing is written on bad input"


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_output_folder_with_user_files_is_refused_and_kept(name, tmp_path, monkeypatch):
    case: FolderCase = FOLDERS[name]
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    folder = tmp_path / "folder"
    for relative, data in case.user_files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    before = snapshot(folder)
    if case.cwd_out:
        monkeypatch.chdir(folder)
    target = "." if case.cwd_out else str(folder)
    result = run("render", "staging" if case.gitops else "dev", "--gitops" if case.gitops else "--out", target)
    assert result.exit_code == 2, result.output
    assert case.expect in result.output and "--force" in result.output, result.output
    assert_clean(result.output)
    assert snapshot(folder) == before
    assert not (tmp_path / "outside.txt").exists()


def test_the_project_readme_survives_render_out_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.chdir(PROJECT_ROOT)
    before = (PROJECT_ROOT / "README.md").read_bytes()
    result = run("render", "dev", "--out", ".")
    assert result.exit_code == 2 and "README.md" in result.output, result.output
    assert (PROJECT_ROOT / "README.md").read_bytes() == before


def _promote_target(kind: str, folder: Path) -> str:
    if kind == "fifo":
        os.mkfifo(folder / "fifo.yaml")
        return "fifo.yaml"
    if kind == "missing":
        return "missing.yaml"
    if kind == "dangling":
        (folder / "dangling.yaml").symlink_to(folder / "nowhere.yaml")
        return "dangling.yaml"
    if kind == "loop":
        (folder / "loop1.yaml").symlink_to(folder / "loop2.yaml")
        (folder / "loop2.yaml").symlink_to(folder / "loop1.yaml")
        return "loop1.yaml"
    if kind == "read_only":
        (folder / "staging.yaml").chmod(0o444)
        return "staging.yaml"
    return "stag\x1b[31ming.yaml"


@pytest.fixture
def promote_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "envs"
    folder.mkdir()
    for name in ("dev", "staging"):
        shutil.copy(ENVIRONMENTS_DIR / f"{name}.yaml", folder / f"{name}.yaml")
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("name", sorted(PROMOTE_TARGETS))
def test_bad_promote_target_exits_2_before_any_lock_or_write(name, promote_folder):
    kind, expect = PROMOTE_TARGETS[name]
    target = _promote_target(kind, promote_folder)
    before = snapshot(promote_folder)
    # A subprocess with a timeout: a target opened before it is checked (a FIFO) would hang forever.
    result = subprocess.run([sys.executable, "-m", "eksml", "promote", "./dev.yaml", f"./{target}"],
                            capture_output=True, text=True, timeout=60, cwd=promote_folder,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert expect in output, output
    assert "\x1b" not in output, "a control character is never echoed raw"
    assert_clean(output)
    assert snapshot(promote_folder) == before


@pytest.mark.parametrize("name", sorted(LOCK_IDS))
def test_bad_lock_id_exits_2_before_synth_or_init(name, tmp_path, monkeypatch):
    lock_id, expect = LOCK_IDS[name]
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    result = run("unlock", "dev", "cluster", "--", lock_id)
    assert result.exit_code == 2, result.output
    assert expect in result.output and "released" not in result.output, result.output
    assert_clean(result.output)
    assert not (tmp_path / "work" / "dev").exists(), "no synth and no terraform init ran"


def test_terraform_gets_the_lock_id_after_a_double_dash(monkeypatch):
    from eksml.terraform import runner as terraform_runner

    seen = []
    fake = terraform_runner.Terraform.__new__(terraform_runner.Terraform)
    monkeypatch.setattr(fake, "_run", lambda command, arguments, json_lines: seen.append(arguments) or None,
                        raising=False)
    monkeypatch.setattr(fake, "_check", lambda command, outcome: None, raising=False)
    fake.force_unlock("2b2b2c7a-8b5c-debc-7ec0-23f93884b8d8")
    assert seen == [["force-unlock", "-force", "--", "2b2b2c7a-8b5c-debc-7ec0-23f93884b8d8"]]


@pytest.mark.parametrize("name", sorted(ARGUMENTS))
def test_argument_edges(name):
    argv, code, expect = ARGUMENTS[name]
    result = subprocess.run([sys.executable, "-m", "eksml", *argv], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}) if name == "catalog_unknown_json" \
        else None
    if result is None:
        invoked = CliRunner().invoke(cli, list(argv))
        output, exit_code = invoked.output, invoked.exit_code
    else:
        output, exit_code = result.stdout + result.stderr, result.returncode
        assert json.loads(result.stdout)["ok"] is False
    assert exit_code == code, output
    assert expect in output, output
    assert "\x1b" not in output
    assert_clean(output)


def test_a_full_stdout_is_one_line_on_stderr_not_a_traceback():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "eksml", "validate", "dev", "--output", "json"], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=60,
                                env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert result.returncode == 1, result.stderr
    assert "No space left on device" in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert_clean(result.stderr)


@pytest.mark.parametrize("name", sorted(ENVIRONMENT_VARIABLES))
def test_bad_environment_variable_exits_2_naming_it(name, tmp_path):
    variables, argv, code, expect = ENVIRONMENT_VARIABLES[name]
    (tmp_path / "a-file").write_text("not a folder\n")
    fill = {"file": str(tmp_path / "a-file"), "out": str(tmp_path / "out")}
    variables = {key: value.format(**fill) for key, value in variables.items()}
    argv = [arg.format(**fill) for arg in argv]
    command = [sys.executable, "-m", "eksml.aws.app"] if argv == ["app"] else [sys.executable, "-m", "eksml", *argv]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **variables})
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert expect in output, output
    assert_clean(output)
    assert not (tmp_path / "out").exists()
