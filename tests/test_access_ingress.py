"""Access through the shared ALB: Ingresses in one group, internal by default, HTTPS-only when
internet-facing, each pointing at a Service (and port) the real charts create; unsafe access refused."""

from __future__ import annotations

import json
import subprocess
import tarfile

import pytest
import yaml
from serving_helpers import edited, issues_of, objects_of, platform_of

from eksml.k8s.model.components.access import UI_BACKENDS, predictor_service
from eksml.k8s.model.components.serving import PREDICTOR_PORT
from eksml.kube_tools import helm_binary
from shared_data import SHARED_DIR

CHARTS = SHARED_DIR / "charts"
# Releases whose Services are ingress targets, and the package eksml pins for them.
PACKAGES = {
    "kube-prometheus-stack": "kube-prometheus-stack-79.0.0",
    "argo-workflows": "argo-workflows-1.0.18",
    "opea-chatqna": "chatqna-1.4.0",
    "argocd": "argo-cd-10.1.1",
}


def rendered_services(platform, release: str, tmp_path) -> dict[str, set]:
    """{service name: ports (numbers and names)} as `helm template` renders the release with eksml's values."""
    component = platform.component(release)
    values = tmp_path / f"{release}.values.yaml"
    values.write_text(yaml.safe_dump(component.values))
    out = subprocess.run(
        [str(helm_binary()), "template", release, str(CHARTS / f"{PACKAGES[release]}.tgz"), "-n", component.namespace,
         "-f", str(values)], capture_output=True, text=True, check=True).stdout
    services = {}
    for doc in yaml.safe_load_all(out):
        if doc and doc.get("kind") == "Service":
            services[doc["metadata"]["name"]] = {p["port"] for p in doc["spec"]["ports"]} | {
                p.get("name") for p in doc["spec"]["ports"] if p.get("name")}
    return services


def mlflow_services(platform) -> dict[str, set]:
    """The mlflow package lacks its postgresql subchart, so Helm cannot template it: read the Service
    template's inputs instead (fullname = release name, port = service.port, default from values.yaml)."""
    with tarfile.open(CHARTS / "mlflow-1.11.5.tgz") as tar:
        defaults = yaml.safe_load(tar.extractfile("mlflow/values.yaml").read())
        template = tar.extractfile("mlflow/templates/service.yaml").read().decode()
    assert "port: {{ .Values.service.port }}" in template
    port = platform.component("mlflow").values.get("service", {}).get("port", defaults["service"]["port"])
    return {"mlflow": {port}}


@pytest.mark.parametrize("env_name, exposed", [
    ("dev", {"ui-mlflow", "ui-argo-workflows", "ui-grafana", "ui-chatqna-ui"}),
    ("staging", {"ui-mlflow", "ui-argocd", "ui-argo-workflows", "ui-grafana"}),
])
def test_every_ui_ingress_points_at_a_rendered_service_and_port(tmp_path, env_name, exposed):
    platform = platform_of(env_name)
    services = {("mlflow", "mlflow"): mlflow_services(platform)["mlflow"]}
    releases = {c.name for c in platform.releases}
    for release in PACKAGES.keys() & releases:
        namespace = platform.component(release).namespace
        for name, ports in rendered_services(platform, release, tmp_path).items():
            services[(namespace, name)] = ports
    ingresses = [m for m in objects_of(platform, "access", "Ingress") if m["metadata"]["name"].startswith("ui-")]
    assert {m["metadata"]["name"] for m in ingresses} == exposed
    for ingress in ingresses:
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        key = (ingress["metadata"]["namespace"], backend["name"])
        assert key in services, f"{ingress['metadata']['name']}: no Service {key}"
        assert backend["port"]["number"] in services[key]


def test_model_ingresses_point_at_predictors_and_split_a_canary():
    platform = platform_of("dev")
    isvcs = {m["metadata"]["name"] for m in objects_of(platform, "model-serving", "InferenceService")}
    ingresses = {m["metadata"]["name"]: m for m in objects_of(platform, "access", "Ingress")}
    plain = ingresses["model-tinyllama"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert plain == {"name": predictor_service("tinyllama"), "port": {"number": PREDICTOR_PORT}}
    split = ingresses["model-mistral-7b"]
    backend = split["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["port"] == {"name": "use-annotation"}
    action = json.loads(split["metadata"]["annotations"][f"alb.ingress.kubernetes.io/actions.{backend['name']}"])
    groups = {g["serviceName"]: g["weight"] for g in action["forwardConfig"]["targetGroups"]}
    assert groups == {"mistral-7b-predictor": 90, "mistral-7b-canary-predictor": 10}
    assert {name.removesuffix("-predictor") for name in groups} <= isvcs


def test_one_shared_internal_alb_in_dev():
    ingresses = objects_of(platform_of("dev"), "access", "Ingress")
    annotations = [m["metadata"]["annotations"] for m in ingresses]
    assert {a["alb.ingress.kubernetes.io/group.name"] for a in annotations} == {"mlplatform-dev"}
    assert {a["alb.ingress.kubernetes.io/scheme"] for a in annotations} == {"internal"}
    assert all(m["spec"]["ingressClassName"] == "alb" for m in ingresses)


def test_prod_is_https_only_from_allowed_cidrs():
    for ingress in objects_of(platform_of("prod"), "access", "Ingress"):
        a = ingress["metadata"]["annotations"]
        assert a["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
        assert a["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
        assert a["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
        assert a["alb.ingress.kubernetes.io/inbound-cidrs"] == "198.51.100.0/24"


def test_default_deny_namespaces_admit_the_alb_from_the_vpc():
    policies = {m["metadata"]["namespace"]: m for m in objects_of(platform_of("dev"), "access", "NetworkPolicy")}
    assert set(policies) == {b.namespace for b in UI_BACKENDS.values() if b.default_deny}
    assert policies["mlflow"]["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]


@pytest.mark.parametrize("drop, field", [("certificate_arn", "access.certificate_arn"), ("allowed_cidrs", "access.allowed_cidrs")])
def test_internet_facing_without_tls_or_cidrs_is_refused(tmp_path, drop, field):
    def edit(data):
        del data["access"][drop]
    assert "internet-facing" in issues_of(edited("prod", tmp_path, edit))[field]


def test_prod_may_not_open_to_the_whole_internet(tmp_path):
    def edit(data):
        data["access"]["allowed_cidrs"] = ["0.0.0.0/0"]
    assert "whole internet" in issues_of(edited("prod", tmp_path, edit))["access.allowed_cidrs"]


def test_unknown_model_or_uninstalled_ui_is_refused(tmp_path):
    def edit(data):
        data["access"]["models"] = ["nope"]
        data["access"]["expose"] = ["argocd"]
    issues = issues_of(edited("dev", tmp_path, edit))
    assert "no served model named 'nope'" in issues["access.models[0]"]
    assert "not installed" in issues["access.expose[0]"]


def test_ingresses_and_policies_are_valid_kubernetes_objects():
    from eksml.k8s.checks.object_checks import builtin_validator

    for env_name in ("dev", "prod", "staging", "local"):
        platform = platform_of(env_name)
        for manifest in platform.component("access").objects:
            validator = builtin_validator("1.33", manifest["apiVersion"], manifest["kind"])
            assert validator is not None
            assert [e.message for e in validator.iter_errors(manifest)] == []
