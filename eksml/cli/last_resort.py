"""The last line of defence: no Python traceback reaches a user.

An exception nothing else handled is a bug in eksml. The user gets one line naming the command (the
stage) and the exception, exit 1, and the path of a log file holding the traceback for the bug report.
Usage errors keep click's exit code 2, printed as JSON under `--output json`.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import traceback
from pathlib import Path

import click

from eksml.errors import ConfigError, first_line
from eksml.paths import work_root


def wants_json(argv: list[str]) -> bool:
    for index, arg in enumerate(argv):
        if arg == "--output=json" or (arg == "--output" and argv[index + 1:index + 2] == ["json"]):
            return True
    return False


def stage_of(argv: list[str], commands: dict[str, str]) -> str:
    return next((arg for arg in argv if arg in commands), "eksml")


def report_usage_error(exc: click.ClickException, argv: list[str]) -> int:
    if wants_json(argv):
        click.echo(json.dumps({"ok": False, "error": "usage", "message": exc.format_message()}, indent=2))
    else:
        exc.show()
    return exc.exit_code


def report_crash(exc: BaseException, stage: str, argv: list[str]) -> int:
    log = write_crash_log(exc, stage, argv)
    summary = f"{type(exc).__name__}: {first_line(exc)[:300]}"
    where = f"the traceback is in {log}" if log else "the traceback could not be written to a log file"
    if wants_json(argv):
        click.echo(json.dumps({"ok": False, "stage": stage, "error": summary, "log": str(log) if log else None}, indent=2))
    else:
        click.echo(f"error: stage '{stage}' failed unexpectedly: {summary} (a bug in eksml; {where})", err=True)
    return 1


def write_crash_log(exc: BaseException, stage: str, argv: list[str]) -> Path | None:
    """Under the work root (.eksml/logs), else the temp directory when that is not writable."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = (f"eksml {' '.join(argv)}\nstage: {stage}\n\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    try:
        under_work_root = [work_root() / "logs"]
    except ConfigError:  # EKSML_WORK_DIR names no folder: the temp directory still takes the log
        under_work_root = []
    for directory in (*under_work_root, Path(tempfile.gettempdir()) / "eksml-logs"):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"crash-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None
