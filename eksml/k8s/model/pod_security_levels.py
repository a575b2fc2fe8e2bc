"""The one place that says which Pod Security level each namespace eksml creates enforces:
`restricted`, except the namespaces below, each with the level it needs and why in one line.
`eksml render` prints this list; the namespace labels and the render's own PSS check both read it.

To add an exception, add a line here; nothing else needs to change.
"""

from __future__ import annotations

from dataclasses import dataclass

from eksml.components.fluent_bit import AWS_FOR_FLUENT_BIT
from eksml.components.gmc import CHATQNA_GMC
from eksml.components.gpu_operator import GPU_OPERATOR
from eksml.components.mesh import LINKERD_CNI
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.contract.names import KUBE_SYSTEM_NAMESPACE

PRIVILEGED, BASELINE, RESTRICTED = "privileged", "baseline", "restricted"


@dataclass(frozen=True)
class PssException:
    namespace: str
    level: str
    reason: str


EXCEPTIONS: tuple[PssException, ...] = (
    PssException(GPU_OPERATOR.namespace, PRIVILEGED,
                 "the driver, container toolkit and device plugin load kernel modules and mount host paths"),
    PssException(KUBE_PROMETHEUS_STACK.namespace, PRIVILEGED,
                 "node-exporter reads the host's /proc and /sys on the host network and PID namespaces"),
    PssException(AWS_FOR_FLUENT_BIT.namespace, PRIVILEGED,
                 "Fluent Bit reads every container's log files from the node through hostPath /var/log"),
    PssException(CHATQNA_GMC.namespace, PRIVILEGED,
                 "GMC creates TEI and the LLM servers from its chart's manifests, which mount the host path "
                 "/mnt/opea-models for model files; only with genai.chatqna.deploy: gmc, refused at staging and prod"),
    PssException(LINKERD_CNI.namespace, PRIVILEGED,
                 "the Linkerd CNI installer writes the plugin into the node's /opt/cni/bin and /etc/cni/net.d on "
                 "the host network, so that meshed pods need no NET_ADMIN; only with mesh on"),
    PssException(KUBE_SYSTEM_NAMESPACE, PRIVILEGED,
                 "EKS's own add-ons (VPC CNI, kube-proxy, CSI node drivers) run privileged; eksml does not own it"),
)
EXCEPTION_BY_NAMESPACE = {e.namespace: e for e in EXCEPTIONS}


def enforced_level(namespace: str) -> str:
    """The level eksml labels `namespace` with: restricted unless it is an exception."""
    exception = EXCEPTION_BY_NAMESPACE.get(namespace)
    return exception.level if exception else RESTRICTED


def exception_lines() -> list[str]:
    return [f"{e.namespace}: {e.level} - {e.reason}" for e in EXCEPTIONS]
