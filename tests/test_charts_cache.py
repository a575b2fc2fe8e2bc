"""Where charts come from and the cache: a loopback mirror over the shared chart repository, digests
checked, every failure naming chart, version and repository, a cached chart reused without a request."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
import yaml
from chart_repo import CHARTS_DIR, ChartServer, repository_copy, serve
from click.testing import CliRunner

from eksml.charts import ChartCache, ChartRequest
from eksml.charts import chart_mirror as resolve_mirror
from eksml.k8s.model.chart_requests import wanted_charts
from eksml.cli import cli
from eksml.config import load_environment
from eksml.errors import ConfigError, StageError
from eksml.paths import ENVIRONMENTS_DIR

CERT_MANAGER = ChartRequest.of("cert-manager", "v1.19.1", "https://charts.jetstack.io", release="cert-manager")


def pull(*args: str, env: dict | None = None):
    result = CliRunner().invoke(cli, ["charts", "pull", *args], env=env)
    return result


def index_digests() -> dict[str, str]:
    index = yaml.safe_load((CHARTS_DIR / "index.yaml").read_text())
    return {entry["urls"][0]: entry["digest"] for entries in index["entries"].values() for entry in entries}


def test_pull_fills_the_cache_from_the_mirror_then_reuses_it_without_a_request(chart_mirror: ChartServer):
    first = pull("dev", "--output", "json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    charts = {c["release"]: c for c in report["charts"]}
    assert {"cert-manager", "kube-prometheus-stack", "mlflow", "karpenter", "opea-chatqna", "kserve"} <= set(charts)
    assert all(c["fetched"] for c in charts.values())
    # OCI publishers (karpenter, kserve, chatqna) come from the mirror by chart name too
    assert charts["kserve"]["chart"] == "kserve-resources" and charts["karpenter"]["repository"] == chart_mirror.url
    digests = index_digests()
    for chart in charts.values():
        path = Path(chart["file"])
        assert path.name == f"{chart['chart']}-{chart['version']}.tgz"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digests[path.name]
    assert len(chart_mirror.downloads()) == len(charts)
    assert chart_mirror.requests.count("/index.yaml") == 1  # one index read for all charts

    before = len(chart_mirror.requests)
    second = pull("dev", "--output", "json")
    assert second.exit_code == 0, second.output
    assert not any(c["fetched"] for c in json.loads(second.output)["charts"])
    assert len(chart_mirror.requests) == before  # not even the index


def test_the_text_report_says_fetched_or_cached(chart_mirror: ChartServer):
    assert pull("local").exit_code == 0
    result = pull("local")
    assert result.exit_code == 0, result.output
    assert "cert-manager" in result.output and "cached" in result.output
    assert "0 fetched" in result.output.splitlines()[-1]


def test_the_environment_setting_names_the_mirror_and_the_variable_overrides_it(
    chart_mirror: ChartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    env_file = tmp_path / "dev.yaml"
    dead = "http://127.0.0.1:9/charts"  # nothing listens on the discard port
    env_file.write_text((ENVIRONMENTS_DIR / "dev.yaml").read_text() + f"\ncharts:\n  mirror: {dead}\n")
    env = load_environment(str(env_file))
    assert env.charts.mirror == dead
    assert resolve_mirror(env, {"EKSML_CHART_MIRROR": chart_mirror.url}) == chart_mirror.url
    assert resolve_mirror(env, {}) == dead
    assert resolve_mirror(load_environment("dev"), {}) is None  # shipped files: each chart from its publisher

    monkeypatch.delenv("EKSML_CHART_MIRROR")
    refused = pull(str(env_file))
    assert refused.exit_code == 1
    assert "cannot reach http://127.0.0.1:9/charts/index.yaml" in refused.output
    assert not chart_mirror.requests

    monkeypatch.setenv("EKSML_CHART_MIRROR", chart_mirror.url)
    assert pull(str(env_file)).exit_code == 0
    assert chart_mirror.downloads()


def test_without_a_mirror_each_chart_names_its_publisher():
    requests = {r.release: r for r in wanted_charts(load_environment("dev"))}
    assert requests["cert-manager"].repository == "https://charts.jetstack.io"
    karpenter = requests["karpenter"]
    assert karpenter.is_oci and karpenter.oci_reference == "oci://public.ecr.aws/karpenter/karpenter"
    assert karpenter.from_mirror("https://mirror.example/helm/").repository == "https://mirror.example/helm"


def test_a_bad_mirror_url_is_bad_input(tmp_path: Path):
    result = pull("dev", env={"EKSML_CHART_MIRROR": "ftp://charts.example"})
    assert result.exit_code == 2
    assert "EKSML_CHART_MIRROR" in result.output and "oci://" in result.output
    with pytest.raises(ConfigError) as refused:
        resolve_mirror(None, {"EKSML_CHART_MIRROR": "charts.example"})
    assert refused.value.issues[0].file == "EKSML_CHART_MIRROR"

    env_file = tmp_path / "dev.yaml"
    env_file.write_text((ENVIRONMENTS_DIR / "dev.yaml").read_text() + "\ncharts:\n  mirror: /srv/charts\n")
    result = CliRunner().invoke(cli, ["validate", str(env_file)])
    assert result.exit_code == 2
    assert "charts.mirror" in result.output and "not a chart repository URL" in result.output


def test_a_package_whose_digest_differs_from_the_index_is_refused(tmp_path: Path):
    def tamper(index):
        index["entries"]["cert-manager"][0]["digest"] = "0" * 64

    repo = repository_copy(tmp_path / "repo", {"cert-manager": "v1.19.1"}, tamper)
    cache = ChartCache(tmp_path / "cache")
    for server in serve(repo):
        with pytest.raises(StageError) as refused:
            cache.get(CERT_MANAGER.from_mirror(server.url))
    message = str(refused.value)
    assert refused.value.stage == "charts"
    assert "chart cert-manager version v1.19.1" in message and server.url in message
    assert "digest mismatch" in message and "0" * 64 in message
    assert not list((tmp_path / "cache").glob("*.tgz"))  # nothing half-accepted stays behind


def test_a_package_matching_its_digest_is_accepted_and_one_without_digest_too(tmp_path: Path):
    def drop_digest(index):
        del index["entries"]["argo-workflows"][0]["digest"]

    repo = repository_copy(tmp_path / "repo", {"cert-manager": "v1.19.1", "argo-workflows": "1.0.18"}, drop_digest)
    cache = ChartCache(tmp_path / "cache")
    for server in serve(repo):
        assert cache.get(CERT_MANAGER.from_mirror(server.url)).fetched
        argo = cache.get(ChartRequest("argo-workflows", "1.0.18", server.url))
    assert argo.fetched and argo.path.read_bytes() == (CHARTS_DIR / "argo-workflows-1.0.18.tgz").read_bytes()


def test_a_chart_missing_from_the_mirror_names_chart_version_and_repository(tmp_path: Path):
    repo = repository_copy(tmp_path / "repo", {"cert-manager": "v1.19.1"})
    cache = ChartCache(tmp_path / "cache")
    for server in serve(repo):
        with pytest.raises(StageError) as no_chart:
            cache.get(ChartRequest("mlflow", "1.11.5", server.url, release="mlflow"))
        with pytest.raises(StageError) as no_version:
            cache.get(ChartRequest("cert-manager", "v1.99.0", server.url))
    assert "chart mlflow version 1.11.5 from " + server.url in str(no_chart.value)
    assert "does not have it" in str(no_chart.value) and "release mlflow" in str(no_chart.value)
    assert "chart cert-manager version v1.99.0" in str(no_version.value) and "v1.19.1" in str(no_version.value)


def test_a_leading_v_does_not_make_another_version(tmp_path: Path):
    repo = repository_copy(tmp_path / "repo", {"cert-manager": "v1.19.1"})
    for server in serve(repo):
        cached = ChartCache(tmp_path / "cache").get(ChartRequest("cert-manager", "1.19.1", server.url))
    assert cached.fetched and cached.path.name == "cert-manager-1.19.1.tgz"


def test_an_unreachable_repository_is_an_operational_failure(tmp_path: Path):
    with pytest.raises(StageError) as refused:
        ChartCache(tmp_path / "cache").get(CERT_MANAGER.from_mirror("http://127.0.0.1:9"))
    assert refused.value.stage == "charts" and refused.value.exit_code == 1
    assert "chart cert-manager version v1.19.1 from http://127.0.0.1:9" in str(refused.value)
    assert "cannot reach" in str(refused.value)


def test_credentials_in_the_mirror_url_are_sent_and_never_shown(tmp_path: Path):
    repo = repository_copy(tmp_path / "repo", {"cert-manager": "v1.19.1"})
    for server in serve(repo, auth=("robot", "s3cret")):
        host = server.url.removeprefix("http://")
        assert ChartCache(tmp_path / "a").get(CERT_MANAGER.from_mirror(f"http://robot:s3cret@{host}")).fetched
        with pytest.raises(StageError) as refused:
            ChartCache(tmp_path / "b").get(CERT_MANAGER.from_mirror(f"http://robot:wrong@{host}"))
    assert "401" in str(refused.value)
    assert "wrong" not in str(refused.value) and "robot:***@" in str(refused.value)


def _fake_helm(tmp_path: Path, body: str) -> Path:
    helm = tmp_path / "helm"
    helm.write_text("#!/bin/sh\n" + body)
    helm.chmod(helm.stat().st_mode | stat.S_IEXEC)
    return helm


def test_oci_charts_are_pulled_by_helm_into_the_cache(tmp_path: Path):
    log = tmp_path / "helm.log"
    package = CHARTS_DIR / "kserve-crd-v0.20.0.tgz"
    # helm pull REF --version V --destination DIR
    helm = _fake_helm(tmp_path, f'echo "$@" >> {log}\ncp {package} "$6/kserve-crd-v0.20.0.tgz"\n')
    cache = ChartCache(tmp_path / "cache", helm=lambda: helm)
    request = ChartRequest.of("oci://ghcr.io/kserve/charts/kserve-crd", "v0.20.0")
    assert cache.get(request).fetched and not cache.get(request).fetched
    calls = log.read_text().splitlines()
    assert len(calls) == 1 and calls[0].startswith("pull oci://ghcr.io/kserve/charts/kserve-crd --version v0.20.0")
    assert cache.path_of(request).read_bytes() == package.read_bytes()


def test_a_failed_oci_pull_says_what_helm_said(tmp_path: Path):
    helm = _fake_helm(tmp_path, 'echo "Error: ghcr.io/kserve/charts/kserve-crd:v9.9.9: not found" >&2\nexit 1\n')
    with pytest.raises(StageError) as refused:
        ChartCache(tmp_path / "cache", helm=lambda: helm).get(
            ChartRequest.of("oci://ghcr.io/kserve/charts/kserve-crd", "v9.9.9", release="kserve-crd"))
    message = str(refused.value)
    assert "chart kserve-crd version v9.9.9 from oci://ghcr.io/kserve/charts" in message
    assert "helm pull failed: ghcr.io/kserve/charts/kserve-crd:v9.9.9: not found" in message


def test_a_download_that_is_not_the_chart_asked_for_is_refused(tmp_path: Path):
    def point_elsewhere(index):
        entry = index["entries"]["cert-manager"][0]
        entry["urls"] = ["argo-workflows-1.0.18.tgz"]
        del entry["digest"]

    repo = repository_copy(tmp_path / "repo", {"cert-manager": "v1.19.1", "argo-workflows": "1.0.18"}, point_elsewhere)
    for server in serve(repo):
        with pytest.raises(StageError) as refused:
            ChartCache(tmp_path / "cache").get(CERT_MANAGER.from_mirror(server.url))
    assert "holds chart 'argo-workflows'" in str(refused.value)
