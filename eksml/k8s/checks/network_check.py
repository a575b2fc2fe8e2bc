"""The reachability check: from the rendered NetworkPolicies (eksml's and any a chart renders), every
flow the platform needs must be open and every forbidden one closed, or the render stops (exit 2).

Needed, derived from the render and the component descriptions: DNS and the API server from every
pod; the API server to each admission webhook and aggregated API; the ALB to each UI behind an
Ingress; Prometheus to every namespace; each component's described egress (MLflow to RDS, Argo and
the teams to MLflow, ChatQnA to its chain and to the served models, IRSA identities to AWS APIs).
With the mesh, every meshed pod's proxy to Linkerd's control plane, and each needed flow between two
pods with proxies on the proxy's inbound port as well.
Forbidden: any pod to the instance metadata service; one team's workloads to another's; and a pod
of an unrelated namespace reaching any port beyond those the VPC must reach (UIs, webhooks).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from eksml.components import described
from eksml.components.mesh import MESH_EGRESS, PROXY_INBOUND_PORT
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.serving import MODEL_SERVER_PORT
from eksml.components.spec import INTERNET, VPC, ComponentSpec, Egress
from eksml.contract.names import DATABASE_PORT, KUBE_SYSTEM_NAMESPACE
from eksml.errors import Issue
from eksml.k8s.checks.mesh_injection import proxied_namespaces
from eksml.k8s.checks.object_checks import Placed
from eksml.k8s.checks.reachability import Address, Endpoint, Pod, PolicySet, selects
from eksml.k8s.checks.rendered_pods import POD_SPEC_PATHS, WORKFLOW_SPEC_PATHS, workflow_step_pods
from eksml.k8s.model.network_policies import DNS_LABELS, IMDS_CIDR, INFERENCE_POD_LABEL, TEAM_EGRESS

FILE = "NetworkPolicies"  # issues name the flow; the policies come from several files
UNDECLARED_PORT = 65000  # a port no container declares: open only when a rule opens every port
OUTSIDER = Pod("eksml-outsider", "a pod of a namespace the platform does not know", {"app": "outsider"})
_WEBHOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")


@dataclass(frozen=True)
class Flow:
    source: Endpoint
    target: Endpoint
    port: int
    protocol: str
    why: str
    needed: bool  # True: must be open; False: must be closed

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}:{self.port}/{self.protocol}"


@dataclass(frozen=True)
class Addresses:
    api_server: Address
    database: Address
    load_balancer: Address
    internet: Address
    metadata: Address

    @classmethod
    def of(cls, vpc_cidr: str) -> "Addresses":
        base = ipaddress.ip_network(vpc_cidr, strict=False).network_address
        return cls(Address(str(base + 10), "the EKS API server's ENI in the VPC"),
                   Address(str(base + 20), "RDS in the VPC"), Address(str(base + 30), "the ALB in the VPC"),
                   Address("52.94.0.10", "the internet (AWS public endpoints, model hubs)"),
                   Address(IMDS_CIDR.split("/")[0], "the instance metadata service"))


@dataclass(frozen=True)
class Platform:
    """What the check reads off a render."""

    pods: tuple[Pod, ...]
    # namespace, name, selector, ((port, port name, targetPort), ...)
    services: tuple[tuple[str, str, Mapping[str, Any], tuple[tuple[Any, Any, Any], ...]], ...]
    objects: tuple[Placed, ...]
    owned: frozenset[str]  # namespaces eksml creates (platform and teams)
    teams: tuple[str, ...]
    components: tuple[ComponentSpec, ...]


WORKFLOW_POD_LABEL = "workflows.argoproj.io/workflow"


def pods_of(objects: Sequence[Placed], release_namespaces: Mapping[str, str]) -> list[Pod]:
    pods = []
    for placed in objects:
        obj = placed.obj
        namespace = obj.namespace or release_namespaces.get(placed.release, "")
        path = POD_SPEC_PATHS.get(obj.kind)
        if path is not None:
            node: Any = obj.body
            for key in path[:-1]:
                node = node.get(key) if isinstance(node, dict) else {}
            template = node if isinstance(node, dict) else {}
            labels = ((template.get("metadata") or {}) if obj.kind != "Pod" else obj.body.get("metadata") or {})
            spec = template.get("spec") if obj.kind != "Pod" else obj.body.get("spec")
            if isinstance(spec, dict):
                pods.append(Pod(namespace, f"{obj.kind} {namespace}/{obj.name}",
                                {str(k): str(v) for k, v in (labels.get("labels") or {}).items()},
                                _ports(spec), bool(spec.get("hostNetwork"))))
        elif obj.kind == "InferenceService":
            pods.append(Pod(namespace, f"InferenceService {namespace}/{obj.name} predictor",
                            {INFERENCE_POD_LABEL: obj.name, "component": "predictor"},
                            (("http", MODEL_SERVER_PORT, "TCP"),)))
        elif obj.kind in WORKFLOW_SPEC_PATHS:  # Argo labels each step's pod with the workflow's name
            pods += [Pod(namespace, f"{obj.kind} {namespace}/{obj.name} step {step}",
                         {WORKFLOW_POD_LABEL: obj.name}, ()) for step, _, _ in workflow_step_pods(obj.body, obj.kind)]
        elif obj.kind in ("Prometheus", "Alertmanager") and obj.body.get("apiVersion", "").startswith("monitoring."):
            port = 9090 if obj.kind == "Prometheus" else 9093
            pods.append(Pod(namespace, f"{obj.kind} {namespace}/{obj.name}",
                            {"app.kubernetes.io/name": obj.kind.lower(), obj.kind.lower(): obj.name},
                            (("web", port, "TCP"),)))
    return pods


def _ports(spec: Mapping[str, Any]) -> tuple[tuple[str, int, str], ...]:
    found = []
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for port in (container.get("ports") or []) if isinstance(container, dict) else []:
            if isinstance(port, dict) and isinstance(port.get("containerPort"), int):
                found.append((str(port.get("name", "")), port["containerPort"], str(port.get("protocol", "TCP"))))
    return tuple(found)


def services_of(objects: Sequence[Placed], release_namespaces: Mapping[str, str]):
    for placed in objects:
        if placed.obj.kind == "Service":
            spec = placed.obj.body.get("spec") or {}
            namespace = placed.obj.namespace or release_namespaces.get(placed.release, "")
            yield (namespace, placed.obj.name, spec.get("selector") or {},
                   tuple((p.get("port"), p.get("name"), p.get("targetPort", p.get("port")))
                         for p in spec.get("ports") or [] if isinstance(p, dict)))


def service_targets(platform: Platform, namespace: str, name: str, port: Any = None) -> Iterator[tuple[Pod, int]]:
    """(pod, port) behind a Service: the pods its selector picks, on the targetPort of `port` (a
    Service port number or name; None: every port)."""
    for ns, service, selector, ports in platform.services:
        if ns != namespace or service != name or not selector:
            continue
        targets = [target for number, port_name, target in ports if port is None or port in (number, port_name)]
        for pod in platform.pods:
            if pod.namespace == ns and selects({"matchLabels": selector}, pod.labels):
                for target in targets:
                    number = pod.port_number(target if isinstance(target, str) and not target.isdigit() else int(target))
                    if number is not None:
                        yield pod, number


def _governed(platform: Platform) -> list[Pod]:
    return [p for p in platform.pods if p.namespace in platform.owned and not p.host_network]


def needed_flows(platform: Platform, at: Addresses) -> Iterator[Flow]:
    proxied = proxied_namespaces(platform.objects)
    for flow in _application_flows(platform, at):
        yield flow
        source, target = flow.source, flow.target
        if isinstance(source, Pod) and isinstance(target, Pod) and {source.namespace, target.namespace} <= proxied:
            yield Flow(source, target, PROXY_INBOUND_PORT, "TCP", f"{flow.why}, proxy to proxy", True)
    for pod in _governed(platform):
        if pod.namespace in proxied:
            for egress in MESH_EGRESS:
                yield from _to_component(platform, pod, egress)


def _application_flows(platform: Platform, at: Addresses) -> Iterator[Flow]:
    dns = Pod(KUBE_SYSTEM_NAMESPACE, "CoreDNS", DNS_LABELS, (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")))
    for pod in _governed(platform):
        yield Flow(pod, dns, 53, "UDP", "name resolution", True)
        yield Flow(pod, at.api_server, 443, "TCP", "the Kubernetes API", True)
    for placed in platform.objects:
        yield from _api_server_calls(platform, placed, at)
    for spec in platform.components:
        yield from _described_egress(platform, spec, at)
    prometheus = [p for p in platform.pods if p.namespace == KUBE_PROMETHEUS_STACK.namespace and
                  p.labels.get("app.kubernetes.io/name") == "prometheus"]
    for scraper in prometheus:
        for pod in _governed(platform):
            if pod.ports:
                yield Flow(scraper, pod, pod.ports[0][1], pod.ports[0][2], "Prometheus scrapes it", True)
    for team in platform.teams:
        workload = team_pod(team)
        yield Flow(workload, at.internet, 443, "TCP", "team workloads read S3 and model hubs", True)
        for egress in TEAM_EGRESS:
            yield from _to_component(platform, workload, egress)


def _api_server_calls(platform: Platform, placed: Placed, at: Addresses) -> Iterator[Flow]:
    body, kind = placed.obj.body, placed.obj.kind
    refs = []
    if kind in _WEBHOOK_KINDS:
        refs = [(w.get("clientConfig") or {}).get("service") for w in body.get("webhooks") or [] if isinstance(w, dict)]
    elif kind == "APIService":
        refs = [(body.get("spec") or {}).get("service")]
    for ref in refs:
        if isinstance(ref, dict) and ref.get("namespace") in platform.owned:
            for pod, port in service_targets(platform, ref["namespace"], str(ref.get("name")), ref.get("port", 443)):
                yield Flow(at.api_server, pod, port, "TCP", f"the API server calls {kind} {placed.obj.name}", True)
    if kind == "Ingress" and placed.obj.namespace in platform.owned:
        for rule in (body.get("spec") or {}).get("rules") or []:
            for path in ((rule.get("http") or {}).get("paths") or []):
                service = (path.get("backend") or {}).get("service") or {}
                wanted = (service.get("port") or {}).get("number") or (service.get("port") or {}).get("name")
                for pod, port in service_targets(platform, placed.obj.namespace, str(service.get("name")), wanted):
                    yield Flow(at.load_balancer, pod, port, "TCP", f"the ALB sends Ingress {placed.obj.name}'s traffic", True)


def _described_egress(platform: Platform, spec: ComponentSpec, at: Addresses) -> Iterator[Flow]:
    sources = [p for p in _governed(platform) if p.namespace == spec.namespace]
    wanted = list(spec.network.egress)
    for source in sources:
        if spec.identity is not None:
            yield Flow(source, at.internet, 443, "TCP", f"{spec.name}'s AWS identity calls AWS APIs", True)
        for egress in wanted:
            if egress.to == INTERNET:
                yield Flow(source, at.internet, egress.port or 443, "TCP", egress.why, True)
            elif egress.to == VPC and egress.port:
                target = at.database if egress.port == DATABASE_PORT else at.api_server
                yield Flow(source, target, egress.port, "TCP", egress.why, True)
            else:  # another component (EVERY_POD: the scrape flows above)
                yield from _to_component(platform, source, egress)


def _to_component(platform: Platform, source: Endpoint, egress: Egress) -> Iterator[Flow]:
    """An Egress to another installed component: its pods on the described port, else on their first."""
    if not isinstance(egress.to, ComponentSpec) or egress.to.namespace not in platform.owned:
        return
    for pod in platform.pods:
        ports = [(n, proto) for _, n, proto in pod.ports if egress.port is None or n == egress.port]
        if pod.namespace == egress.to.namespace and ports:
            yield Flow(source, pod, ports[0][0], ports[0][1], egress.why, True)


def team_pod(team: str) -> Pod:
    return Pod(team, f"a workload of team {team}", {"app": "workload"}, (("http", 8888, "TCP"),))


def forbidden_flows(platform: Platform, at: Addresses) -> Iterator[Flow]:
    for pod in _governed(platform):
        yield Flow(pod, at.metadata, 80, "TCP", "the node's credentials are one request away", False)
    for team in platform.teams:
        for other in platform.teams:
            if other != team:
                yield Flow(team_pod(team), team_pod(other), 8888, "TCP", "teams are isolated from each other", False)
    vpc_facing = {(f.target, f.port) for f in needed_flows(platform, at)
                  if f.source in (at.api_server, at.load_balancer)}
    for spec in platform.components:  # described webhook ports are meant to face the VPC, even unused
        for pod in platform.pods:
            if pod.namespace == spec.namespace:
                vpc_facing |= {(pod, pod.port_number(p)) for p in spec.network.api_server_ports}
    for pod in _governed(platform):
        for port in {n for _, n, _ in pod.ports} | {UNDECLARED_PORT}:
            if (pod, port) not in vpc_facing:
                yield Flow(OUTSIDER, pod, port, "TCP", "no platform flow needs it: the namespace would be open to "
                                                       "every pod", False)


def platform_of(objects: Sequence[Placed], release_namespaces: Mapping[str, str], teams: Sequence[str],
                component_names: Sequence[str]) -> Platform:
    owned = {o.obj.name for o in objects if o.obj.kind == "Namespace"}
    specs = described(component_names)
    return Platform(tuple(pods_of(objects, release_namespaces)), tuple(services_of(objects, release_namespaces)),
                    tuple(objects), frozenset(owned), tuple(teams), tuple(specs))


def policy_set(objects: Sequence[Placed], release_namespaces: Mapping[str, str], vpc_cidr: str) -> PolicySet:
    policies = []
    for placed in objects:
        if placed.obj.kind == "NetworkPolicy":
            body = dict(placed.obj.body)
            meta = dict(body.get("metadata") or {})
            meta.setdefault("namespace", release_namespaces.get(placed.release, ""))
            policies.append({**body, "metadata": meta})
    labels = {o.obj.name: (o.obj.body.get("metadata") or {}).get("labels") or {}
              for o in objects if o.obj.kind == "Namespace"}
    return PolicySet(policies, labels, vpc_cidr)


def reachability_issues(objects: Sequence[Placed], release_namespaces: Mapping[str, str], teams: Sequence[str],
                        component_names: Sequence[str], vpc_cidr: str) -> list[Issue]:
    platform = platform_of(objects, release_namespaces, teams, component_names)
    if not platform.owned:
        return []
    policies, at = policy_set(objects, release_namespaces, vpc_cidr), Addresses.of(vpc_cidr)
    issues = []
    for flow in [*needed_flows(platform, at), *forbidden_flows(platform, at)]:
        verdict = policies.verdict(flow.source, flow.target, flow.port, flow.protocol)
        if verdict.allowed != flow.needed:
            if flow.needed:
                blocked = verdict.egress if not verdict.egress.allowed else verdict.ingress
                message = f"needed ({flow.why}) but blocked: {blocked.because}"
            else:
                message = f"must be closed ({flow.why}) but open: {verdict.egress.because}; {verdict.ingress.because}"
            issues.append(Issue(FILE, str(flow), message))
    return list(dict.fromkeys(issues))
