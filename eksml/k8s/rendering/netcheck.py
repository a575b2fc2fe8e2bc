"""`eksml netcheck`: one reachability question answered on the rendered platform, with the
NetworkPolicy that decides each side. The same evaluation the render's reachability check runs.

--from is NS/NAME: a workload of the render (Deployment, StatefulSet, DaemonSet, Job, a Prometheus,
an InferenceService) or, in a team namespace, any name (a team workload). --to is NS/SERVICE:PORT
(the Service's port, by number or name; every pod behind it is answered) or ADDRESS:PORT.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from eksml.config.models import Environment
from eksml.contract.outputs import AwsOutputs
from eksml.errors import ConfigError, Issue
from eksml.k8s.checks.checked_platform import checked_platform
from eksml.k8s.checks.network_check import platform_of, policy_set, service_targets, team_pod
from eksml.k8s.checks.platform_checks import placed_objects
from eksml.k8s.checks.reachability import Address, Endpoint, Pod, Verdict


@dataclass(frozen=True)
class Answer:
    source: Endpoint
    target: Endpoint
    port: int
    verdict: Verdict

    def as_dict(self) -> dict:
        return {"from": str(self.source), "to": str(self.target), "port": self.port,
                "allowed": self.verdict.allowed,
                "egress": {"allowed": self.verdict.egress.allowed, "because": self.verdict.egress.because},
                "ingress": {"allowed": self.verdict.ingress.allowed, "because": self.verdict.ingress.because}}


def _bad(option: str, message: str) -> ConfigError:
    return ConfigError([Issue("command line", option, message)])


def _split(text: str, option: str, shape: str) -> tuple[str, str]:
    head, sep, tail = text.rpartition(":") if option == "--to" else text.partition("/")
    if not sep or not head or not tail:
        raise _bad(option, f"'{text}' is not {shape}")
    return head, tail


def network_answers(env: Environment, outputs: AwsOutputs, source: str, target: str) -> list[Answer]:
    """Can `source` open `target`? One answer per pod behind the target."""
    checked = checked_platform(env, outputs, with_charts=True)
    assert checked.charts is not None
    objects = placed_objects(checked.platform, checked.charts)
    namespaces = {r.name: r.component.namespace for r in checked.charts.releases}
    platform = platform_of(objects, namespaces, list(env.teams), [c.name for c in checked.platform.components])
    policies = policy_set(objects, namespaces, env.network.vpc_cidr)
    origin = _source(platform, env, source)
    where, port_text = _split(target, "--to", "NS/SERVICE:PORT or ADDRESS:PORT")
    if "/" not in where:
        try:
            ipaddress.ip_address(where)
            number = int(port_text)
        except ValueError:
            raise _bad("--to", f"'{target}' is not NS/SERVICE:PORT or ADDRESS:PORT (an IP address and a port number)") from None
        address = Address(where, "the address asked for")
        return [Answer(origin, address, number, policies.verdict(origin, address, number))]
    namespace, service = where.split("/", 1)
    port = int(port_text) if port_text.isdigit() else port_text
    found = list(service_targets(platform, namespace, service, port))
    if not found:
        known = sorted(f"{ns}/{name}:{p[0]}" for ns, name, _, ports in platform.services if ns == namespace for p in ports)
        raise _bad("--to", f"no pod serves {target}; Services of {namespace}: {', '.join(known) or 'none'}")
    return [Answer(origin, pod, number, policies.verdict(origin, pod, number)) for pod, number in found]


def _source(platform, env: Environment, text: str) -> Pod:
    namespace, name = _split(text, "--from", "NS/NAME")
    for pod in platform.pods:
        if pod.namespace == namespace and (pod.name.endswith(f" {namespace}/{name}") or
                                           pod.name.endswith(f" {namespace}/{name} predictor")):
            return pod
    if namespace in env.teams:
        return team_pod(namespace)
    known = sorted(p.name.split(" ", 1)[1] for p in platform.pods if p.namespace == namespace)
    raise _bad("--from", f"no workload {text} in the render; in {namespace}: {', '.join(known) or 'none'}")
