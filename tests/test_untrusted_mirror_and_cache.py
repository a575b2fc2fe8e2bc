"""The chart mirror's index and the chart cache are data anyone may have written: checked, never trusted.

A malformed index entry does not crash `outdated`; an unreadable kubeVersion is never called
compatible; a cached package swapped for another chart, or edited, is reported as a corrupt cache
(exit 1, naming the file), not used and blamed on the user's values.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from chart_repo import CHARTS_DIR, repository_copy, serve
from click.testing import CliRunner

from eksml.charts import ChartCache, ChartRequest
from eksml.cli import cli
from eksml.errors import StageError
from test_outdated import dev_on_cert_manager

CERT_MANAGER = ChartRequest.of("cert-manager", "v1.19.1", "https://charts.jetstack.io", release="cert-manager")


def _outdated_row(tmp_path: Path, monkeypatch, edit) -> dict:
    repo = repository_copy(tmp_path / "repo", {"cert-manager": "v1.19.1"}, edit=edit)
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    path = dev_on_cert_manager(tmp_path, "v1.19.1")
    for server in serve(repo):
        monkeypatch.setenv("EKSML_CHART_MIRROR", server.url)
        result = CliRunner().invoke(cli, ["outdated", str(path), "--output", "json"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "a bug in eksml" not in result.output
    data = json.loads(result.output)
    pins = data["pins"] if isinstance(data, dict) else data
    return next(p for p in pins if p["name"] == "cert-manager")


@pytest.mark.parametrize("bad_entry", [None, "v1.99.0", {"version": None}, {"version": ["x"]},
                                       {"version": "one.two"}, {"version": True}])
def test_malformed_index_entries_are_skipped_and_said(bad_entry, tmp_path, monkeypatch):
    def spoil(index):
        index["entries"]["cert-manager"].append(bad_entry)

    row = _outdated_row(tmp_path, monkeypatch, spoil)
    assert row["newest"] == "v1.19.1"
    assert "malformed" in row["note"]


def test_a_kube_version_that_cannot_be_read_is_not_compatible(tmp_path, monkeypatch):
    def unreadable(index):
        newer = dict(index["entries"]["cert-manager"][0], version="v1.99.0", kubeVersion="whenever it suits")
        index["entries"]["cert-manager"].append(newer)

    row = _outdated_row(tmp_path, monkeypatch, unreadable)
    assert row["newest"] == "v1.99.0"
    assert row["compatible"] is not True and "cannot be read" in row["note"]


def _cached(tmp_path: Path) -> tuple[ChartCache, Path]:
    repo = repository_copy(tmp_path / "repo", {"cert-manager": "v1.19.1", "argo-workflows": "1.0.18"})
    cache = ChartCache(tmp_path / "cache")
    for server in serve(repo):
        request = CERT_MANAGER.from_mirror(server.url)
        cached = cache.get(request)
    return ChartCache(tmp_path / "cache"), cached.path


def test_a_cached_package_swapped_for_another_chart_is_a_corrupt_cache(tmp_path):
    cache, path = _cached(tmp_path)
    shutil.copy(next(CHARTS_DIR.glob("argo-workflows-1.0.18.tgz")), path)
    with pytest.raises(StageError) as refused:
        cache.get(CERT_MANAGER.from_mirror("http://127.0.0.1:9"))  # no request: it must not be needed
    message = str(refused.value)
    assert "chart cache is corrupt" in message and str(path) in message


def test_an_edited_cached_package_is_a_corrupt_cache(tmp_path):
    cache, path = _cached(tmp_path)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(StageError) as refused:
        cache.get(CERT_MANAGER.from_mirror("http://127.0.0.1:9"))
    assert "chart cache is corrupt" in str(refused.value) and "sha256" in str(refused.value)


def test_an_intact_cached_package_is_used_without_a_request(tmp_path):
    cache, path = _cached(tmp_path)
    assert cache.get(CERT_MANAGER.from_mirror("http://127.0.0.1:9")).fetched is False
