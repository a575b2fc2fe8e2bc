"""checkov's Kubernetes policies over rendered platforms, against the list of accepted failures.

Each accepted failure in checkov-skips.yaml (`kubernetes:`) is one eksml's values cannot fix: the
chart has no value for it, or the workload needs it. tests/test_checkov_kubernetes.py fails on any
other failure and on an entry that matches nothing; scripts/security_report.py prints the split.

checkov reads a copy of each render without its CustomResourceDefinitions: no Kubernetes policy
reads a CRD, and with them kube-prometheus-stack's manifest is over checkov's 5 MB file limit, so
checkov skips that file without a word (and the scan takes six times as long).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIPS_FILE = ROOT / "checkov-skips.yaml"
_DOCUMENT_START = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)
_CRD = re.compile(r"^kind:\s*CustomResourceDefinition\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Failure:
    environment: str
    release: str  # the release whose manifest, or the component whose owned objects, hold it
    check: str
    name: str
    resource: str

    def __str__(self) -> str:
        return f"{self.environment}/{self.release}: {self.check} {self.name} ({self.resource})"


@dataclass(frozen=True)
class Accepted:
    check: str
    reason: str
    release: str  # a glob; "*" for every release
    resources: tuple[str, ...]  # globs over checkov's resource ids; empty = any
    environments: tuple[str, ...]  # empty = every environment

    def covers(self, failure: Failure) -> bool:
        return (failure.check == self.check and fnmatch(failure.release, self.release)
                and (not self.environments or failure.environment in self.environments)
                and (not self.resources or any(fnmatch(failure.resource, glob) for glob in self.resources)))


def load_accepted(path: Path = SKIPS_FILE) -> list[Accepted]:
    entries = yaml.safe_load(path.read_text()).get("kubernetes") or []
    return [
        Accepted(
            check=str(entry["check"]),
            reason=" ".join(str(entry.get("reason", "")).split()),
            release=str(entry.get("release", "*")),
            resources=tuple(entry.get("resources") or ()),
            environments=tuple(entry.get("environments") or ()),
        )
        for entry in entries
    ]


def scan_copy(render_dir: Path, dest: Path) -> Path:
    """The render's chart manifests (without CRDs) and owned objects, under dest."""
    for path in sorted(render_dir.rglob("*.yaml")):
        relative = path.relative_to(render_dir)
        if relative.parts[0] not in ("manifests", "objects"):
            continue
        text = path.read_text()
        documents = [d for d in _DOCUMENT_START.split(text) if not _CRD.search(d)]
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n---\n".join(documents))
    return dest


def _release_of(relative: Path) -> str:
    if relative.parts[0] == "manifests":
        return relative.stem
    return relative.parts[1] if len(relative.parts) > 2 else relative.stem


def _unique_files(scans: dict[str, Path], dest: Path) -> dict[str, list[tuple[str, Path]]]:
    """Each distinct file of every scan copy once under dest (most charts render alike in every
    environment): {name under dest: [(environment, path in its scan copy)]}."""
    by_content: dict[str, list[tuple[str, Path]]] = {}
    for environment, folder in scans.items():
        for path in sorted(folder.rglob("*.yaml")):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
            name = f"{digest}.yaml"
            if name not in by_content:
                (dest / name).write_bytes(path.read_bytes())
            by_content.setdefault(name, []).append((environment, path.relative_to(folder)))
    return by_content


def run_checkov(scans: dict[str, Path]) -> tuple[list[Failure], dict]:
    """checkov once over the distinct files of every environment's scan copy; each result counts
    for every environment holding that file: (failures, summary summed over the environments)."""
    failures: list[Failure] = []
    summary = {"passed": 0, "failed": 0, "parsing_errors": 0, "resource_count": 0}
    with tempfile.TemporaryDirectory(prefix="checkov-scan-") as scratch:
        folder = Path(scratch)
        holders = _unique_files(scans, folder)
        command = [str(CHECKOV), "--framework", "kubernetes", "--skip-download", "--compact",
                   "--output", "json", "--directory", str(folder)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if result.returncode not in (0, 1):
            raise RuntimeError(f"checkov did not run:\n{result.stderr[-3000:]}")
        found = json.loads(result.stdout)
        resources: set[tuple[str, Path, str]] = set()
        for report in found if isinstance(found, list) else [found]:
            summary["parsing_errors"] += report["summary"].get("parsing_errors", 0)
            for outcome in ("passed", "failed"):
                for check in report["results"][f"{outcome}_checks"]:
                    for environment, path in holders[Path(check["file_abs_path"]).name]:
                        summary[outcome] += 1
                        resources.add((environment, path, check["resource"]))
                        if outcome == "failed":
                            failures.append(Failure(environment, _release_of(path), check["check_id"],
                                                    check["check_name"], check["resource"]))
        summary["resource_count"] = len(resources)
    return failures, summary


def split(failures: list[Failure], accepted: list[Accepted]) -> tuple[list[Failure], dict[Accepted, list[Failure]]]:
    """(failures no entry accepts: values could fix them, {entry: the failures it accepts})."""
    unaccepted: list[Failure] = []
    by_entry: dict[Accepted, list[Failure]] = {entry: [] for entry in accepted}
    for failure in failures:
        entry = next((e for e in accepted if e.covers(failure)), None)
        if entry is None:
            unaccepted.append(failure)
        else:
            by_entry[entry].append(failure)
    return unaccepted, by_entry
