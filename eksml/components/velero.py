"""Velero: the cluster's objects and EBS volume snapshots to the backup bucket, on the environment's schedule."""

from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.spec import AddonSwitch, BackupStore, Chart, ComponentSpec, Gate, Identity

VELERO = ComponentSpec(
    name="velero",
    namespace="velero",
    chart=Chart("velero", repo="https://vmware-tanzu.github.io/helm-charts"),
    # Pinned here so that files written before backups existed stay valid.
    addon=AddonSwitch("velero", version="12.1.0"),
    gates=(Gate("backups"),),  # installed where the environment file sets backups
    depends_on=(KUBE_PROMETHEUS_STACK,),  # its ServiceMonitor
    provides_api_groups=("velero.io",),
    identity=Identity("velero", service_account="velero-server", grants=(BackupStore(),)),
)
