"""Who sends traces to the collector, as rendered: Argo Workflows (controller, argoexec, steps) over
OTLP/gRPC, ChatQnA's OPEA microservices over OTLP/HTTP and TEI over gRPC, the gateway through the
OpenTelemetry operator's auto-instrumentation, each with the NetworkPolicy flow it needs, and nothing
pointing at a collector that is not installed."""

from __future__ import annotations

from urllib.parse import urlparse

import yaml

from eksml.components.argo_workflows import ARGO_WORKFLOWS
from eksml.components.chatqna import OPEA_CHATQNA
from eksml.components.tracing import OTEL_COLLECTOR, OTEL_OPERATOR, OTLP_GRPC_PORT, OTLP_HTTP_PORT
from eksml.config.components import component_enabled
from eksml.config import Environment
from eksml.k8s.checks.network_check import platform_of, policy_set, reachability_issues
from eksml.k8s.checks.platform_checks import placed_components
from eksml.k8s.model.components.chatqna import TELEMETRY_CONFIG, ChatQnA
from eksml.k8s.model.context import RenderContext
from eksml.outputs import predict_outputs
from shipped import shipped_data

VPC = "10.20.0.0/16"
TEAMS = ["research", "inference"]


def _release(render, name):
    [found] = [r for r in render.charts.releases if r.name == name]
    return found


def _collector_service(render) -> tuple[str, set[int]]:
    """The collector's ClusterIP Service as "<name>.<namespace>" and its ports, read from the chart's render."""
    services = [o for o in _release(render, OTEL_COLLECTOR.name).objects if o.kind == "Service"
                and "clusterIP" not in o.body["spec"]]
    [service] = services
    return f"{service.name}.{OTEL_COLLECTOR.namespace}", {p["port"] for p in service.body["spec"]["ports"]}


def _points_at_collector(url: str, render, port: int) -> bool:
    host, ports = _collector_service(render)
    parsed = urlparse(url)
    return parsed.hostname == host and parsed.port == port and port in ports


def _containers(obj) -> list[dict]:
    pod = obj.body["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


def test_argo_controller_executor_and_steps_send_traces_to_the_collector(dev_render):
    release = _release(dev_render, ARGO_WORKFLOWS.name)
    [controller] = [o for o in release.objects if o.kind == "Deployment" and "controller" in o.name]
    env = {e["name"]: e.get("value") for c in _containers(controller) for e in c.get("env", [])}
    assert _points_at_collector(env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], dev_render, OTLP_GRPC_PORT)
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env  # traces only: the collector has no metrics pipeline
    [config] = [o for o in release.objects if o.kind == "ConfigMap" and "config" in o.body.get("data", {})]
    settings = yaml.safe_load(config.body["data"]["config"])
    for part in ("executor", "mainContainer"):  # argoexec's init and wait containers; the steps' own SDKs
        [variable] = settings[part]["env"]
        assert variable["name"] == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        assert _points_at_collector(variable["value"], dev_render, OTLP_GRPC_PORT), part


def test_every_opea_container_reads_the_telemetry_config(dev_render):
    [component] = [c for c in dev_render.components if c.name == OPEA_CHATQNA.name]
    [config_map] = [m for m in component.prerequisites if m["metadata"]["name"] == TELEMETRY_CONFIG]
    assert config_map["metadata"]["namespace"] == OPEA_CHATQNA.namespace
    data = config_map["data"]
    assert _points_at_collector(data["TELEMETRY_ENDPOINT"], dev_render, OTLP_HTTP_PORT)
    assert urlparse(data["TELEMETRY_ENDPOINT"]).path == "/v1/traces"
    assert _points_at_collector(data["OTLP_ENDPOINT"], dev_render, OTLP_GRPC_PORT)
    deployments = [o for o in _release(dev_render, OPEA_CHATQNA.name).objects if o.kind == "Deployment"]
    reading = {d.name for d in deployments for c in d.body["spec"]["template"]["spec"]["containers"]
               if any((ref.get("configMapRef") or {}).get("name") == TELEMETRY_CONFIG for ref in c.get("envFrom", []))}
    # All but the gateway (its env is the chart's alone: see the next test), nginx and Redis (no OPEA code).
    release = OPEA_CHATQNA.name
    assert {d.name for d in deployments} - reading == {release, f"{release}-nginx", f"{release}-redis-vector-db"}
    assert {f"{release}-tei", f"{release}-teirerank", f"{release}-retriever-usvc"} <= reading


def test_the_gateway_is_traced_by_the_operators_auto_instrumentation(dev_render):
    release = OPEA_CHATQNA.name
    [gateway] = [o for o in _release(dev_render, release).objects if o.kind == "Deployment" and o.name == release]
    wanted = gateway.body["spec"]["template"]["metadata"]["annotations"]["instrumentation.opentelemetry.io/inject-python"]
    [component] = [c for c in dev_render.components if c.name == release]
    [instrumentation] = [m for m in component.prerequisites if m["kind"] == "Instrumentation"]
    assert instrumentation["metadata"] == {**instrumentation["metadata"], "name": wanted,
                                           "namespace": OPEA_CHATQNA.namespace}
    assert _points_at_collector(instrumentation["spec"]["exporter"]["endpoint"], dev_render, OTLP_HTTP_PORT)
    env = {e["name"]: e["value"] for e in instrumentation["spec"]["python"]["env"]}
    assert env["OTEL_METRICS_EXPORTER"] == env["OTEL_LOGS_EXPORTER"] == "none"  # the collector takes traces only
    operator = _release(dev_render, OTEL_OPERATOR.name)
    assert OTEL_OPERATOR.name in component.depends_on  # pods are admitted after its webhook runs
    hooks = [o for o in operator.objects if o.kind == "MutatingWebhookConfiguration"]
    certificates = {f"{OTEL_OPERATOR.namespace}/{o.name}" for o in operator.objects if o.kind == "Certificate"}
    assert hooks and all(h.body["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] in certificates
                         for h in hooks)
    assert not [o for o in operator.objects if o.kind == "Secret"]


def test_senders_reach_the_collector_on_their_ports_only(dev_render):
    objects = placed_components(dev_render.components, dev_render.charts)
    namespaces = {r.name: r.component.namespace for r in dev_render.charts.releases}
    platform = platform_of(objects, namespaces, TEAMS, [c.name for c in dev_render.components])
    policies = policy_set(objects, namespaces, VPC)
    [collector] = [p for p in platform.pods if p.namespace == OTEL_COLLECTOR.namespace]
    tei = next(p for p in platform.pods if p.namespace == OPEA_CHATQNA.namespace and "tei" in p.name)
    controller = next(p for p in platform.pods if p.namespace == ARGO_WORKFLOWS.namespace and "controller" in p.name)
    assert policies.verdict(tei, collector, OTLP_HTTP_PORT).allowed
    assert policies.verdict(tei, collector, OTLP_GRPC_PORT).allowed
    assert policies.verdict(controller, collector, OTLP_GRPC_PORT).allowed
    assert not policies.verdict(controller, collector, OTLP_HTTP_PORT).allowed
    assert not policies.verdict(tei, collector, 13133).allowed  # the collector's health port is not for callers


def test_without_chatqnas_flow_to_the_collector_the_render_is_refused(dev_render):
    objects = placed_components(dev_render.components, dev_render.charts)
    namespaces = {r.name: r.component.namespace for r in dev_render.charts.releases}
    opens = [p for p in objects if p.obj.kind == "NetworkPolicy" and p.obj.namespace == OPEA_CHATQNA.namespace
             and p.obj.name == f"allow-to-{OTEL_COLLECTOR.namespace}-{OTLP_HTTP_PORT}"]
    assert len(opens) == 1
    kept = [p for p in objects if p is not opens[0]]
    issues = reachability_issues(kept, namespaces, TEAMS, [c.name for c in dev_render.components], VPC)
    assert issues and all(f":{OTLP_HTTP_PORT}/TCP" in i.path and i.path.split()[1].startswith(OPEA_CHATQNA.namespace + "/")
                          for i in issues), [i.path for i in issues]


def test_without_the_collector_nothing_points_at_it():
    data = shipped_data("dev")
    data.setdefault("addons", {})[OTEL_COLLECTOR.addon.key] = {"enabled": False}
    off = Environment.model_validate(data)
    ctx = RenderContext.build(off, predict_outputs(off))
    chatqna = ChatQnA()
    assert chatqna.prerequisites(ctx) == []
    assert "extraEnvConfig" not in chatqna.values(ctx)["global"] and "podAnnotations" not in chatqna.values(ctx)
    assert not component_enabled(off, OTEL_OPERATOR)
    from eksml.k8s.model.components.argo_workflows import ArgoWorkflows

    values = ArgoWorkflows().values(ctx)
    assert values["controller"]["extraEnv"] == values["executor"]["env"] == values["mainContainer"]["env"] == []
