"""Linkerd, the service mesh (`mesh`): mTLS between the platform's pods, with the trust anchor and
the identity issuer from cert-manager and the CNI plugin instead of the privileged proxy-init.

Charts from Linkerd's edge channel (linkerd-crds, linkerd-control-plane, one version for both). The
CNI plugin's chart (linkerd2-cni) is not in the chart mirror, so eksml applies its DaemonSet itself
(eksml/k8s/model/components/mesh_cni.py).
"""

from typing import Any

from eksml.components.cert_manager import CERT_MANAGER
from eksml.components.external_secrets import EXTERNAL_SECRETS
from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, Egress, Gate, Network

LINKERD_NAMESPACE = "linkerd"
MESH_GATE = (Gate("mesh_on"),)
LINKERD_ADDON = AddonSwitch("linkerd", version="2026.8.3")  # edge-26.8.3, one pin for both charts

# The ports a meshed pod's proxy opens (inbound, from other proxies) and serves (admin: metrics, probes).
PROXY_INBOUND_PORT, PROXY_ADMIN_PORT = 4143, 4191
PROXY_UID = 2102  # the chart's proxy.uid, which the CNI plugin's iptables rules exempt
# The control plane ports every proxy calls: identity (certificates), destination, policy.
IDENTITY_PORT, DESTINATION_PORT, POLICY_PORT = 8080, 8086, 8090

# Namespace metadata the injector and the control plane read.
INJECT_ANNOTATION = "linkerd.io/inject"
WEBHOOKS_LABEL = "config.linkerd.io/admission-webhooks"  # "disabled": the injector and validators skip it
CONTROL_PLANE_LABELS = {"linkerd.io/is-control-plane": "true", WEBHOOKS_LABEL: "disabled",
                        "linkerd.io/control-plane-ns": LINKERD_NAMESPACE}


def _linkerd_chart(name: str, **described: Any) -> ComponentSpec:
    """A release of one of Linkerd's edge charts, into its namespace, with the mesh."""
    return ComponentSpec(name=name, namespace=LINKERD_NAMESPACE, chart=Chart(name, repo="https://helm.linkerd.io/edge"),
                         addon=LINKERD_ADDON, gates=MESH_GATE, **described)


LINKERD_CRDS = _linkerd_chart("linkerd-crds", provides_api_groups=("policy.linkerd.io", "linkerd.io", "workload.linkerd.io"))

LINKERD_CNI = ComponentSpec(
    name="linkerd-cni",
    namespace="linkerd-cni",
    gates=MESH_GATE,
    timeout="5m",
)

LINKERD_CONTROL_PLANE = _linkerd_chart(
    "linkerd-control-plane",
    depends_on=(LINKERD_CRDS, LINKERD_CNI, CERT_MANAGER, EXTERNAL_SECRETS),
    # The proxy injector, the ServiceProfile validator and the policy validator: admission webhooks.
    network=Network(api_server_ports=("proxy-injector", "sp-validator", "policy-https")),
)

# What every meshed pod's proxy calls on the control plane (beyond what its application calls).
MESH_EGRESS = (
    Egress(LINKERD_CONTROL_PLANE, IDENTITY_PORT, "the proxy gets its workload certificate from Linkerd's identity"),
    Egress(LINKERD_CONTROL_PLANE, DESTINATION_PORT, "the proxy discovers its peers' endpoints and identities"),
    Egress(LINKERD_CONTROL_PLANE, POLICY_PORT, "the proxy reads the authorization policies it enforces"),
)
