"""Promote cannot lie: bytes it was not asked to change stay, symlinks, aliases, concurrent writers, kills.

Expected texts are built from the shipped files with literal replacements a reader can check.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from eksml.cli import cli
from eksml.config import file_write, load_environment
from eksml.config.yaml_edit import render_scalar, set_scalars
from eksml.errors import ConfigError
from eksml.paths import ENVIRONMENTS_DIR

ROOT = Path(__file__).resolve().parent.parent
EKSML = [sys.executable, "-m", "eksml"]

# A release in dev, as literal line edits; and what staging's lines become after the promotion.
DEV_RELEASE = {
    '  kubernetes_version: "1.33"': '  kubernetes_version: "1.34"',
    "  karpenter: {version: 1.14.1}": "  karpenter: {version: 1.15.0}",
    "    llm_serving: vllm": "    llm_serving: tgi",
}
STAGING_AFTER = {  # (indent-free) old line → new line in staging.yaml
    'kubernetes_version: "1.33"': 'kubernetes_version: "1.34"',
    "karpenter: {version: 1.14.1}": "karpenter: {version: 1.15.0}",
    "llm_serving: vllm": "llm_serving: tgi",
}


def replace_once(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    for path in ENVIRONMENTS_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    dev = tmp_path / "dev.yaml"
    dev.write_text(replace_once(dev.read_text(), DEV_RELEASE))
    return tmp_path


def promote(source: Path, target: Path, *args: str):
    return CliRunner().invoke(cli, ["promote", str(source), str(target), *args])


def four_spaces(text: str) -> str:
    return "".join(" " * (2 * (len(line) - len(line.lstrip(" ")))) + line.lstrip(" ") for line in text.splitlines(True))


# --- formatting -------------------------------------------------------------------------------------


def test_a_four_space_file_changes_only_the_promoted_scalars(envs: Path):
    staging = envs / "staging.yaml"
    original = four_spaces(staging.read_text())
    staging.write_text(original)
    result = promote(envs / "dev.yaml", staging)
    assert result.exit_code == 0, result.output
    assert staging.read_bytes() == replace_once(original, STAGING_AFTER).encode()


def test_a_crlf_file_with_a_byte_order_mark_keeps_both(envs: Path):
    staging = envs / "staging.yaml"
    original = staging.read_text().replace("\n", "\r\n")
    staging.write_bytes(b"\xef\xbb\xbf" + original.encode())
    result = promote(envs / "dev.yaml", staging)
    assert result.exit_code == 0, result.output
    assert staging.read_bytes() == b"\xef\xbb\xbf" + replace_once(original, STAGING_AFTER).encode()


def test_a_missing_pin_is_one_new_line_in_the_files_style(envs: Path):
    staging = envs / "staging.yaml"
    original = staging.read_text().replace("\n", "\r\n")
    original = replace_once(original, {"  external_secrets: {version: 0.20.4}\r\n": ""})
    staging.write_bytes(original.encode())
    dev = envs / "dev.yaml"
    dev.write_text(replace_once(dev.read_text(), {"external_secrets: {version: 0.20.4}": "external_secrets: {version: 0.21.0}"}))
    result = promote(dev, staging)
    assert result.exit_code == 0, result.output
    expected = replace_once(original, STAGING_AFTER)
    expected = replace_once(expected, {"  opea_chatqna: {version: 1.4.0}\r\n":
                                       "  opea_chatqna: {version: 1.4.0}\r\n  external_secrets: {version: 0.21.0}\r\n"})
    assert staging.read_bytes() == expected.encode()


def test_quoted_strings_stay_quoted_and_unquoted_ones_that_would_change_type_get_quotes():
    text = "a:\n    keep: 'v1'   # single\n    dq: \"x\"\n    plain: 1.0.0\n"
    edited = set_scalars(text, {"a.keep": "v2", "a.dq": "y", "a.plain": "on"}, "t.yaml")
    assert edited == "a:\n    keep: 'v2'   # single\n    dq: \"y\"\n    plain: \"on\"\n"
    for value, shown in [("on", '"on"'), ("1:30", '"1:30"'), ("010", '"010"'), ("1.30", '"1.30"'), ("yes", '"yes"'),
                         ("null", '"null"'), ("", '""'), ("a: b", '"a: b"'), ("x, y", '"x, y"'), ("v1.2.3", "v1.2.3")]:
        assert render_scalar(value) == shown, value
    assert render_scalar("it's", "'") == "'it''s'"


def test_an_edit_that_would_change_another_field_is_refused():
    with pytest.raises(ConfigError):
        set_scalars("a: [1, 2]\n", {"a.b": "x"}, "t.yaml")


# --- symlinks, anchors, duplicate keys ------------------------------------------------------------------


def test_a_symlinked_target_is_written_through_and_the_summary_says_so(envs: Path, tmp_path: Path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    (envs / "staging.yaml").rename(real_dir / "staging.yaml")
    (envs / "staging.yaml").symlink_to(real_dir / "staging.yaml")
    result = promote(envs / "dev.yaml", envs / "staging.yaml")
    assert result.exit_code == 0, result.output
    assert (envs / "staging.yaml").is_symlink()
    assert load_environment(real_dir / "staging.yaml").cluster.kubernetes_version == "1.34"
    assert "is a symlink" in result.output and str(real_dir / "staging.yaml") in result.output


@pytest.mark.parametrize("edit, words", [
    ({'kubernetes_version: "1.33"': 'kubernetes_version: &k8s "1.33"'}, "anchor"),
    ({"  environment: staging": "  environment: staging\n  copy: *x", "  team: ml-platform": "  team: &x ml-platform"},
     "anchor"),
    ({"  karpenter: {version: 1.14.1}": "  karpenter: {version: 1.14.1}\n  karpenter: {version: 1.14.0}"}, "written twice"),
])
def test_anchors_aliases_and_duplicate_keys_in_the_target_are_refused(envs: Path, edit: dict, words: str):
    staging = envs / "staging.yaml"
    staging.write_text(replace_once(staging.read_text(), edit))
    before = staging.read_bytes()
    result = promote(envs / "dev.yaml", staging)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    assert staging.read_bytes() == before


# --- read back, lock ---------------------------------------------------------------------------------


def test_a_file_that_does_not_read_back_as_written_is_restored(envs: Path, monkeypatch):
    import eksml.promote as promote_module

    real_write = file_write.atomic_write
    calls = []

    def corrupting(path, data, stage):
        calls.append(data)
        real_write(path, data.replace(b'"1.34"', b'"1.32"') if len(calls) == 1 else data, stage)

    monkeypatch.setattr(promote_module, "atomic_write", corrupting)
    before = (envs / "staging.yaml").read_bytes()
    result = promote(envs / "dev.yaml", envs / "staging.yaml")
    assert result.exit_code == 1
    assert "read back" in result.output and "restored" in result.output
    assert (envs / "staging.yaml").read_bytes() == before
    assert sorted(p.name for p in envs.iterdir()) == ["dev.yaml", "local.yaml", "prod.yaml", "staging.yaml"]


def test_a_held_lock_makes_a_second_promote_wait_then_fail_with_a_message(envs: Path, monkeypatch):
    monkeypatch.setattr(file_write, "LOCK_WAIT_SECONDS", 0.3)
    before = (envs / "staging.yaml").read_bytes()
    with open(envs / "staging.yaml", "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        started = time.monotonic()
        result = promote(envs / "dev.yaml", envs / "staging.yaml")
        assert time.monotonic() - started >= 0.3
    assert result.exit_code == 1
    assert "another eksml process is writing" in result.output
    assert (envs / "staging.yaml").read_bytes() == before


def test_a_stale_temp_file_is_removed_by_the_next_writer(envs: Path):
    stale = envs / ".staging.yaml.12345.tmp"
    stale.write_text("half")
    result = promote(envs / "dev.yaml", envs / "staging.yaml")
    assert result.exit_code == 0, result.output
    assert not stale.exists()


# --- processes: concurrent writers and kill -9 -------------------------------------------------------


def run_eksml(*args: str) -> subprocess.Popen:
    return subprocess.Popen([*EKSML, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_concurrent_promotes_into_one_file_both_tell_the_truth(tmp_path: Path, envs: Path):
    """Two sources with different releases into one staging file at once, three times over."""
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(envs / "dev.yaml", other / "dev.yaml")
    (other / "dev.yaml").write_text(replace_once((other / "dev.yaml").read_text(), {
        "karpenter: {version: 1.15.0}": "karpenter: {version: 1.16.0}"}))
    original = (envs / "staging.yaml").read_bytes()
    for _ in range(3):
        (envs / "staging.yaml").write_bytes(original)
        procs = [run_eksml("promote", str(source / "dev.yaml"), str(envs / "staging.yaml"), "--output", "json")
                 for source in (envs, other)]
        outputs = [proc.communicate(timeout=120) for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], outputs
        summaries = [json.loads(out) for out, _err in outputs]
        assert all(s["written"] for s in summaries)
        karpenter = [{c["field"]: (c["from"], c["to"]) for c in s["changes"]}["addons.karpenter.version"] for s in summaries]
        # The one that went second saw the first one's file, not the original.
        assert sorted(karpenter) == sorted([("1.14.1", "1.15.0"), ("1.15.0", "1.16.0")]) or \
            sorted(karpenter) == sorted([("1.14.1", "1.16.0"), ("1.16.0", "1.15.0")]), karpenter
        last = next(to for before, to in karpenter if before != "1.14.1")
        assert load_environment(envs / "staging.yaml").addons.karpenter.version == last
        assert not list(envs.glob(".*.tmp"))


KILL_WRITER = """
import sys
from pathlib import Path
from eksml.config.file_write import atomic_write
path = Path(sys.argv[1])
payloads = [b"a" * 4_000_000, b"b" * 4_000_000]
i = 0
while True:
    atomic_write(path, payloads[i % 2], "test")
    i += 1
"""


def test_kill_9_while_writing_leaves_the_old_or_the_new_file_and_no_temp_file(tmp_path: Path):
    target = tmp_path / "env.yaml"
    target.write_bytes(b"a" * 4_000_000)
    rng = random.Random(7)
    for _ in range(8):
        proc = subprocess.Popen([sys.executable, "-c", KILL_WRITER, str(target)], cwd=ROOT)
        time.sleep(0.4 + rng.random() * 0.4)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert target.read_bytes() in (b"a" * 4_000_000, b"b" * 4_000_000)
        assert [p.name for p in tmp_path.iterdir()] == ["env.yaml"]


def test_kill_9_of_a_promote_leaves_the_old_or_the_new_file(envs: Path, tmp_path: Path):
    before = (envs / "staging.yaml").read_bytes()
    reference = tmp_path / "reference"
    shutil.copytree(envs, reference)
    assert promote(reference / "dev.yaml", reference / "staging.yaml").exit_code == 0
    after = (reference / "staging.yaml").read_bytes()
    rng = random.Random(11)
    for _ in range(4):
        proc = run_eksml("promote", str(envs / "dev.yaml"), str(envs / "staging.yaml"))
        time.sleep(1.0 + rng.random() * 2.0)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert (envs / "staging.yaml").read_bytes() in (before, after)
        assert sorted(p.name for p in envs.iterdir()) == ["dev.yaml", "local.yaml", "prod.yaml", "staging.yaml"]
        (envs / "staging.yaml").write_bytes(before)
