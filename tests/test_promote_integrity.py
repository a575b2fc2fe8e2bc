"""Promote cannot lie: bytes it was not asked to change stay, symlinks, aliases, concurrent writers, kills.

Expected texts are built from the shipped files with literal replacements a reader can check.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
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
from eksml.errors import ConfigError, StageError
from eksml.paths import ENVIRONMENTS_DIR

ROOT = Path(__file__).resolve().parent.parent
EKSML = [sys.executable, "-m", "eksml"]

# A release in dev, as line edits derived from the shipped staging.yaml (whatever versions it runs
# today); and what staging's lines become after the promotion.
SHIPPED_STAGING = (ENVIRONMENTS_DIR / "staging.yaml").read_text()
_K = re.search(r"\n  karpenter: \{version: (\d+\.\d+)\.(\d+)\}\n", SHIPPED_STAGING)
K_OLD, K_NEW, K_NEWER = (f"{_K[1]}.{int(_K[2]) + bump}" for bump in (0, 1, 2))
MODEL = re.search(r"\n    llm_model: (\S+)\n", SHIPPED_STAGING)[1]
NEW_MODEL = "meta-llama/Llama-3.1-8B-Instruct" if MODEL != "meta-llama/Llama-3.1-8B-Instruct" else "Intel/neural-chat-7b-v3-3"
SERVING = re.search(r"\n    llm_serving: (\w+)\n", SHIPPED_STAGING)[1]
NEW_SERVING = "tgi" if SERVING == "vllm" else "vllm"
_E = re.search(r"\n(  [a-z_]+: \{version: [^}]+\}\n)  external_secrets: \{version: (\d+\.\d+)\.(\d+)\}\n", SHIPPED_STAGING)
E_BEFORE_LINE, E_OLD, E_NEW = _E[1], f"{_E[2]}.{_E[3]}", f"{_E[2]}.{int(_E[3]) + 1}"

DEV_RELEASE = {
    f"  karpenter: {{version: {K_OLD}}}": f"  karpenter: {{version: {K_NEW}}}",
    f"    llm_model: {MODEL}": f"    llm_model: {NEW_MODEL}",
    f"    llm_serving: {SERVING}": f"    llm_serving: {NEW_SERVING}",
}
STAGING_QUOTED = {f"llm_model: {MODEL}": f'llm_model: "{MODEL}"'}
STAGING_AFTER = {  # (indent-free) old line → new line in staging.yaml
    f"karpenter: {{version: {K_OLD}}}": f"karpenter: {{version: {K_NEW}}}",
    f'llm_model: "{MODEL}"': f'llm_model: "{NEW_MODEL}"',
    f"llm_serving: {SERVING}": f"llm_serving: {NEW_SERVING}",
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
    staging, dev = tmp_path / "staging.yaml", tmp_path / "dev.yaml"
    # dev is staging's file under dev's name (whatever is shipped today), so only DEV_RELEASE differs.
    dev.write_text(replace_once(staging.read_text(), {"\nname: staging\n": "\nname: dev\n", **DEV_RELEASE}))
    staging.write_text(replace_once(staging.read_text(), STAGING_QUOTED))
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
    original = replace_once(original, {f"  external_secrets: {{version: {E_OLD}}}\r\n": ""})
    staging.write_bytes(original.encode())
    dev = envs / "dev.yaml"
    dev.write_text(replace_once(dev.read_text(), {f"external_secrets: {{version: {E_OLD}}}": f"external_secrets: {{version: {E_NEW}}}"}))
    result = promote(dev, staging)
    assert result.exit_code == 0, result.output
    expected = replace_once(original, STAGING_AFTER)
    before_line = E_BEFORE_LINE.replace("\n", "\r\n")  # the pin is inserted after the last add-on left
    expected = replace_once(expected, {before_line: f"{before_line}  external_secrets: {{version: {E_NEW}}}\r\n"})
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
    assert "is a symlink" not in promote(envs / "dev.yaml", envs / "staging.yaml", "--dry-run").output
    result = promote(envs / "dev.yaml", envs / "staging.yaml")
    assert result.exit_code == 0, result.output
    assert (envs / "staging.yaml").is_symlink()
    assert load_environment(real_dir / "staging.yaml").addons.karpenter.version == K_NEW
    assert "is a symlink" in result.output and str(real_dir / "staging.yaml") in result.output
    again = json.loads(promote(envs / "dev.yaml", envs / "staging.yaml", "--output", "json").output)
    assert again["written_through_symlink"] == str(real_dir / "staging.yaml")
    plain = json.loads(promote(envs / "dev.yaml", envs / "prod.yaml", "--force", "--dry-run", "--output", "json").output)
    assert plain["written_through_symlink"] is None


@pytest.mark.parametrize("edit, words", [
    ({f"karpenter: {{version: {K_OLD}}}": f"karpenter: {{version: &v {K_OLD}}}"}, "anchor"),
    ({"  environment: staging": "  environment: staging\n  copy: *x", "  team: ml-platform": "  team: &x ml-platform"},
     "anchor"),
    ({f"  karpenter: {{version: {K_OLD}}}": f"  karpenter: {{version: {K_OLD}}}\n  karpenter: {{version: {K_OLD}}}"},
     "written twice"),
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
        real_write(path, data.replace(f"version: {K_NEW}".encode(), f"version: {K_NEWER}".encode())
                   if len(calls) == 1 else data, stage)

    monkeypatch.setattr(promote_module, "atomic_write", corrupting)
    before = (envs / "staging.yaml").read_bytes()
    result = promote(envs / "dev.yaml", envs / "staging.yaml")
    assert result.exit_code == 1
    assert "read back" in result.output and "holds other bytes" in result.output and "restored" in result.output
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


def test_a_target_edited_after_planning_is_not_overwritten(envs: Path):
    from eksml.promote import plan_promotion, write_promotion

    promotion = plan_promotion(envs / "dev.yaml", envs / "staging.yaml")
    staging = envs / "staging.yaml"
    edited = staging.read_text().replace("  environment: staging", "  environment: staging-edited")
    staging.write_text(edited)
    with pytest.raises(StageError) as caught:
        write_promotion(promotion)
    assert "changed while the promotion was prepared" in caught.value.message
    assert staging.read_text() == edited


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
        f"karpenter: {{version: {K_NEW}}}": f"karpenter: {{version: {K_NEWER}}}"}))
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
        assert sorted(karpenter) == sorted([(K_OLD, K_NEW), (K_NEW, K_NEWER)]) or \
            sorted(karpenter) == sorted([(K_OLD, K_NEWER), (K_NEWER, K_NEW)]), karpenter
        last = next(to for before, to in karpenter if before != K_OLD)
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
    named_leftovers = 0
    for _ in range(8):
        proc = subprocess.Popen([sys.executable, "-c", KILL_WRITER, str(target)], cwd=ROOT)
        time.sleep(0.4 + rng.random() * 0.4)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert target.read_bytes() in (b"a" * 4_000_000, b"b" * 4_000_000)
        # Only a kill between naming the written file and renaming it (two system calls) leaves one,
        # which the next writer removes under the lock; a kill while writing leaves nothing.
        named_leftovers += len(file_write.temp_files(target))
        with file_write.locked(target, "test", "env.yaml"):
            assert [p.name for p in tmp_path.iterdir()] == ["env.yaml"]
    assert named_leftovers <= 2


def test_kill_9_of_a_promote_leaves_the_old_or_the_new_file(envs: Path, tmp_path_factory):
    before = (envs / "staging.yaml").read_bytes()
    reference = tmp_path_factory.mktemp("reference") / "envs"
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


@pytest.mark.parametrize("without, note", [
    ("dev", "dev has no genai.chatqna: staging keeps its ChatQnA models"),
    ("staging", "staging has no genai.chatqna: the ChatQnA models of dev are not copied"),
])
def test_a_side_without_chatqna_is_noted_and_its_models_are_not_copied(envs: Path, without: str, note: str):
    import re

    path = envs / f"{without}.yaml"
    text, count = re.subn(r"\ngenai:\n(  .*\n|\n)*?(?=\S)", "\n", path.read_text())
    assert count == 1
    path.write_text(text)
    result = promote(envs / "dev.yaml", envs / "staging.yaml")
    assert result.exit_code == 0, result.output
    assert f"- {note}" in result.output
    assert "genai.chatqna.llm_model" not in result.output


@pytest.mark.parametrize("text, field, expected", [
    ("a:\n  b: 1\n", "a.c.d.e", "a:\n  b: 1\n  c: {d: {e: x}}\n"),
    ("a:\n  b: 1", "a.c", "a:\n  b: 1\n  c: x\n"),
    ("a: {b: 1}\n", "a.c", "a: {b: 1, c: x}\n"),
    ("a: {}\n", "a.c", "a: {c: x}\n"),
    ("a:\n  k:\n    b: 1\n    c: [1,\n      2]\nz: 1\n", "a.m", "a:\n  k:\n    b: 1\n    c: [1,\n      2]\n  m: x\nz: 1\n"),
    ("a:\n  b: |\n    text\nz: 1\n", "a.c", "a:\n  b: |\n    text\n  c: x\nz: 1\n"),
    ("a:\n    k:\n        b: 1\n    z: 2\n", "a.k.c", "a:\n    k:\n        b: 1\n        c: x\n    z: 2\n"),
    ("cluster:\n  kubernetes_version: '1.33'\n  name: c\n", "cluster.ami_release_version",
     "cluster:\n  kubernetes_version: '1.33'\n  ami_release_version: x\n  name: c\n"),
])
def test_a_missing_field_is_inserted_in_the_style_of_its_mapping(text, field, expected):
    assert set_scalars(text, {field: "x"}, "t.yaml") == expected


def test_nothing_to_promote_says_unchanged_not_written(envs: Path):
    assert promote(envs / "dev.yaml", envs / "staging.yaml").exit_code == 0
    before = (envs / "staging.yaml").read_bytes()
    result = promote(envs / "dev.yaml", envs / "staging.yaml")  # the second time: nothing left to copy
    assert result.exit_code == 0, result.output
    assert "is unchanged" in result.output and "Written" not in result.output
    assert (envs / "staging.yaml").read_bytes() == before


@pytest.mark.parametrize("source, target", [("local", "dev"), ("dev", "local")])
def test_the_sandbox_named_is_the_local_one(envs: Path, source: str, target: str):
    result = promote(envs / f"{source}.yaml", envs / f"{target}.yaml")
    assert result.exit_code == 2
    assert "local is tier local, a sandbox" in result.output


@pytest.mark.parametrize("wrong, words", [
    (K_NEWER, "does not hold the promoted addons.karpenter.version"),
    ("latest", "does not validate: addons.karpenter.version"),
])
def test_a_written_file_that_does_not_hold_the_summary_is_restored(envs: Path, wrong: str, words: str):
    """The last line of defence: bytes as written, but not the values the summary lists."""
    import dataclasses

    from eksml.promote import plan_promotion, write_promotion

    promotion = plan_promotion(envs / "dev.yaml", envs / "staging.yaml")
    bad = dataclasses.replace(promotion, new_text=promotion.new_text.replace(f"version: {K_NEW}", f"version: {wrong}"))
    before = (envs / "staging.yaml").read_bytes()
    with pytest.raises(StageError) as caught:
        write_promotion(bad)
    assert words in caught.value.message and "restored" in caught.value.message
    assert (envs / "staging.yaml").read_bytes() == before


def test_promoting_within_one_tier_needs_no_force(envs: Path):
    qa = envs / "qa.yaml"
    qa.write_text(replace_once((envs / "dev.yaml").read_text(), {"\nname: dev\n": "\nname: qa\ntier: dev\n"}))
    result = promote(envs / "dev.yaml", qa, "--dry-run")
    assert result.exit_code == 0, result.output
