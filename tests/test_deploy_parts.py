"""Pieces of the deploy pipeline that need no emulator: the run lock, progress display, protection."""

import io
import subprocess
import sys
import textwrap
import time

import pytest

from eksml.deploy.progress import Progress
from eksml.aws.protection import protected_changes
from eksml.deploy.run_lock import exclusive_run
from eksml.errors import StageError
from eksml.terraform.runner import ResourceChange


def test_second_run_fails_fast_naming_the_holder(tmp_path):
    lock = tmp_path / "run.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time
            from eksml.deploy.run_lock import exclusive_run
            from pathlib import Path
            with exclusive_run(Path({str(lock)!r}), "deploy local"):
                print("held", flush=True)
                time.sleep(30)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(StageError) as failure:
            with exclusive_run(lock, "deploy local"):
                pass
        assert time.monotonic() - started < 1.0
        assert failure.value.stage == "lock"
        assert f"deploy local by pid {holder.pid}" in str(failure.value)
    finally:
        holder.kill()
        holder.wait()
    # The kernel released the lock when the holder died: no stale lock to clean up.
    with exclusive_run(lock, "deploy local"):
        pass


def test_plain_progress_prints_steps_and_a_summary_table():
    stream = io.StringIO()
    progress = Progress(stream=stream, live=False)
    with progress.step("apply", "network") as step:
        step.note = "12 added"
    progress.skip("install", "helm releases", "no cluster")
    with pytest.raises(StageError):
        with progress.step("apply", "cluster"):
            raise StageError("apply", "boom")
    text = stream.getvalue()
    assert "apply network: started" in text and "✓ apply network: ok" in text
    assert "✗ apply cluster: failed" in text
    summary = progress.summary().splitlines()
    assert summary[0].split() == ["stage", "target", "result", "time"]
    assert [line.split()[:3] for line in summary[2:5]] == [
        ["apply", "network", "ok"], ["install", "helm", "releases"], ["apply", "cluster", "failed"]]
    assert summary[-1].startswith("total ")


def _change(address, actions):
    return ResourceChange(address=address, type=address.split(".")[0], actions=tuple(actions))


def test_only_replacing_or_destroying_stateful_resources_is_protected():
    changes = [
        _change("aws_db_instance.mlflow", ["delete", "create"]),
        _change("aws_s3_bucket.logs", ["delete"]),
        _change("aws_eks_node_group.h100", ["delete", "create"]),
        _change("aws_db_instance.other", ["update"]),
    ]
    found = protected_changes("data", changes)
    assert [(c.address, c.verb) for c in found] == [("aws_db_instance.mlflow", "replace"), ("aws_s3_bucket.logs", "destroy")]
    assert "MLflow database" in str(found[0])
