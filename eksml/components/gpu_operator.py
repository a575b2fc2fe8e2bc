"""The NVIDIA GPU operator: drivers, device plugin (time-slicing), mig-parted, DCGM exporter."""

from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.spec import INTERNET, AddonSwitch, Chart, ComponentSpec, Egress, Network

GPU_OPERATOR = ComponentSpec(
    name="gpu-operator",
    namespace="gpu-operator",
    chart=Chart("gpu-operator", repo="https://helm.ngc.nvidia.com/nvidia"),
    addon=AddonSwitch("gpu_operator"),
    depends_on=(KUBE_PROMETHEUS_STACK,),  # the DCGM exporter's ServiceMonitor
    provides_api_groups=("nvidia.com", "nfd.k8s-sigs.io"),
    network=Network(egress=(Egress(INTERNET, 443, "the driver container installs kernel headers when no precompiled driver fits"),)),
)
