"""No secret in any rendered file: Secrets carry only data eksml allowed, Grafana's admin password
comes from an ExternalSecret, and a Secret with other data is refused (exit 2) before anything is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from eksml.cli import cli
from eksml.config import load_environment
from eksml.outputs import predict_outputs
from eksml.k8s.model.components.grafana_admin import GRAFANA_ADMIN_SECRET
from eksml.k8s.rendering.gitops import gitops_files
from eksml.k8s.model.platform import build_platform
from eksml.k8s.checks.platform_checks import placed_objects
from eksml.k8s.checks.secret_check import unallowed_keys
from eksml.paths import HELM_VALUES_DIR


def test_no_rendered_secret_carries_data_eksml_did_not_allow(dev_render):
    env = load_environment("dev")
    objects = placed_objects(build_platform(env, predict_outputs(env)), dev_render.charts)
    secrets = [p for p in objects if p.obj.kind == "Secret"]
    assert secrets, "the charts render Secrets; the check must see them"
    assert [str(p.obj) for p in secrets if unallowed_keys(p.obj.namespace or "", p.obj.body)] == []
    names = {str(p.obj) for p in secrets}
    assert "Secret monitoring/kube-prometheus-stack-grafana" not in names  # the chart's generated password
    assert "Secret kube-system/aws-load-balancer-tls" not in names  # the chart's generated private key
    kinds = {(p.obj.kind, p.obj.name) for p in objects if p.obj.namespace == "monitoring"}
    assert ("ExternalSecret", GRAFANA_ADMIN_SECRET) in kinds and ("Password", GRAFANA_ADMIN_SECRET) in kinds


def test_grafana_reads_its_admin_password_from_a_file_not_the_environment(dev_render):
    """No Grafana container (nor a sidecar) gets the password as an environment variable (CKV_K8S_35)."""
    env = load_environment("dev")
    objects = placed_objects(build_platform(env, predict_outputs(env)), dev_render.charts)
    grafana = next(p.obj.body for p in objects if p.obj.kind == "Deployment" and p.obj.name.endswith("-grafana"))
    pod = grafana["spec"]["template"]["spec"]
    containers = [*pod.get("initContainers", []), *pod["containers"]]
    from_secrets = [(c["name"], e["name"]) for c in containers for e in c.get("env", [])
                    if "secretKeyRef" in (e.get("valueFrom") or {})]
    assert from_secrets == []
    main = next(c for c in containers if c["name"] == "grafana")
    password_file = next(e["value"] for e in main["env"] if e["name"] == "GF_SECURITY_ADMIN_PASSWORD__FILE")
    mount = next(m for m in main["volumeMounts"] if password_file.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == GRAFANA_ADMIN_SECRET


def test_a_secret_with_a_password_is_refused_and_an_allowed_key_is_not():
    leaked = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {"password": "p"}}
    assert unallowed_keys("monitoring", leaked) == {"stringData": ["password"]}
    assert unallowed_keys("monitoring", {**leaked, "stringData": {"password": ""}}) == {}
    repository = {"apiVersion": "v1", "kind": "Secret", "stringData": {"url": "oci://x", "password": "p"},
                  "metadata": {"name": "r", "labels": {"argocd.argoproj.io/secret-type": "repository"}}}
    assert unallowed_keys("argocd", repository) == {"stringData": ["password"]}
    alertmanager = {"apiVersion": "v1", "kind": "Secret", "data": {"alertmanager.yaml": "cm91dGU6IHt9"},
                    "metadata": {"name": "alertmanager-kube-prometheus-stack-alertmanager"}}
    assert unallowed_keys("monitoring", alertmanager) == {}


def test_the_gitops_folder_holds_no_secret_data(session_charts, session_cache):
    from eksml.k8s.rendering.gitops import patched_releases
    from eksml.k8s.templating.chart_render import render_charts

    env = load_environment("staging")
    platform = build_platform(env, predict_outputs(env))
    charts = render_charts(platform, env, cache=session_cache, mirror=session_charts.url)
    files = gitops_files(env, platform, patched_releases(platform, charts))  # with ChatQnA's rendered manifests
    manifests = [m for m in files.values() if isinstance(m, dict)]
    assert any(path.startswith("objects/opea-chatqna/release/") for path in files)
    assert manifests and not any(unallowed_keys("", m) for m in manifests)
    grafana = yaml.safe_dump(files["apps/kube-prometheus-stack.yaml"])
    assert "existingSecret: grafana-admin" in grafana and "adminPassword: prom-operator" not in grafana


def test_a_secret_from_a_values_overlay_is_refused_with_exit_2(cli_charts, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch):
    values_dir = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, values_dir)
    (values_dir / "dev").mkdir(exist_ok=True)
    (values_dir / "dev" / "kube-prometheus-stack.yaml").write_text(yaml.safe_dump({"extraManifests": [{
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "leaked", "namespace": "monitoring"},
        "stringData": {"token": "not-in-git-please"}}]}))
    monkeypatch.setattr("eksml.k8s.model.context.HELM_VALUES_DIR", values_dir)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", "dev", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Secret monitoring/leaked would write token into the rendered files" in result.output
    assert "manifests/kube-prometheus-stack.yaml: Secret monitoring/leaked.stringData" in result.output
    assert not (out / "manifests").exists()
    kept = [p for p in (tmp_path / "work" / "charts").glob("renders/*.json") if "not-in-git-please" in p.read_text()]
    assert not kept, f"the render cache kept the refused secret: {kept}"
