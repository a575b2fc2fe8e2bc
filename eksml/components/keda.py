"""KEDA: event-driven autoscaling; scales served models on vLLM's metrics in Prometheus."""

from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, Egress, Network

KEDA = ComponentSpec(
    name="keda",
    namespace="keda",
    chart=Chart("keda", repo="https://kedacore.github.io/charts"),
    # Pinned here so that files written before day two stay valid.
    addon=AddonSwitch("keda", version="2.20.2"),
    provides_api_groups=("keda.sh", "eventing.keda.sh"),
    network=Network(
        egress=(Egress(KUBE_PROMETHEUS_STACK, 9090, "ScaledObjects query Prometheus for vLLM's metrics"),),
        api_server_ports=(9443, 6443),  # the admission webhook, the external metrics API
    ),
)
