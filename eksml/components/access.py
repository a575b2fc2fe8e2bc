"""The shared ALB of `access`: one Ingress per exposed UI and model, after every release it fronts."""

from eksml.components.argo_workflows import ARGO_WORKFLOWS
from eksml.components.argocd import ARGOCD
from eksml.components.chatqna import OPEA_CHATQNA
from eksml.components.load_balancer_controller import AWS_LOAD_BALANCER_CONTROLLER
from eksml.components.mlflow import MLFLOW
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.serving import MODEL_SERVING
from eksml.components.spec import ComponentSpec

SHARED_ALB_ACCESS = ComponentSpec(
    name="access",
    # The controller that turns Ingresses into the ALB, and the releases whose Services are targets.
    depends_on=(AWS_LOAD_BALANCER_CONTROLLER, MLFLOW, KUBE_PROMETHEUS_STACK, ARGO_WORKFLOWS, OPEA_CHATQNA,
                MODEL_SERVING, ARGOCD),
)
