"""Access through the shared ALB: Ingresses in one group, internal by default, HTTPS-only when
internet-facing, each pointing at a Service (and port) the real charts create; unsafe access refused."""

from __future__ import annotations

import json

import pytest
from serving_helpers import edited, issues_of, objects_of, platform_of

from eksml.config import load_environment
from eksml.components.serving import PREDICTOR_PORT, predictor_service
from eksml.k8s.model.components.access import UI_BACKENDS
from eksml.k8s.templating.chart_render import render_charts

def rendered_services(env_name: str, platform, cache, mirror: str) -> dict[tuple[str, str], set]:
    """{(namespace, Service name): ports (numbers and names)} as the real Helm renders the pinned charts
    with eksml's values (releases come from the render cache when another test rendered them already)."""
    renders = render_charts(platform, load_environment(env_name), cache=cache, mirror=mirror)
    services = {}
    for release in renders.releases:
        for obj in release.objects:
            if obj.kind == "Service":
                ports = obj.body["spec"]["ports"]
                services[(obj.namespace or release.component.namespace, obj.name)] = (
                    {p["port"] for p in ports} | {p["name"] for p in ports if p.get("name")})
    return services


@pytest.mark.parametrize("env_name, exposed", [
    ("dev", {"ui-mlflow", "ui-argo-workflows", "ui-grafana", "ui-chatqna-ui"}),
    ("staging", {"ui-mlflow", "ui-argocd", "ui-argo-workflows", "ui-grafana"}),
])
def test_every_ui_ingress_points_at_a_rendered_service_and_port(session_charts, session_cache, env_name, exposed):
    platform = platform_of(env_name)
    services = rendered_services(env_name, platform, session_cache, session_charts.url)
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


def test_each_exposed_ui_admits_the_alb_from_the_vpc_on_its_pod_port_only():
    env = load_environment("dev")
    policies = {m["metadata"]["namespace"]: m for m in objects_of(platform_of("dev"), "access", "NetworkPolicy")}
    assert set(policies) == {UI_BACKENDS[target].namespace for target in env.access.expose}
    assert policies["mlflow"]["spec"]["ingress"] == [{"from": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
                                                      "ports": [{"protocol": "TCP", "port": "mlflow"}]}]


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
