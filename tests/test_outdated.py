"""`eksml outdated` against the shared chart repository served on loopback: each pin, the newest
version the repository's index.yaml offers, and whether it fits; text, JSON and a Markdown table."""

from __future__ import annotations

import json
from pathlib import Path

from chart_repo import ChartServer, chart_mirror, repository_copy, serve  # noqa: F401 - fixture
from click.testing import CliRunner

from eksml.cli import cli
from eksml.paths import ENVIRONMENTS_DIR


def outdated(path: Path, *args: str):
    return CliRunner().invoke(cli, ["outdated", str(path), *args])


def test_json_lists_every_pin_with_the_newest_the_repository_offers(chart_mirror: ChartServer, monkeypatch):
    monkeypatch.setenv("EKSML_TODAY", "2026-11-29")
    result = outdated(ENVIRONMENTS_DIR / "dev.yaml", "--output", "json")
    assert result.exit_code == 0, result.output
    pins = {p["name"]: p for p in json.loads(result.output)["pins"]}
    assert {"kubernetes", "ami-release", "cert-manager", "karpenter", "kserve-resources"} <= set(pins)
    assert pins["kubernetes"]["newest"] == "1.35"
    assert pins["ami-release"]["field"] == "cluster.ami_release_version"
    assert all(p["newest"] is not None for p in pins.values()), "every chart is in the shared repository"
    for name, pin in pins.items():
        assert pin["outdated"] == (pin["current"] != pin["newest"]), name
        if pin["outdated"]:
            assert pin["compatible"] is True, pin
    assert not chart_mirror.downloads(), "only index.yaml is read, no package"


def dev_on_cert_manager(tmp_path: Path, version: str) -> Path:
    """dev.yaml with cert-manager pinned to `version`, whatever the shipped file pins."""
    lines = [f"  cert_manager: {{version: {version}}}" if line.strip().startswith("cert_manager: {version:") else line
             for line in (ENVIRONMENTS_DIR / "dev.yaml").read_text().splitlines()]
    (tmp_path / "dev.yaml").write_text("\n".join(lines) + "\n")
    return tmp_path / "dev.yaml"


def test_markdown_is_a_table_for_a_pull_request(chart_mirror: ChartServer, tmp_path: Path):
    result = outdated(dev_on_cert_manager(tmp_path, "v1.19.1"), "--output", "markdown")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "| pin | field | in use | newest | compatible | note |" in lines
    row = next(line for line in lines if line.startswith("| cert-manager "))
    assert "`v1.19.1` | `v1.21.1` | compatible" in row


def test_a_newer_chart_whose_kube_version_excludes_the_cluster_is_marked_incompatible(tmp_path: Path, monkeypatch):
    def narrow(index: dict) -> None:
        newer = dict(index["entries"]["cert-manager"][0], version="v1.99.0", kubeVersion=">= 1.40.0-0")
        index["entries"]["cert-manager"].append(newer)

    repo = repository_copy(tmp_path / "repo", {"cert-manager": "v1.19.1"}, edit=narrow)
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    path = dev_on_cert_manager(tmp_path, "v1.19.1")
    for server in serve(repo):
        monkeypatch.setenv("EKSML_CHART_MIRROR", server.url)
        result = outdated(path)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.strip().startswith("cert-manager"))
    assert "-> v1.99.0 (incompatible)" in row and "excludes Kubernetes 1.35" in row
    assert "not in" in result.output, "charts the repository lacks are said, not guessed"


def test_an_unreachable_repository_is_an_operational_failure(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("EKSML_CHART_MIRROR", "http://127.0.0.1:9")
    result = outdated(ENVIRONMENTS_DIR / "dev.yaml")
    assert result.exit_code == 1 and "cannot reach" in result.output
