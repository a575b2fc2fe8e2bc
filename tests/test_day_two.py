"""Day two: storage classes, autoscaling, the EFS CSI driver and KEDA, high availability at staging
and prod, and the render check against single-replica prod Deployments behind an Ingress or webhook."""

from __future__ import annotations

import dataclasses

import pytest

from eksml.charts.kube_yaml import ManifestObject
from eksml.config import load_environment
from eksml.contract.names import ebs_key_alias
from eksml.outputs import predict_outputs
from eksml.k8s.model.components.storage import DEFAULT_CLASS_ANNOTATION
from eksml.k8s.checks.object_checks import Placed
from eksml.k8s.model.platform import build_platform
from eksml.k8s.rendering.render import RenderResult
from eksml.k8s.checks.replica_check import SINGLE_REPLICA_ALLOWED, single_replica_issues


def platform_for(name: str):
    env = load_environment(name)
    return env, build_platform(env, predict_outputs(env))


def owned(platform, component: str, kind: str) -> dict[str, dict]:
    c = platform.component(component)
    return {m["metadata"]["name"]: m for m in (*c.prerequisites, *c.objects) if m["kind"] == kind}


def chart_objects(result: RenderResult, release: str, kind: str) -> dict[str, ManifestObject]:
    return {o.name: o for o in result.charts.release(release).objects if o.kind == kind}


def test_gp3_is_the_one_default_class_and_ebs_classes_use_the_environments_key():
    env, platform = platform_for("dev")
    classes = owned(platform, "storage-classes", "StorageClass")
    assert set(classes) == {"gp3", "io2", "efs"}
    defaults = [n for n, c in classes.items() if c["metadata"]["annotations"][DEFAULT_CLASS_ANNOTATION] == "true"]
    assert defaults == ["gp3"]
    for name in ("gp3", "io2"):
        params = classes[name]["parameters"]
        assert params["type"] == name and params["encrypted"] == "true"
        assert params["kmsKeyId"].endswith(f":alias/{ebs_key_alias(env.cluster.name)}")
        assert classes[name]["volumeBindingMode"] == "WaitForFirstConsumer"  # the volume's zone is the pod's


def test_efs_class_uses_access_points_on_the_data_stacks_file_system():
    env = load_environment("dev")
    outputs = predict_outputs(env)
    outputs = dataclasses.replace(outputs, efs_file_system_id="fs-0123456789abcdef0")
    efs = owned(build_platform(env, outputs), "storage-classes", "StorageClass")["efs"]
    assert efs["provisioner"] == "efs.csi.aws.com"
    assert efs["parameters"]["provisioningMode"] == "efs-ap"
    assert efs["parameters"]["fileSystemId"] == "fs-0123456789abcdef0"


def test_efs_driver_is_off_without_a_file_system():
    env = load_environment("dev")
    env = env.model_copy(update={"storage": env.storage.model_copy(update={"efs": False})})
    platform = build_platform(env, predict_outputs(env))
    names = {c.name for c in platform.components}
    assert "aws-efs-csi-driver" not in names
    assert "efs" not in owned(platform, "storage-classes", "StorageClass")


def test_efs_csi_controller_renders_restricted_with_its_irsa_role(dev_render: RenderResult):
    arn = predict_outputs(load_environment("dev")).irsa_role_arns["efs-csi"]
    deployment = chart_objects(dev_render, "aws-efs-csi-driver", "Deployment")["efs-csi-controller"]
    pod = deployment.body["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        if container["name"] == "efs-plugin":
            sc = container["securityContext"]
            assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
    account = chart_objects(dev_render, "aws-efs-csi-driver", "ServiceAccount")["efs-csi-controller-sa"]
    assert account.body["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == arn
    # The node plugin is a DaemonSet placed by the scheduling check on every pool (the render passed).
    assert "efs-csi-node" in chart_objects(dev_render, "aws-efs-csi-driver", "DaemonSet")


def test_dev_model_scales_to_zero_on_vllms_queue_through_keda(dev_render: RenderResult):
    _, platform = platform_for("dev")
    scaled = owned(platform, "model-serving", "ScaledObject")["tinyllama"]
    assert scaled["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                                "name": "tinyllama-predictor"}
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (0, 2)
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "prometheus" and "vllm:num_requests_waiting" in trigger["metadata"]["query"]
    isvc = owned(platform, "model-serving", "InferenceService")["tinyllama"]
    assert isvc["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "external"
    assert isvc["spec"]["predictor"]["minReplicas"] == 0
    # A model without autoscaling keeps its fixed replicas and gets no ScaledObject.
    assert "mistral-7b" not in owned(platform, "model-serving", "ScaledObject")
    # KEDA's CRDs are rendered by its chart, which the ScaledObject was checked against.
    assert "scaledobjects.keda.sh" in chart_objects(dev_render, "keda", "CustomResourceDefinition")


@pytest.mark.parametrize("env_name", ["staging", "prod"])
def test_controllers_run_two_replicas_with_a_pdb_and_zone_spread(env_name):
    _, platform = platform_for(env_name)
    keda = platform.component("keda").values
    assert keda["operator"]["replicaCount"] == 2 and keda["webhooks"]["replicaCount"] == 2
    assert keda["podDisruptionBudget"]["webhooks"] == {"minAvailable": 1}
    spread = keda["topologySpreadConstraints"]["webhooks"][0]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    cert_manager = platform.component("cert-manager").values
    for part in (cert_manager, cert_manager["webhook"], cert_manager["cainjector"]):
        assert part["replicaCount"] == 2 and part["podDisruptionBudget"]["enabled"] is True
    assert platform.component("aws-efs-csi-driver").values["controller"]["replicaCount"] == 2


def test_dev_keeps_one_replica_per_controller():
    _, platform = platform_for("dev")
    assert platform.component("keda").values["operator"]["replicaCount"] == 1
    assert "podDisruptionBudget" not in platform.component("cert-manager").values


def _placed(release: str, body: dict) -> Placed:
    return Placed(release, ManifestObject(release, body), frozenset(), f"manifests/{release}.yaml")


def _fronted_deployment(replicas: int, front: str) -> list[Placed]:
    labels = {"app": "web"}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ui"},
                  "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                           "template": {"metadata": {"labels": labels}, "spec": {"containers": []}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "ui"},
               "spec": {"selector": labels, "ports": [{"port": 80}]}}
    if front == "ingress":
        fronting = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "ui", "namespace": "ui"},
                    "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                                                            "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}
    else:
        fronting = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
                    "metadata": {"name": "web"},
                    "webhooks": [{"name": "web.example.com", "clientConfig": {"service": {"name": "web", "namespace": "ui"}}}]}
    return [_placed("web", o) for o in (deployment, service, fronting)]


@pytest.mark.parametrize("front", ["ingress", "webhook"])
def test_single_replica_behind_an_ingress_or_webhook_is_refused(front):
    [issue] = single_replica_issues(_fronted_deployment(1, front), {"web": "ui"})
    assert "Deployment ui/web.spec.replicas" in issue.path and "one replica at prod" in issue.message
    assert single_replica_issues(_fronted_deployment(2, front), {"web": "ui"}) == []


def test_every_exception_to_the_replica_rule_has_a_reason():
    assert all(len(reason) > 30 for reason in SINGLE_REPLICA_ALLOWED.values())


def test_the_check_finds_the_single_replica_webhooks_of_a_real_dev_render(dev_render: RenderResult):
    """dev runs one replica of each (allowed below prod); the check, run over those real charts, names them."""
    from eksml.k8s.checks.platform_checks import placed_objects

    _, platform = platform_for("dev")
    namespaces = {r.name: r.component.namespace for r in dev_render.charts.releases}
    flagged = {i.path.split(".spec")[0] for i in single_replica_issues(placed_objects(platform, dev_render.charts), namespaces)}
    assert "Deployment cert-manager/cert-manager-webhook" in flagged
    assert "Deployment keda/keda-admission-webhooks" in flagged


def test_prod_renders_with_every_check_passing(session_charts, session_cache, tmp_path):
    """The real prod render: HA values pass the replica check beside the schema, CRD and placement checks."""
    from eksml.k8s.rendering.render import render_platform

    env = load_environment("prod")
    result = render_platform(env, predict_outputs(env), tmp_path, with_charts=True, cache=session_cache,
                             mirror=session_charts.url)
    webhook = chart_objects(result, "cert-manager", "Deployment")["cert-manager-webhook"]
    assert webhook.body["spec"]["replicas"] == 2
    assert "cert-manager-webhook" in chart_objects(result, "cert-manager", "PodDisruptionBudget")
    [serving] = [c for c in result.components if c.name == "model-serving"]
    assert {m["metadata"]["name"] for m in serving.objects if m["kind"] == "ScaledObject"} == {"mistral-7b"}
