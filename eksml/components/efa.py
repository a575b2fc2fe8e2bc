"""The EFA device plugin: advertises `vpc.amazonaws.com/efa` on the nodes of EFA pools, so training
pods can ask for the interfaces. A DaemonSet with host paths: it lives in kube-system."""

from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, Gate
from eksml.contract.names import KUBE_SYSTEM_NAMESPACE

EFA_RESOURCE = "vpc.amazonaws.com/efa"

AWS_EFA_DEVICE_PLUGIN = ComponentSpec(
    name="aws-efa-k8s-device-plugin",
    namespace=KUBE_SYSTEM_NAMESPACE,
    chart=Chart("aws-efa-k8s-device-plugin", repo="https://aws.github.io/eks-charts"),
    addon=AddonSwitch("aws_efa_device_plugin", version="v0.5.30"),
    gates=(Gate("efa_pools"),),  # wherever a node pool sets efa: true
)
