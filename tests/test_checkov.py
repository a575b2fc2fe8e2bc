"""checkov over every stack of every shipped environment: nothing fails but the listed exceptions.

checkov runs from its own virtualenv (.venv-checkov, installed by `make test`); it is never given
the skip list, so this test sees every failure, compares it with checkov-skips.yaml, and also
fails when an exception no longer matches anything (so the list only ever shrinks to what's true).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

from eksml.paths import PROJECT_ROOT
from shipped import SHIPPED

CHECKOV = PROJECT_ROOT / ".venv-checkov" / "bin" / "checkov"
SKIPS_FILE = PROJECT_ROOT / "checkov-skips.yaml"


@dataclass(frozen=True)
class Skip:
    check: str
    reason: str
    environments: tuple[str, ...]
    resources: tuple[str, ...]  # globs over checkov's resource names; empty = any

    def covers(self, failure: "Failure") -> bool:
        return (
            failure.check == self.check
            and failure.environment in self.environments
            and (not self.resources or any(fnmatch(failure.resource, glob) for glob in self.resources))
        )


@dataclass(frozen=True)
class Failure:
    environment: str
    stack: str
    check: str
    name: str
    resource: str

    def __str__(self) -> str:
        return f"{self.environment}/{self.stack}: {self.check} {self.name} ({self.resource})"


def load_skips() -> list[Skip]:
    entries = yaml.safe_load(SKIPS_FILE.read_text())["skips"]
    return [
        Skip(
            check=entry["check"],
            reason=" ".join(str(entry.get("reason", "")).split()),
            environments=tuple(entry.get("environments", SHIPPED)),
            resources=tuple(entry.get("resources", ())),
        )
        for entry in entries
    ]


def test_every_skip_names_a_check_its_environments_and_a_reason():
    skips = load_skips()
    assert skips
    seen = set()
    for skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip.check), skip.check
        assert len(skip.reason) >= 40, f"{skip.check}: say why, not just that"
        assert set(skip.environments) <= set(SHIPPED), skip.check
        assert skip.check not in seen, f"{skip.check} listed twice"
        seen.add(skip.check)


@pytest.fixture(scope="module")
def checkov_report(synthesized_environments) -> tuple[list[Failure], dict]:
    if not CHECKOV.is_file():
        pytest.skip(f"checkov is not installed at {CHECKOV}; run `make .venv-checkov/.installed` (make test does)")
    files = {
        str(stack.config_file.resolve()): (name, stack.name)
        for name, synthesized in synthesized_environments.items()
        for stack in synthesized.stacks
    }
    command = [str(CHECKOV), "--framework", "terraform_json", "--skip-download", "--quiet", "--compact",
               "--output", "json"]
    for path in files:
        command += ["--file", path]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), f"checkov did not run:\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    failures = []
    for check in report["results"]["failed_checks"]:
        environment, stack = files[str(Path(check["file_abs_path"]).resolve())]
        failures.append(Failure(environment, stack, check["check_id"], check["check_name"], check["resource"]))
    return failures, report["summary"]


def test_checkov_read_every_stack(checkov_report):
    _, summary = checkov_report
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 200  # the checks really ran over real resources


def test_no_checkov_failure_outside_the_skip_list(checkov_report):
    failures, _ = checkov_report
    skips = load_skips()
    unexpected = [str(f) for f in failures if not any(skip.covers(f) for skip in skips)]
    assert not unexpected, "fix these or add them to checkov-skips.yaml with a reason:\n" + "\n".join(unexpected)


def test_every_skip_is_still_needed(checkov_report):
    failures, _ = checkov_report
    stale = [
        f"{skip.check} in {environment}"
        for skip in load_skips()
        for environment in skip.environments
        if not any(skip.covers(f) for f in failures if f.environment == environment)
    ]
    assert not stale, "these checks pass now; remove them from checkov-skips.yaml:\n" + "\n".join(stale)
