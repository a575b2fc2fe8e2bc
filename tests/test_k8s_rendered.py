"""The platform as the real charts render it: pods placed on pools, CRs checked against the CRDs the
charts install, images listed, and object-level plans — on rendered objects, not on values keys."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from eksml.outputs import predict_outputs
from eksml.charts.kube_yaml import ManifestObject, read_manifest
from eksml.cli import cli
from eksml.config import load_environment
from eksml.contract.outputs import AwsOutputs
from eksml.k8s.checks.crd_schema import custom_resource_errors
from eksml.k8s.checks.images import images_of
from eksml.k8s.checks.object_checks import Placed, check_objects, crd_index
from eksml.k8s.cluster.object_diff import compare_dirs
from eksml.k8s.checks.platform_checks import placed_objects
from eksml.k8s.rendering.render import RenderResult, render_platform
from eksml.paths import HELM_VALUES_DIR


def objects(result: RenderResult, release: str) -> list[ManifestObject]:
    return list(result.charts.release(release).objects)


def one(result: RenderResult, release: str, kind: str, name_part: str) -> ManifestObject:
    [found] = [o for o in objects(result, release) if o.kind == kind and name_part in o.name]
    return found


def placement(result: RenderResult, name_part: str):
    [found] = [p for p in result.placements if name_part in p.workload.name]
    return found


def test_every_release_renders_or_says_why_not(dev_render: RenderResult):
    status = {r.name: r.result.status for r in dev_render.charts.releases}
    assert status.pop("mlflow") == ("rendered: yes, without disabled subchart(s) postgresql 18.8.12 "
                                    "(missing from the chart repository)")
    assert set(status.values()) == {"rendered: yes"}
    manifest = dev_render.out_dir / "manifests" / "cert-manager.yaml"
    assert "kind: CustomResourceDefinition" in manifest.read_text()  # crds/ included
    index = dev_render.index.read_text()
    assert "`manifests/mlflow.yaml` (rendered: yes, without disabled subchart(s) postgresql 18.8.12" in index
    assert (dev_render.out_dir / "manifests" / "mlflow.yaml").is_file()
    assert (dev_render.out_dir / "mlflow.values.yaml").is_file()


def test_chatqna_vllm_requests_its_mig_profile_and_lands_on_the_mig_pool_only(chart_llm_render: RenderResult):
    vllm = one(chart_llm_render, "opea-chatqna", "Deployment", "vllm")
    pod = vllm.body["spec"]["template"]["spec"]
    limits = pod["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/mig-3g.40gb"] == 1
    assert {"key": "gpu", "operator": "Equal", "value": "mig", "effect": "NoSchedule"} in pod["tolerations"]
    assert placement(chart_llm_render, "Deployment opea-chatqna-vllm").pools == ("a100-mig",)


def test_karpenter_controller_runs_on_the_cpu_pool_with_its_irsa_role(dev_render: RenderResult):
    account = one(dev_render, "karpenter", "ServiceAccount", "karpenter")
    assert account.body["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(":role/mlplatform-dev-karpenter")
    controller = one(dev_render, "karpenter", "Deployment", "karpenter")
    assert controller.body["spec"]["template"]["spec"]["serviceAccountName"] == account.name
    assert placement(dev_render, "Deployment karpenter/karpenter").pools == ("cpu",)


def test_mlflow_reads_rds_and_the_external_secrets_secret(dev_render: RenderResult):
    mlflow = next(c for c in dev_render.components if c.name == "mlflow")
    postgres = mlflow.values["backendStore"]["postgres"]
    assert postgres["host"] == predict_outputs(load_environment("dev")).db_endpoint
    [secret] = [m for m in mlflow.prerequisites if m["kind"] == "ExternalSecret" and "secretStoreRef" in m["spec"]]
    assert mlflow.values["backendStore"]["existingDatabaseSecret"]["name"] == secret["spec"]["target"]["name"]


def test_mlflows_flask_key_is_generated_in_the_cluster_not_rendered(dev_render: RenderResult):
    """The chart's own key Secret (random at template time, so written into files) is left out:
    the ExternalSecret eksml applies first makes it, and the chart's `lookup` then skips its own."""
    mlflow = next(c for c in dev_render.components if c.name == "mlflow")
    [generated] = [m for m in mlflow.prerequisites if m["kind"] == "ExternalSecret" and "dataFrom" in m["spec"]]
    name = generated["spec"]["target"]["name"]
    deployment = one(dev_render, "mlflow", "Deployment", "mlflow")
    [server] = [c for c in deployment.body["spec"]["template"]["spec"]["containers"] if c["name"] == "mlflow"]
    assert {"secretRef": {"name": name}} in server["envFrom"]
    assert not [o for o in objects(dev_render, "mlflow") if o.kind == "Secret" and o.name == name]
    written = read_manifest((dev_render.out_dir / "manifests" / "mlflow.yaml").read_text())
    assert not [o for o in written if o.kind == "Secret" and o.name == name]  # the file matches what was checked
    assert [o for o in written if o.kind == "Deployment"]


def test_mlflow_deployment_is_rendered_checked_and_placed_like_every_release(dev_render: RenderResult):
    """The chart renders without its missing, disabled postgresql subchart: RDS is the database."""
    mlflow = next(c for c in dev_render.components if c.name == "mlflow")
    config = one(dev_render, "mlflow", "ConfigMap", "env-configmap")
    assert config.body["data"]["PGHOST"] == mlflow.values["backendStore"]["postgres"]["host"]
    deployment = one(dev_render, "mlflow", "Deployment", "mlflow")
    [server] = [c for c in deployment.body["spec"]["template"]["spec"]["containers"] if c["name"] == "mlflow"]
    assert {"name": "PGUSER", "valueFrom": {"secretKeyRef": {"name": mlflow.values["backendStore"]["existingDatabaseSecret"]["name"],
                                                            "key": "username"}}} in server["env"]
    assert not any("postgresql" in o.name for o in objects(dev_render, "mlflow"))
    assert placement(dev_render, "Deployment mlflow").pools == ("cpu",)


def test_gpu_node_daemonsets_cover_every_gpu_pool(dev_render: RenderResult):
    gpu_pools = {p.name for p in dev_render.charts and load_pools(dev_render) if p.gpu_resources}
    for name in ("prometheus-node-exporter", "node-feature-discovery-worker", "nvidia-device-plugin-daemonset",
                 "nvidia-dcgm-exporter"):
        found = placement(dev_render, name)
        assert found.workload.must_cover_gpu_pools
        assert gpu_pools <= set(found.pools), name


def load_pools(result: RenderResult):
    from eksml.k8s.model.platform import build_platform

    env = load_environment("dev")
    return build_platform(env, predict_outputs(env)).pools


def test_every_pod_of_every_release_is_placed(dev_render: RenderResult):
    kinds = {p.workload.kind for p in dev_render.placements}
    assert {"Deployment", "DaemonSet", "Job", "InferenceService"} <= kinds
    assert all(p.pools for p in dev_render.placements)


def _platform_objects(result: RenderResult) -> list[Placed]:
    from eksml.k8s.model.platform import build_platform

    env = load_environment("dev")
    return placed_objects(build_platform(env, predict_outputs(env)), result.charts)


def test_a_misspelled_custom_resource_field_is_refused_against_the_charts_crd(dev_render: RenderResult):
    placed = _platform_objects(dev_render)
    monitor = next(p for p in placed if p.obj.kind == "ServiceMonitor" and p.release == "karpenter")
    body = copy.deepcopy(monitor.obj.body)
    body["spec"]["endpoint"] = body["spec"].pop("endpoints")
    crd = crd_index(placed)[("monitoring.coreos.com", "ServiceMonitor")]
    assert crd.release == "kube-prometheus-stack"  # the CRD comes from the rendered chart
    errors = dict(custom_resource_errors(body, crd.obj.body, "v1"))
    assert "unknown field(s) 'endpoint'" in errors["spec"]


def test_builtin_objects_are_checked_against_the_kubernetes_schema_and_crs_need_their_crd(dev_render: RenderResult):
    placed = _platform_objects(dev_render)
    deployment = next(p for p in placed if p.obj.kind == "Deployment" and p.release == "karpenter")
    body = copy.deepcopy(deployment.obj.body)
    body["spec"]["template"]["spec"]["containers"][0]["imagee"] = "x"
    broken = dataclasses.replace(deployment, obj=ManifestObject("x", body))
    orphan = Placed("argo-workflows", ManifestObject("x", {"apiVersion": "example.com/v1", "kind": "Widget",
                                                           "metadata": {"name": "w", "namespace": "argo"}}),
                    frozenset({"cluster-baseline"}), "manifests/argo-workflows.yaml")
    issues = check_objects([p for p in placed if p is not deployment] + [broken, orphan], "1.35",
                           {"karpenter": "karpenter", "argo-workflows": "argo"})
    found = {(i.file, i.path): i.message for i in issues}
    assert "unknown field 'imagee'" in found[("manifests/karpenter.yaml",
                                              "Deployment karpenter/karpenter.spec.template.spec.containers[0]")]
    assert "no release installs a CRD for Widget in example.com" in found[("manifests/argo-workflows.yaml",
                                                                           "Widget argo/w.apiVersion")]
    assert len(issues) == 2


def test_images_lists_every_container_image_with_its_tag(dev_render: RenderResult, chart_llm_render: RenderResult):
    chatqna = images_of("opea-chatqna", objects(chart_llm_render, "opea-chatqna"))
    vllm = next(i for i in chatqna if i.reference.startswith("vllm/vllm-openai"))
    assert vllm.pinned_by.startswith("tag ") and "opea-chatqna-vllm" in vllm.used_by
    operands = {i.reference.rsplit("/", 1)[-1].split(":")[0] for i in images_of("gpu-operator", objects(dev_render, "gpu-operator"))}
    assert {"k8s-device-plugin", "dcgm-exporter"} <= operands


def test_plan_compares_full_objects_with_the_last_render(dev_render: RenderResult, tmp_path: Path):
    previous = tmp_path / "previous"
    shutil.copytree(dev_render.out_dir, previous)
    manifest = previous / "manifests" / "karpenter.yaml"
    manifest.write_text(manifest.read_text().replace("replicas: 2", "replicas: 1", 1))
    (previous / "manifests" / "argo-workflows.yaml").unlink()
    plan = compare_dirs(previous, dev_render.out_dir)
    changes = {(c.release, c.object): c for c in plan.changes}
    assert changes[("karpenter", "Deployment karpenter/karpenter")].status == "changed"
    assert "-  replicas: 1\n+  replicas: 2" in changes[("karpenter", "Deployment karpenter/karpenter")].diff
    assert {c.status for c in plan.changes if c.release == "argo-workflows"} == {"added"}
    assert "argo-workflows:\n    added    " in plan.summary()


def test_cli_render_uses_the_last_apply_and_lists_every_release_as_json(cli_charts, tmp_path: Path):
    env = load_environment("dev")
    applied = dataclasses.replace(predict_outputs(env), predicted=False, vpc_id="vpc-0fromapply",
                                  db_endpoint="mlflow.real.us-east-1.rds.amazonaws.com")
    applied.save(tmp_path / "work" / "dev" / "outputs.json")
    result = CliRunner().invoke(cli, ["render", "dev", "--output", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    out = tmp_path / "work" / "dev" / "render"  # the default directory
    assert report["predicted_outputs"] is False and Path(report["index"]) == out / "README.md"
    assert yaml.safe_load((out / "aws-load-balancer-controller.values.yaml").read_text())["vpcId"] == "vpc-0fromapply"
    assert yaml.safe_load((out / "mlflow.values.yaml").read_text())["backendStore"]["postgres"]["host"] == applied.db_endpoint
    assert "AWS outputs: from the last apply" in (out / "README.md").read_text()
    releases = {r["release"]: r for r in report["releases"]}
    mlflow = releases["mlflow"]
    assert mlflow["rendered"] is True and mlflow["without_subcharts"] == ["postgresql 18.8.12"]
    assert Path(mlflow["manifest"]) == out / "manifests" / "mlflow.yaml"
    karpenter = releases["karpenter"]
    assert (karpenter["chart"], karpenter["namespace"], karpenter["rendered"]) == ("karpenter", "karpenter", True)
    assert Path(karpenter["manifest"]) == out / "manifests" / "karpenter.yaml" and karpenter["objects"] > 5
    assert report["kubernetes_version"] == "1.35"
    exceptions = {e["namespace"]: e for e in report["pod_security_exceptions"]}
    assert exceptions["gpu-operator"]["enforce"] == "privileged" and exceptions["gpu-operator"]["reason"]
    lb = one_in(out / "manifests" / "aws-load-balancer-controller.yaml", "Deployment")
    assert "--aws-vpc-id=vpc-0fromapply" in lb["spec"]["template"]["spec"]["containers"][0]["args"]


def one_in(manifest: Path, kind: str) -> dict:
    from eksml.charts.kube_yaml import read_manifest

    [found] = [o.body for o in read_manifest(manifest.read_text()) if o.kind == kind]
    return found


BAD_OVERLAYS = {
    # the controller pinned to the MIG pool, whose taint it does not tolerate
    "karpenter.yaml": {"nodeSelector": {"eksml.io/pool": "a100-mig"}},
    # a selector for a pool that does not exist
    "argo-workflows.yaml": {"controller": {"nodeSelector": {"eksml.io/pool": "no-such-pool"}}},
    # a custom resource with a misspelled field
    "kube-prometheus-stack.yaml": {"extraManifests": [{
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": "typo", "namespace": "monitoring"},
        "spec": {"selector": {}, "endpoint": [{"port": "http"}]}}]},
}


def test_cli_render_refuses_bad_overlays_naming_release_object_and_field(cli_charts, tmp_path, monkeypatch):
    values_dir = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, values_dir)
    (values_dir / "dev").mkdir(exist_ok=True)
    for name, overlay in BAD_OVERLAYS.items():
        (values_dir / "dev" / name).write_text(yaml.safe_dump(overlay))
    monkeypatch.setattr("eksml.k8s.model.context.HELM_VALUES_DIR", values_dir)
    out = tmp_path / "render"
    result = CliRunner().invoke(cli, ["render", "dev", "--out", str(out)])
    assert result.exit_code == 2, result.output
    text = result.output
    assert "manifests/karpenter.yaml: Deployment karpenter/karpenter.spec.template.spec" in text
    assert "a100-mig: taint gpu=mig:NoSchedule is not tolerated" in text
    assert "Deployment argo/argo-workflows-workflow-controller.spec.template.spec" in text
    assert "eksml.io/pool=no-such-pool names no pool; pools: cpu, a100-timeslice" in text
    assert "nodeSelector eksml.io/pool=no-such-pool does not match (the pool has eksml.io/pool=cpu)" in text
    assert "ServiceMonitor monitoring/typo.spec: unknown field(s) 'endpoint'" in text
    assert not out.exists()


def test_cli_render_refuses_mlflow_with_its_missing_postgresql_subchart_switched_on(cli_charts, tmp_path, monkeypatch):
    values_dir = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, values_dir)
    (values_dir / "dev").mkdir(exist_ok=True)
    (values_dir / "dev" / "mlflow.yaml").write_text(yaml.safe_dump({"postgresql": {"enabled": True}}))
    monkeypatch.setattr("eksml.k8s.model.context.HELM_VALUES_DIR", values_dir)
    out = tmp_path / "render"
    result = CliRunner().invoke(cli, ["render", "dev", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert ("release mlflow (chart mlflow 1.11.5): postgresql.enabled: turns on subchart postgresql 18.8.12, "
            "which the chart package lacks") in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_webhooks_come_after_cert_manager_and_namespaces_before_their_objects(dev_render: RenderResult):
    placed = _platform_objects(dev_render)
    webhook = next(p for p in placed if p.obj.kind.endswith("WebhookConfiguration")
                   and "cert-manager.io/inject-ca-from" in (p.obj.body["metadata"].get("annotations") or {}))
    early = dataclasses.replace(webhook, before=frozenset({"cluster-baseline"}))
    stray = Placed("karpenter", ManifestObject("x", {"apiVersion": "v1", "kind": "ConfigMap",
                                                     "metadata": {"name": "c", "namespace": "nowhere"}}),
                   frozenset({"cluster-baseline"}), "manifests/karpenter.yaml")
    issues = check_objects([p for p in placed if p is not webhook] + [early, stray], "1.35",
                           {r.name: r.component.namespace for r in dev_render.charts.releases})
    messages = {i.path: i.message for i in issues}
    assert f"its certificate comes from cert-manager, which is not installed before {webhook.release}" in \
        messages[f"{webhook.obj}.metadata.annotations"]
    assert messages["ConfigMap nowhere/c.metadata.namespace"] == "namespace nowhere is created by no release or eksml object"


@pytest.mark.parametrize("env_name", ["local", "staging", "prod"])  # dev: the session's render above
def test_every_shipped_environment_renders_clean(env_name, session_charts, session_cache, tmp_path):
    """Zero schema, CRD, order or placement problems; every release rendered or said why not."""
    env = load_environment(env_name)
    result = render_platform(env, predict_outputs(env), tmp_path, with_charts=True, cache=session_cache,
                             mirror=session_charts.url)
    status = {r.name: r.result.rendered for r in result.charts.releases}
    assert [name for name, ok in status.items() if not ok] == []
    assert all(p.pools for p in result.placements)


def test_cli_images_lists_images_per_release_as_text_and_json(dev_render: RenderResult, monkeypatch):
    monkeypatch.setattr("eksml.k8s.templating.chart_render.render_charts", lambda *args, **kwargs: dev_render.charts)
    text = CliRunner().invoke(cli, ["images", "dev"])
    assert text.exit_code == 0, text.output
    assert "opea-chatqna:\n" in text.output and "vllm/vllm-openai:" in text.output
    assert "mlflow:\n" in text.output and "burakince/mlflow:" in text.output
    report = json.loads(CliRunner().invoke(cli, ["images", "dev", "--output", "json"]).output)
    releases = {r["release"]: r for r in report["releases"]}
    assert any(i["image"].startswith("quay.io/jetstack/cert-manager-controller:") and i["pinned_by"].startswith("tag ")
               for i in releases["cert-manager"]["images"])
    assert releases["mlflow"]["rendered"] is True
    assert any(i["image"].startswith("burakince/mlflow:") for i in releases["mlflow"]["images"])
