"""The AWS Load Balancer Controller: the shared ALB of `access`."""

from eksml.components.cert_manager import CERT_MANAGER
from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, ControllerPolicy, Identity
from eksml.contract.names import KUBE_SYSTEM_NAMESPACE

AWS_LOAD_BALANCER_CONTROLLER = ComponentSpec(
    name="aws-load-balancer-controller",
    namespace=KUBE_SYSTEM_NAMESPACE,
    chart=Chart("aws-load-balancer-controller", repo="https://aws.github.io/eks-charts"),
    addon=AddonSwitch("aws_load_balancer_controller"),
    provides_api_groups=("elbv2.k8s.aws",),
    # Its webhook certificate comes from cert-manager: the chart would otherwise generate a CA and a
    # private key into the rendered manifest (and so into git in gitops mode).
    depends_on=(CERT_MANAGER,),
    identity=Identity("aws-load-balancer-controller", service_account="aws-load-balancer-controller",
                      grants=(ControllerPolicy(),)),
)
