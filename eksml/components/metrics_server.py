"""metrics-server: the resource metrics API (`kubectl top`, HorizontalPodAutoscalers on CPU and memory)."""

from eksml.components.spec import AddonSwitch, Chart, ComponentSpec
from eksml.contract.names import KUBE_SYSTEM_NAMESPACE

METRICS_SERVER = ComponentSpec(
    name="metrics-server",
    namespace=KUBE_SYSTEM_NAMESPACE,  # where the aggregated metrics API conventionally lives
    chart=Chart("metrics-server", repo="https://kubernetes-sigs.github.io/metrics-server/"),
    addon=AddonSwitch("metrics_server", version="3.13.1"),
)
