"""The EFS CSI driver as a chart (its pods go through the render's checks), on the data stack's
file system. Its IRSA role is an add-on identity of the cluster stack (contract/names.py
ADDON_SERVICE_ACCOUNTS), so the description names none."""

from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, Gate
from eksml.contract.names import KUBE_SYSTEM_NAMESPACE

AWS_EFS_CSI_DRIVER = ComponentSpec(
    name="aws-efs-csi-driver",
    namespace=KUBE_SYSTEM_NAMESPACE,
    chart=Chart("aws-efs-csi-driver", repo="https://kubernetes-sigs.github.io/aws-efs-csi-driver"),
    addon=AddonSwitch("aws_efs_csi_driver", version="4.4.1"),
    gates=(Gate("storage.efs"),),
)
