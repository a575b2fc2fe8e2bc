"""The platform's NetworkPolicies, derived from what its components say they do (each description's
`network` and `identity` in eksml/components), enforced by the VPC CNI's network policy agent.

Every namespace eksml creates denies ingress and egress by default. Then, in each:
- egress to DNS (CoreDNS in kube-system), to its own namespace, and to the Kubernetes API (the EKS
  control plane's ENIs are VPC addresses, on 443);
- ingress from its own namespace and from Prometheus in `monitoring`;
- ingress from the VPC on the ports the API server calls (admission webhooks, aggregated APIs);
- each component's `Egress`, and, where the target is another component, the matching ingress there;
- a component with an AWS identity (IRSA) reaches public addresses on 443: STS and its grants' APIs.
With `mesh` on, meshed namespaces also reach Linkerd's control plane (identity, destination, policy),
and every rule that opens given ports between pods opens the proxy's inbound port (4143) too: proxies
send mTLS traffic for opaque ports there. Team namespaces call MLflow, served models and the public internet on 443 (S3, model hubs); their
InferenceServices admit other teams and ChatQnA. No rule admits the instance metadata service
(169.254.169.254): IRSA makes it unnecessary, and an open IMDS hands out the node's credentials.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Optional, Union

from eksml.components import described
from eksml.components.chatqna import OPEA_CHATQNA
from eksml.components.mesh import MESH_EGRESS, PROXY_INBOUND_PORT
from eksml.components.mlflow import MLFLOW
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.serving import MODEL_SERVING
from eksml.components.spec import EVERY_POD, INTERNET, VPC, ComponentSpec, Egress
from eksml.components.tracing import OTEL_COLLECTOR
from eksml.contract.names import KUBE_SYSTEM_NAMESPACE
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.mesh_membership import meshed, proxied
from eksml.k8s.model.records import Manifest

TEAM_LABEL = "eksml.io/team"
NAME_LABEL = "kubernetes.io/metadata.name"
INFERENCE_POD_LABEL = "serving.kserve.io/inferenceservice"
DNS_LABELS = {"k8s-app": "kube-dns"}
IMDS_CIDR = "169.254.169.254/32"
INTERNET_CIDR = "0.0.0.0/0"
API_SERVER_PORT = 443
PortSpec = Union[int, str, None]

FROM_TEAMS: dict[str, Any] = {"namespaceSelector": {"matchExpressions": [{"key": TEAM_LABEL, "operator": "Exists"}]}}
INFERENCE_PODS: dict[str, Any] = {"matchExpressions": [{"key": INFERENCE_POD_LABEL, "operator": "Exists"}]}
TEAM_EGRESS = (
    Egress(MLFLOW, None, "notebooks and training jobs track runs in MLflow"),
    Egress(MODEL_SERVING, None, "applications call the platform's served models"),
    Egress(INTERNET, 443, "S3, the artifacts bucket, and the model hubs"),
    Egress(OTEL_COLLECTOR, None, "agents and pipelines send OTLP traces to the collector"),
)


def namespace_peer(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAME_LABEL: name}}}


def dns_peer() -> dict[str, Any]:
    return {**namespace_peer(KUBE_SYSTEM_NAMESPACE), "podSelector": {"matchLabels": DNS_LABELS}}


def internet_peer() -> dict[str, Any]:
    return {"ipBlock": {"cidr": INTERNET_CIDR, "except": [IMDS_CIDR]}}


def vpc_peer(ctx: RenderContext) -> dict[str, Any]:
    return {"ipBlock": {"cidr": ctx.env.network.vpc_cidr}}


def policy(name: str, ns: str, direction: str, rules: list[dict[str, Any]],
           pod_selector: Optional[dict[str, Any]] = None) -> Manifest:
    spec: dict[str, Any] = {"podSelector": pod_selector or {}, "policyTypes": [direction]}
    if rules:
        spec["ingress" if direction == "Ingress" else "egress"] = rules
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata(name, ns), "spec": spec}


def rule(direction: str, peers: list[dict[str, Any]], ports: Iterable[PortSpec] = (), protocols=("TCP",)) -> dict:
    found: dict[str, Any] = {"from" if direction == "Ingress" else "to": peers}
    listed = [{"protocol": protocol, "port": port} for port in ports if port is not None for protocol in protocols]
    if listed:
        found["ports"] = listed
    return found


def _caller_rules(entries: list[tuple[dict[str, Any], Optional[PortSpec]]]) -> list[dict[str, Any]]:
    """One ingress rule per port the callers use (a caller of a described port gets that port only)."""
    by_port: dict[Optional[PortSpec], list[dict[str, Any]]] = {}
    for peer, port in entries:
        peers = by_port.setdefault(port, [])
        if peer not in peers:
            peers.append(peer)
    return [rule("Ingress", peers, [port]) for port, peers in by_port.items()]


def baseline_policies(ctx: RenderContext, ns: str) -> list[Manifest]:
    """Deny both ways, then DNS, the API server, the own namespace and Prometheus' scrapes."""
    return [
        {**policy("default-deny", ns, "Ingress", []), "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
        policy("allow-dns", ns, "Egress", [rule("Egress", [dns_peer()], [53], ("UDP", "TCP"))]),
        policy("allow-kubernetes-api", ns, "Egress", [rule("Egress", [vpc_peer(ctx)], [API_SERVER_PORT])]),
        policy("allow-same-namespace", ns, "Ingress", [rule("Ingress", [{"podSelector": {}}])]),
        policy("allow-same-namespace-egress", ns, "Egress", [rule("Egress", [{"podSelector": {}}])]),
        policy("allow-monitoring-scrape", ns, "Ingress", [rule("Ingress", [namespace_peer(KUBE_PROMETHEUS_STACK.namespace)])]),
    ]


def _egress_peer(ctx: RenderContext, egress: Egress) -> dict[str, Any]:
    if egress.to == INTERNET:
        return internet_peer()
    if egress.to == VPC:
        return vpc_peer(ctx)
    if egress.to == EVERY_POD:
        return {"namespaceSelector": {}}
    assert isinstance(egress.to, ComponentSpec)
    return namespace_peer(egress.to.namespace)


def _needs(ctx: RenderContext) -> dict[str, list[Egress]]:
    """namespace -> the egress its enabled components need (an AWS identity implies INTERNET on 443)."""
    needs: dict[str, list[Egress]] = defaultdict(list)
    for spec in _enabled_specs(ctx):
        needs[spec.namespace] += spec.network.egress
        if spec.identity is not None:
            needs[spec.namespace].append(Egress(INTERNET, 443, f"IRSA: STS and the AWS APIs {spec.name} is granted"))
    return needs


def _enabled_specs(ctx: RenderContext) -> tuple[ComponentSpec, ...]:
    return described(ctx.platform_components)


def platform_policies(ctx: RenderContext, platform: list[str]) -> list[Manifest]:
    """Every NetworkPolicy of the platform and team namespaces, in a stable order."""
    owned = set(platform) | set(ctx.env.teams)
    needs = _needs(ctx)
    for team in ctx.env.teams:
        needs[team] += TEAM_EGRESS
    for ns in [*platform, *ctx.env.teams]:
        if meshed(ctx, ns):
            needs[ns] += MESH_EGRESS
    policies: list[Manifest] = []
    # namespace -> (who calls it, on which pod port; None: any)
    callers: dict[str, list[tuple[dict[str, Any], Optional[PortSpec]]]] = defaultdict(list)
    for ns in [*platform, *ctx.env.teams]:
        policies += baseline_policies(ctx, ns)
        named: set[str] = set()
        for egress in needs[ns]:
            target = egress.to.namespace if isinstance(egress.to, ComponentSpec) else None
            if target is not None and target not in owned:
                continue  # the target is not installed here
            name = f"allow-to-{target or egress.to}" + (f"-{egress.port}" if egress.port else "")
            if name not in named:  # two reasons for one flow: one policy
                named.add(name)
                policies.append(policy(name, ns, "Egress", [rule("Egress", [_egress_peer(ctx, egress)], [egress.port])]))
            if target is not None and target != ns:
                callers[target].append((namespace_peer(ns), egress.port))
    for spec in _enabled_specs(ctx):
        if spec.network.api_server_ports and spec.namespace in owned:
            policies.append(policy(f"allow-api-server-{spec.name}", spec.namespace, "Ingress",
                                   [rule("Ingress", [vpc_peer(ctx)], spec.network.api_server_ports)]))
    for team in ctx.env.teams:
        sources = [FROM_TEAMS] + ([namespace_peer(OPEA_CHATQNA.namespace)] if OPEA_CHATQNA.namespace in owned else [])
        policies.append(policy("allow-inference-clients", team, "Ingress", [rule("Ingress", sources)], INFERENCE_PODS))
        callers[MLFLOW.namespace].append((FROM_TEAMS, None))
        callers[MODEL_SERVING.namespace].append((FROM_TEAMS, None))
    for ns, entries in callers.items():
        if ns in owned:
            policies.append(policy("allow-platform-callers", ns, "Ingress", _caller_rules(entries)))
    return [with_proxy_port(p) if proxied(ctx, p["metadata"]["namespace"]) else p for p in policies]


def with_proxy_port(found: Manifest) -> Manifest:
    """Every rule that opens given ports to or from pods opens the proxy's inbound port as well."""
    spec = found["spec"]
    key = "ingress" if "ingress" in spec else "egress" if "egress" in spec else None
    if key is None:
        return found
    rules = []
    for rule_ in spec[key]:
        peers = rule_.get("from", rule_.get("to", []))
        to_pods = all("ipBlock" not in peer for peer in peers)
        if rule_.get("ports") and to_pods and not any(p["port"] == PROXY_INBOUND_PORT for p in rule_["ports"]):
            rule_ = {**rule_, "ports": [*rule_["ports"], {"protocol": "TCP", "port": PROXY_INBOUND_PORT}]}
        rules.append(rule_)
    return {**found, "spec": {**spec, key: rules}}
