"""The render cache: a release is templated again whenever anything Helm reads for it changed, and
reused only while nothing did. Real charts through the real Helm, behind a wrapper that counts runs."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from chart_repo import CHARTS_DIR

from eksml.charts import ChartCache
from eksml.charts.render_cache import render_key
from eksml.config import load_environment
from eksml.k8s.model.platform import KubernetesLayer, build_platform
from eksml.k8s.templating.chart_render import RENDERS_FOLDER, render_charts
from eksml.kube_tools import helm_binary
from eksml.outputs import predict_outputs

RELEASE = "metrics-server"  # a small chart: each render is quick


@pytest.fixture
def counting_helm(tmp_path: Path) -> Path:
    script = tmp_path / "helm"
    script.write_text(f'#!/bin/sh\necho run >> "{tmp_path}/runs"\nexec "{helm_binary()}" "$@"\n')
    script.chmod(0o755)
    return script


def runs(helm: Path) -> int:
    counted = helm.parent / "runs"
    return len(counted.read_text().splitlines()) if counted.exists() else 0


def only(platform: KubernetesLayer, *names: str, **values) -> KubernetesLayer:
    """The platform cut down to the releases `names`, with `values` merged into the first one's values."""
    components = []
    for component in platform.components:
        if component.name in names:
            if component.name == names[0] and values:
                component = dataclasses.replace(component, values={**component.values, **values})
            kept = tuple(d for d in component.depends_on if d in names)
            components.append(dataclasses.replace(component, depends_on=kept))
    return dataclasses.replace(platform, components=tuple(components))


def render(platform, env, cache: ChartCache, helm: Path, mirror: str):
    return render_charts(platform, env, cache=cache, mirror=mirror, helm=helm)


@pytest.fixture
def dev(session_charts):
    env = load_environment("dev")
    return env, build_platform(env, predict_outputs(env))


def test_an_unchanged_release_is_not_templated_again_and_renders_the_same(dev, session_charts, counting_helm,
                                                                          tmp_path):
    env, platform = dev
    cache = ChartCache(tmp_path / "charts")
    first = render(only(platform, RELEASE), env, cache, counting_helm, session_charts.url)
    assert runs(counting_helm) == 1
    again = render(only(platform, RELEASE), env, cache, counting_helm, session_charts.url)
    assert runs(counting_helm) == 1
    assert again.release(RELEASE).result == first.release(RELEASE).result
    assert again.release(RELEASE).objects == first.release(RELEASE).objects


def other_value(env, platform, helm):
    return env, only(platform, RELEASE, replicas=3)


def other_namespace(env, platform, helm):
    cut = only(platform, RELEASE)
    return env, dataclasses.replace(cut, components=tuple(dataclasses.replace(c, namespace="elsewhere")
                                                          for c in cut.components))


def other_kubernetes(env, platform, helm):
    cluster = env.cluster.model_copy(update={"kubernetes_version": "1.32"})
    return env.model_copy(update={"cluster": cluster}), only(platform, RELEASE)


def other_helm(env, platform, helm):
    os.utime(helm, ns=(1, 1))  # an upgraded binary at the same path
    return env, only(platform, RELEASE)


CHANGES = {"a value": other_value, "the namespace": other_namespace, "the Kubernetes version": other_kubernetes,
           "the Helm binary": other_helm}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_to_any_input_templates_the_release_again(change, dev, session_charts, counting_helm, tmp_path):
    env, platform = dev
    cache = ChartCache(tmp_path / "charts")
    before = render(only(platform, RELEASE), env, cache, counting_helm, session_charts.url)
    changed_env, changed_platform = CHANGES[change](env, platform, counting_helm)
    after = render(changed_platform, changed_env, cache, counting_helm, session_charts.url)
    assert runs(counting_helm) == 2, f"{change} did not reach the cache key"
    if change in ("a value", "the namespace"):
        assert after.release(RELEASE).objects != before.release(RELEASE).objects


def test_other_chart_bytes_are_another_key(tmp_path, counting_helm):
    chart = sorted(CHARTS_DIR.glob(f"{RELEASE}-*.tgz"))[-1]
    edited = tmp_path / chart.name
    edited.write_bytes(chart.read_bytes() + b"\0")
    keys = {render_key(counting_helm, package, RELEASE, "kube-system", "replicas: 1\n", "1.33", [], [])
            for package in (chart, edited)}
    assert len(keys) == 2


def test_the_api_versions_earlier_releases_serve_are_part_of_the_key(dev, session_charts, counting_helm, tmp_path):
    """Rendered after kube-prometheus-stack, metrics-server is templated with its CRDs' API versions
    (a chart may switch objects on by them), so it is another entry than when rendered alone."""
    env, platform = dev
    cache = ChartCache(tmp_path / "charts")
    render(only(platform, RELEASE), env, cache, counting_helm, session_charts.url)
    after_crds = dataclasses.replace(platform, components=tuple(
        dataclasses.replace(c, depends_on=(*c.depends_on, "kube-prometheus-stack")) if c.name == RELEASE else c
        for c in platform.components))
    render(only(after_crds, RELEASE, "kube-prometheus-stack"), env, cache, counting_helm, session_charts.url)
    assert runs(counting_helm) == 3  # metrics-server, then kube-prometheus-stack and metrics-server again


def test_an_unreadable_entry_is_a_miss_and_is_replaced(dev, session_charts, counting_helm, tmp_path):
    env, platform = dev
    cache = ChartCache(tmp_path / "charts")
    first = render(only(platform, RELEASE), env, cache, counting_helm, session_charts.url)
    (entry,) = (cache.root / RENDERS_FOLDER).glob("*.json")
    entry.write_text('{"release": "metrics-server", "manifest": ')  # cut short, as by a full disk
    again = render(only(platform, RELEASE), env, cache, counting_helm, session_charts.url)
    assert runs(counting_helm) == 2
    assert again.release(RELEASE).result == first.release(RELEASE).result
    render(only(platform, RELEASE), env, cache, counting_helm, session_charts.url)
    assert runs(counting_helm) == 2  # the entry was written anew


def test_a_render_carrying_a_credential_is_never_kept(dev, session_charts, counting_helm, tmp_path):
    env, platform = dev
    cache = ChartCache(tmp_path / "charts")
    leaky = only(platform, "mlflow", artifactRoot={"s3": {"enabled": True, "bucket": "b",
                                                          "awsSecretAccessKey": "kept-nowhere-please"}})
    rendered = render(leaky, env, cache, counting_helm, session_charts.url)
    assert any(o.kind == "Secret" and "AWS_SECRET_ACCESS_KEY" in (o.body.get("data") or {})
               for o in rendered.release("mlflow").objects)
    assert not list((cache.root / RENDERS_FOLDER).glob("*.json"))
    render(leaky, env, cache, counting_helm, session_charts.url)
    assert runs(counting_helm) == 2


def test_switched_off_the_cache_templates_every_time(dev, session_charts, counting_helm, tmp_path, monkeypatch):
    monkeypatch.setenv("EKSML_RENDER_CACHE", "off")
    env, platform = dev
    cache = ChartCache(tmp_path / "charts")
    for _ in range(2):
        render(only(platform, RELEASE), env, cache, counting_helm, session_charts.url)
    assert runs(counting_helm) == 2
    assert not (cache.root / RENDERS_FOLDER).exists()
