"""Karpenter: the controller and eksml's NodePools and EC2NodeClasses."""

from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, ControllerPolicy, Identity, VolumeKeyUse

KARPENTER = ComponentSpec(
    name="karpenter",
    namespace="karpenter",
    chart=Chart("oci://public.ecr.aws/karpenter/karpenter"),
    addon=AddonSwitch("karpenter"),
    depends_on=(KUBE_PROMETHEUS_STACK,),  # its ServiceMonitor needs the monitoring CRDs
    provides_api_groups=("karpenter.sh", "karpenter.k8s.aws"),
    identity=Identity("karpenter", service_account="karpenter", grants=(ControllerPolicy(), VolumeKeyUse("NodeVolumeKey"))),
)
