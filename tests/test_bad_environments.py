"""The corpus of bad environment files (tests/bad_environments/cases.py), each through the real CLI.

Every bad file must exit 2 with its field path and message fragment, in text and in JSON, and never
show a traceback; every valid variation must still exit 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from eksml.cli import cli
from eksml.paths import ENVIRONMENTS_DIR

CORPUS = Path(__file__).parent / "bad_environments"
sys.path.insert(0, str(CORPUS))
from cases import BAD, VALID, Append, Case, Delete, Replace, Set  # noqa: E402

sys.path.remove(str(CORPUS))


def build(case: Case, folder: Path) -> Path:
    """Write the case's file (named like the environment it claims to be) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{case.stem or case.base}.yaml"
    if case.raw_file:
        target.write_bytes((CORPUS / case.raw_file).read_bytes())
        return target
    if case.text is not None:
        target.write_text(case.text)
        return target
    text = (ENVIRONMENTS_DIR / f"{case.base}.yaml").read_text()
    data_edits = [e for e in case.edits if isinstance(e, (Set, Delete))]
    if data_edits:
        data = yaml.safe_load(text)
        for edit in data_edits:
            *parents, leaf = edit.path.split(".")
            node = data
            for key in parents:
                node = node[key]
            if isinstance(edit, Set):
                node[leaf] = edit.value
            else:
                del node[leaf]
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    for edit in case.edits:
        if isinstance(edit, Replace):
            assert edit.old in text, f"the edit expects {edit.old!r} in {case.base}.yaml"
            text = text.replace(edit.old, edit.new) if edit.old == "\n" else text.replace(edit.old, edit.new, 1)
        elif isinstance(edit, Append):
            text += edit.text
    target.write_bytes(text.encode("utf-8"))
    return target


def run(*args: str):
    return CliRunner().invoke(cli, ["validate", *args])


def assert_no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


def test_the_corpus_is_large_enough():
    assert len(BAD) >= 150


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_is_refused_with_its_path_and_words(tmp_path: Path, name: str):
    case = BAD[name]
    path = build(case, tmp_path / name)

    text = run(str(path))
    assert_no_traceback(text)
    assert text.exit_code == 2, text.output
    lines = text.output.splitlines()
    for field_path, fragment in case.expect:
        marker = f": {field_path}: " if field_path else ": "
        assert any(marker in line and fragment in line for line in lines), (
            f"no line with path {field_path!r} and {fragment!r}:\n{text.output}"
        )

    machine = run(str(path), "--output", "json")
    assert_no_traceback(machine)
    assert machine.exit_code == 2
    report = json.loads(machine.stdout)
    assert report["ok"] is False
    for field_path, fragment in case.expect:
        assert any(i["path"] == field_path and fragment in i["message"] for i in report["issues"]), report["issues"]


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_variation_still_passes(tmp_path: Path, name: str):
    result = run(str(build(VALID[name], tmp_path / name)))
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
