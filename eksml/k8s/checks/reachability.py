"""Which pod can open which port on which other pod or address, computed from NetworkPolicies as
the Kubernetes documentation defines them (networking.k8s.io/v1):

- a pod is isolated for a direction when a policy of its namespace selects it with that policy
  type (policyTypes defaults to Ingress, plus Egress when the policy has egress rules); an isolated
  pod allows exactly the union of the rules of the policies selecting it;
- a connection needs the source's egress and the destination's ingress to allow it;
- a peer with only podSelector means pods of the policy's namespace; namespaceSelector alone, every
  pod of the matching namespaces; both, the matching pods of the matching namespaces; ipBlock,
  addresses in the CIDR but not in its excepts;
- a rule's ports match by number (and endPort ranges) or by the destination container's port name;
  no ports, every port; the protocol defaults to TCP;
- hostNetwork pods are not subject to NetworkPolicies.

Pods get their addresses from the VPC (the VPC CNI), so an ipBlock that overlaps the pod range may
admit any pod: for a check that looks for open doors, that counts as admitted.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence, Union

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True, eq=False)
class Pod:
    namespace: str
    name: str  # the workload, e.g. "Deployment mlflow/mlflow"
    labels: Mapping[str, str]
    ports: tuple[tuple[str, int, str], ...] = ()  # (name, number, protocol) of its containers
    host_network: bool = False

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pod) and (self.namespace, self.name) == (other.namespace, other.name)

    def __hash__(self) -> int:
        return hash((self.namespace, self.name))

    def port_number(self, port: Union[int, str]) -> Optional[int]:
        if isinstance(port, int):
            return port
        return next((number for name, number, _ in self.ports if name == port), None)


@dataclass(frozen=True)
class Address:
    ip: str
    what: str  # e.g. "the internet", "RDS in the VPC"

    def __str__(self) -> str:
        return f"{self.ip} ({self.what})"


Endpoint = Union[Pod, Address]


@dataclass(frozen=True)
class Side:
    allowed: bool
    because: str  # the policies that decide, in words


@dataclass(frozen=True)
class Verdict:
    egress: Side
    ingress: Side

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed


def selects(selector: Optional[Mapping[str, Any]], labels: Mapping[str, str]) -> bool:
    """A label selector: None selects nothing, {} everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _policy_types(spec: Mapping[str, Any]) -> list[str]:
    declared = spec.get("policyTypes")
    if declared:
        return list(declared)
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


@dataclass
class PolicySet:
    """Every NetworkPolicy of a platform, with the labels of its namespaces."""

    policies: Sequence[Mapping[str, Any]]
    namespace_labels: Mapping[str, Mapping[str, str]]
    pod_cidr: str  # where pods get their addresses (the VPC CIDR with the VPC CNI)
    _by_namespace: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for policy in self.policies:
            namespace = (policy.get("metadata") or {}).get("namespace", "")
            self._by_namespace.setdefault(namespace, []).append(policy)

    def labels_of(self, namespace: str) -> dict[str, str]:
        return {**(self.namespace_labels.get(namespace) or {}), NAME_LABEL: namespace}

    def verdict(self, source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP") -> Verdict:
        egress = (self._side(source, "Egress", target, port, protocol)
                  if isinstance(source, Pod) and not source.host_network
                  else Side(True, "the source is no pod NetworkPolicies govern"))
        ingress = (self._side(target, "Ingress", source, port, protocol)
                   if isinstance(target, Pod) and not target.host_network
                   else Side(True, "the target is no pod NetworkPolicies govern"))
        return Verdict(egress, ingress)

    def _side(self, pod: Pod, direction: str, peer: Endpoint, port: int, protocol: str) -> Side:
        selecting = [p for p in self._by_namespace.get(pod.namespace, [])
                     if direction in _policy_types(p.get("spec") or {})
                     and selects((p.get("spec") or {}).get("podSelector"), pod.labels)]
        word = "egress" if direction == "Egress" else "ingress"
        if not selecting:
            return Side(True, f"no {word} policy selects {pod}")
        destination = peer if direction == "Egress" else pod
        for policy in selecting:
            spec = policy.get("spec") or {}
            for rule in spec.get(word) or []:
                peers = rule.get("to" if direction == "Egress" else "from")
                if (not peers or any(self._peer_matches(p, peer, pod.namespace) for p in peers)) and \
                        _ports_match(rule.get("ports"), destination, port, protocol):
                    return Side(True, f"{_name(policy)} allows it")
        names = ", ".join(_name(p) for p in selecting)
        return Side(False, f"{pod} is isolated for {word} by {names}, and no rule of theirs allows it")

    def _peer_matches(self, peer: Mapping[str, Any], endpoint: Endpoint, policy_namespace: str) -> bool:
        if "ipBlock" in peer:
            return _in_block(peer["ipBlock"], endpoint, self.pod_cidr)
        if not isinstance(endpoint, Pod):
            return False
        namespaces = peer.get("namespaceSelector")
        if namespaces is None:
            in_namespace = endpoint.namespace == policy_namespace
        else:
            in_namespace = selects(namespaces, self.labels_of(endpoint.namespace))
        pods = peer.get("podSelector")
        return in_namespace and (pods is None or selects(pods, endpoint.labels))


def _name(policy: Mapping[str, Any]) -> str:
    meta = policy.get("metadata") or {}
    return f"NetworkPolicy {meta.get('namespace', '')}/{meta.get('name', '')}"


def _in_block(block: Mapping[str, Any], endpoint: Endpoint, pod_cidr: str) -> bool:
    try:
        cidr = ipaddress.ip_network(str(block.get("cidr")), strict=False)
        excepts = [ipaddress.ip_network(str(e), strict=False) for e in block.get("except") or []]
        if isinstance(endpoint, Address):
            ip = ipaddress.ip_address(endpoint.ip)
            return ip in cidr and not any(ip in e for e in excepts)
        pods = ipaddress.ip_network(pod_cidr, strict=False)
    except ValueError:
        return False
    if not cidr.overlaps(pods):
        return False
    return not any(pods.subnet_of(e) for e in excepts if e.version == pods.version)


def _ports_match(ports: Optional[Sequence[Mapping[str, Any]]], destination: Endpoint, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if str(entry.get("protocol", "TCP")) != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str) and not wanted.isdigit():
            number = destination.port_number(wanted) if isinstance(destination, Pod) else None
            if number == port:
                return True
            continue
        low, high = int(wanted), int(entry.get("endPort") or wanted)
        if low <= port <= high:
            return True
    return False
