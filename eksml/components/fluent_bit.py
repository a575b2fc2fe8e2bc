"""Fluent Bit (AWS for Fluent Bit): every container's log lines to the cluster's CloudWatch log group."""

from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, Identity, PodLogsWrite

AWS_FOR_FLUENT_BIT = ComponentSpec(
    name="aws-for-fluent-bit",
    namespace="logging",
    chart=Chart("aws-for-fluent-bit", repo="https://aws.github.io/eks-charts"),
    # Pinned here so that files written before logs were shipped stay valid.
    addon=AddonSwitch("fluent_bit", version="0.2.0"),
    depends_on=(KUBE_PROMETHEUS_STACK,),  # its ServiceMonitor
    identity=Identity("fluent-bit", service_account="aws-for-fluent-bit", grants=(PodLogsWrite(),)),
)
