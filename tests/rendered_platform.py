"""Session-wide real-chart renders: the shared chart repository on loopback, one chart cache for the
session, and dev rendered once by the real Helm for every test that reads its objects. A full render
takes seconds; tests that need their own (a CLI run, a bad overlay) should be few."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chart_repo import CHARTS_DIR, ChartServer, serve
from shipped import dev_with_chart_llm

from eksml.outputs import predict_outputs
from eksml.charts import ChartCache
from eksml.config import load_environment
from eksml.contract.outputs import AwsOutputs
from eksml.k8s.rendering.render import RenderResult, render_platform


@pytest.fixture(scope="session")
def session_charts() -> Iterator[ChartServer]:
    assert (CHARTS_DIR / "index.yaml").is_file(), f"no chart repository at {CHARTS_DIR}"
    yield from serve(CHARTS_DIR)


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory, worker_id: str) -> ChartCache:
    """One cache for the whole run: with xdist, the workers share it (the cache is safe across processes),
    so a chart or a release render done by one worker is reused by the others."""
    if worker_id == "master":
        return ChartCache(tmp_path_factory.mktemp("chart-cache"))
    shared = tmp_path_factory.getbasetemp().parent / "chart-cache"
    shared.mkdir(exist_ok=True)
    return ChartCache(shared)


@pytest.fixture(scope="session")
def dev_render(session_charts: ChartServer, session_cache: ChartCache, tmp_path_factory) -> RenderResult:
    env = load_environment("dev")
    out = tmp_path_factory.mktemp("dev-render")
    return render_platform(env, predict_outputs(env), out, with_charts=True, cache=session_cache,
                           mirror=session_charts.url)


@pytest.fixture(scope="session")
def chart_llm_render(session_charts: ChartServer, session_cache: ChartCache, tmp_path_factory) -> RenderResult:
    """dev with ChatQnA's own vLLM (the option dev does not use): only that release renders anew."""
    env = dev_with_chart_llm()
    return render_platform(env, predict_outputs(env), tmp_path_factory.mktemp("chart-llm-render"), with_charts=True,
                           cache=session_cache, mirror=session_charts.url)


@pytest.fixture
def cli_charts(session_charts: ChartServer, session_cache: ChartCache, monkeypatch: pytest.MonkeyPatch,
               tmp_path: Path) -> ChartServer:
    """For CLI runs: the loopback mirror as EKSML_CHART_MIRROR and a work directory of the test's own
    whose chart cache is the session's (charts fetched once per session)."""
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "charts").symlink_to(session_cache.root, target_is_directory=True)
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("EKSML_CHART_MIRROR", session_charts.url)
    return session_charts
