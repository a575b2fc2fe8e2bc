"""KEDA: event-driven autoscaling; scales served models on vLLM's metrics in Prometheus."""

from eksml.components.spec import AddonSwitch, Chart, ComponentSpec

KEDA = ComponentSpec(
    name="keda",
    namespace="keda",
    chart=Chart("keda", repo="https://kedacore.github.io/charts"),
    # Pinned here so that files written before day two stay valid.
    addon=AddonSwitch("keda", version="2.20.2"),
    provides_api_groups=("keda.sh", "eventing.keda.sh"),
)
