"""The mesh: Linkerd with mTLS at staging and prod, its certificates from cert-manager, the CNI plugin
instead of proxy-init, and the render's checks seeing each pod as the injector will admit it."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
from shipped import SHIPPED, shipped_data

from eksml.config import Environment, load_environment
from eksml.errors import ConfigError
from eksml.k8s.checks.generic_targets import GENERIC_TARGETS_FLAG, generic_target_issues
from eksml.k8s.checks.network_check import reachability_issues
from eksml.k8s.checks.platform_checks import placed_components, platform_pods
from eksml.k8s.checks.pod_security_check import pod_security_issues
from eksml.k8s.checks.rendered_pods import pod_requests, workloads_of_object
from eksml.k8s.rendering.render import RenderResult, render_platform
from eksml.outputs import predict_outputs

CONTROL_PLANE = "linkerd-control-plane"


@pytest.fixture(scope="module")
def staging(session_charts, session_cache, tmp_path_factory) -> RenderResult:
    env = load_environment("staging")
    return render_platform(env, predict_outputs(env), tmp_path_factory.mktemp("staging-render"), with_charts=True,
                           cache=session_cache, mirror=session_charts.url)


def _parts(render: RenderResult):
    objects = placed_components(render.components, render.charts)
    return objects, {r.name: r.component.namespace for r in render.charts.releases}


def _edited(objects, wanted, edit):
    """A copy of the objects where `edit` rewrote (a deep copy of) each body `wanted` picks."""
    found = []
    for placed in objects:
        if wanted(placed):
            body = copy.deepcopy(placed.obj.body)
            edit(body)
            placed = dataclasses.replace(placed, obj=dataclasses.replace(placed.obj, body=body))
        found.append(placed)
    return found


def _pod_spec(body):
    return body["spec"]["template"]["spec"]


def _reachability(render: RenderResult, objects):
    env = load_environment("staging")
    _, namespaces = _parts(render)
    return reachability_issues(objects, namespaces, list(env.teams), [c.name for c in render.components],
                               env.network.vpc_cidr)


def test_the_mesh_is_on_at_staging_and_prod_unless_the_file_says_otherwise():
    assert {name: load_environment(name).mesh_on for name in SHIPPED} == {
        name: name in ("staging", "prod") for name in SHIPPED}
    dev = shipped_data("dev") | {"mesh": {"enabled": True}}
    prod = shipped_data("prod") | {"mesh": {"enabled": False}}
    assert Environment.model_validate(dev).mesh_on and not Environment.model_validate(prod).mesh_on


def test_dev_renders_no_mesh(dev_render):
    assert not any(c.name.startswith("linkerd") for c in dev_render.components)
    objects, _ = _parts(dev_render)
    assert not any("linkerd.io/inject" in (p.obj.body["metadata"].get("annotations") or {})
                   for p in objects if p.obj.kind == "Namespace")


def test_staging_runs_linkerd_with_its_certificates_from_cert_manager_and_no_key_material(staging):
    objects, _ = _parts(staging)
    chart = [p for p in objects if p.release == CONTROL_PLANE and not p.file.startswith("objects/")]
    assert chart and not [p.obj for p in chart if p.obj.kind == "Secret"]  # the webhooks' come from cert-manager
    deployments = [p.obj for p in chart if p.obj.kind == "Deployment"]
    assert {d.name for d in deployments} >= {"linkerd-identity", "linkerd-destination", "linkerd-proxy-injector"}
    for deployment in deployments:
        inits = [c["name"] for c in _pod_spec(deployment.body).get("initContainers") or []]
        assert "linkerd-init" not in inits and "linkerd-network-validator" in inits, deployment  # the CNI's way
    webhooks = [p.obj for p in chart if p.obj.kind.endswith("WebhookConfiguration")]
    assert len(webhooks) == 3
    owned = {(p.obj.kind, p.obj.name): p.obj.body for p in objects if p.release == CONTROL_PLANE
             and p.file.startswith("objects/")}
    for webhook in webhooks:  # each CA injected from a cert-manager Certificate eksml applies
        namespace, certificate = webhook.body["metadata"]["annotations"]["cert-manager.io/inject-ca-from"].split("/")
        assert namespace == "linkerd" and ("Certificate", certificate) in owned, webhook
    issuer = owned[("Certificate", "linkerd-identity-issuer")]["spec"]
    anchor = owned[("Certificate", "linkerd-trust-anchor")]["spec"]
    assert issuer["isCA"] and issuer["issuerRef"]["name"] == "linkerd-trust-anchor"
    assert owned[("Issuer", "linkerd-trust-anchor")]["spec"]["ca"]["secretName"] == anchor["secretName"]
    assert "selfSigned" in owned[("Issuer", anchor["issuerRef"]["name"])]["spec"]
    bundle = owned[("ExternalSecret", "linkerd-identity-trust-roots")]["spec"]
    assert bundle["target"]["manifest"] == {"apiVersion": "v1", "kind": "ConfigMap"}
    assert bundle["data"][0]["remoteRef"] == {"key": issuer["secretName"], "property": "ca.crt"}
    values = staging.charts.releases[[r.name for r in staging.charts.releases].index(CONTROL_PLANE)].component.values
    assert values["cniEnabled"] and values["identity"]["externalCA"]
    assert values["identity"]["issuer"]["scheme"] == "kubernetes.io/tls"
    mesh_files = [p for p in staging.out_dir.rglob("*") if p.is_file() and "linkerd" in str(p.relative_to(staging.out_dir))]
    assert len(mesh_files) > 10
    for path in mesh_files:  # no key, no certificate: cert-manager makes them in the cluster
        assert "-----BEGIN" not in path.read_text(), path


def test_platform_namespaces_are_meshed_and_node_agents_stay_out(staging):
    objects, _ = _parts(staging)
    namespaces = {p.obj.name: p.obj.body["metadata"] for p in objects if p.obj.kind == "Namespace"}
    inject = {name: (meta.get("annotations") or {}).get("linkerd.io/inject") for name, meta in namespaces.items()}
    for name in ("mlflow", "kserve", "argo", "chatqna", "cert-manager", "research"):
        assert inject[name] == "enabled", name
    for name in ("gpu-operator", "monitoring", "logging", "linkerd", "linkerd-cni"):
        assert inject[name] in (None, "disabled"), name
    assert namespaces["linkerd"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespaces["linkerd-cni"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespaces["linkerd"]["labels"]["config.linkerd.io/admission-webhooks"] == "disabled"


def test_pod_security_sees_the_proxy_the_injector_adds(staging):
    objects, namespaces = _parts(staging)
    assert pod_security_issues(objects, namespaces, "1.35") == []

    def rooted_proxy(body):
        for container in _pod_spec(body)["initContainers"]:
            if container["name"] == "linkerd-proxy":
                container["securityContext"] = {**container["securityContext"], "runAsUser": 0}

    broken = _edited(objects, lambda p: p.release == CONTROL_PLANE and p.obj.kind == "Deployment"
                     and p.obj.name == "linkerd-destination", rooted_proxy)
    issues = pod_security_issues(broken, namespaces, "1.35")
    meshed_pods = [i for i in issues if "that namespace mlflow enforces" in i.message]
    assert meshed_pods and all("container linkerd-proxy: running as non-root user" in i.message
                               and "linkerd-proxy: added by Linkerd's injector" in i.message for i in meshed_pods)
    assert not any(f"that namespace {ns} enforces" in i.message for i in issues for ns in ("gpu-operator", "monitoring"))
    # The same proxy in a render without the control plane (no injector): nothing is added, nothing breaks.
    without = [p for p in broken if p.release != CONTROL_PLANE]
    assert not [i for i in pod_security_issues(without, namespaces, "1.35") if "linkerd-proxy" in i.message]


def test_placement_counts_the_proxy_and_sidecars_add_up():
    spec = {"containers": [{"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
            "initContainers": [{"restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}}},
                               {"resources": {"requests": {"cpu": "2"}}}]}
    assert pod_requests(spec) == {"cpu": 2.1, "memory": 2**30}  # the init runs beside the sidecar before it
    spec["initContainers"].pop()
    assert pod_requests(spec)["cpu"] == pytest.approx(1.1)


def test_meshed_pods_are_placed_with_their_proxy(staging):
    objects, namespaces = _parts(staging)
    [mlflow] = [p for p in objects if p.obj.kind == "Deployment" and p.obj.name == "mlflow"]
    [bare] = list(workloads_of_object(mlflow.release, mlflow.file, mlflow.obj))
    [admitted] = [w for w in platform_pods(objects, namespaces) if w.name == bare.name]
    proxy = next(c for c in _pod_spec(next(p.obj.body for p in objects if p.obj.name == "linkerd-destination"
                                          and p.obj.kind == "Deployment"))["initContainers"]
                 if c["name"] == "linkerd-proxy")
    assert admitted.cpu == pytest.approx(bare.cpu + pod_requests({"containers": [proxy]})["cpu"])
    assert admitted.cpu > bare.cpu


def test_network_policies_admit_the_proxies_and_their_control_plane(staging):
    objects, _ = _parts(staging)
    assert _reachability(staging, objects) == []

    def without_proxy_port(body):
        for key in ("ingress", "egress"):
            for rule in body["spec"].get(key) or []:
                if rule.get("ports"):
                    rule["ports"] = [p for p in rule["ports"] if p["port"] != 4143]

    issues = _reachability(staging, _edited(objects, lambda p: p.obj.kind == "NetworkPolicy", without_proxy_port))
    assert any(":4143/TCP" in i.path and "proxy to proxy" in i.message for i in issues)
    cut = [p for p in objects if not (p.obj.kind == "NetworkPolicy" and p.obj.name.startswith("allow-to-linkerd"))]
    issues = _reachability(staging, cut)
    assert any("Deployment linkerd/linkerd-identity:8080/TCP" in i.path for i in issues)
    assert any("Deployment linkerd/linkerd-destination:8090/TCP" in i.path for i in issues)


def test_the_trust_bundle_needs_a_controller_that_writes_config_maps(staging):
    objects, _ = _parts(staging)
    assert generic_target_issues(objects) == []

    def without_flag(body):
        for container in _pod_spec(body)["containers"]:
            container["args"] = [a for a in container.get("args") or [] if a != GENERIC_TARGETS_FLAG]

    [issue] = generic_target_issues(_edited(objects, lambda p: p.release == "external-secrets"
                                            and p.obj.kind == "Deployment", without_flag))
    assert issue.path == "ExternalSecret linkerd/linkerd-identity-trust-roots.spec.target.manifest"
    assert "makes a ConfigMap" in issue.message and "2.9.0" in issue.message


def test_a_mesh_on_an_external_secrets_chart_without_generic_targets_is_refused(session_charts, session_cache, tmp_path):
    data = shipped_data("staging")
    data["addons"]["external_secrets"] = {"version": "0.20.4"}  # the 0.x charts have no genericTargets value
    env = Environment.model_validate(data)
    with pytest.raises(ConfigError) as refused:
        render_platform(env, predict_outputs(env), tmp_path / "out", with_charts=True, cache=session_cache,
                        mirror=session_charts.url)
    assert any(i.path == "ExternalSecret linkerd/linkerd-identity-trust-roots.spec.target.manifest"
               and GENERIC_TARGETS_FLAG in i.message for i in refused.value.issues)
    assert not (tmp_path / "out").exists()


def test_the_cni_plugin_redirects_for_the_proxy_the_chart_renders(staging):
    objects, _ = _parts(staging)
    [config] = [p.obj.body for p in objects if p.obj.kind == "ConfigMap" and p.obj.name == "linkerd-cni-config"]
    plugin = json.loads(config["data"]["cni_network_config"])["linkerd"]
    proxy = next(c for p in objects if p.obj.kind == "Deployment" and p.obj.name == "linkerd-destination"
                 for c in _pod_spec(p.obj.body)["initContainers"] if c["name"] == "linkerd-proxy")
    ports = {p["name"]: p["containerPort"] for p in proxy["ports"]}
    assert plugin["proxy-uid"] == proxy["securityContext"]["runAsUser"]
    assert plugin["incoming-proxy-port"] == ports["linkerd-proxy"]
    assert str(ports["linkerd-admin"]) in plugin["inbound-ports-to-ignore"]
    [cni] = [p.obj.body for p in objects if p.obj.kind == "DaemonSet" and p.obj.name == "linkerd-cni"]
    repair = next(c for c in _pod_spec(cni)["containers"] if c["name"] == "repair-controller")
    assert {"name": "LINKERD_CNI_REPAIR_CONTROLLER_NODE_NAME",  # it repairs the pods of its own node only
            "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}} in repair["env"]
