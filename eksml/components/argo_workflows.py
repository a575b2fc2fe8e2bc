"""Argo Workflows: pipelines, artifacts in S3 through its IRSA role."""

from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.mlflow import MLFLOW
from eksml.components.spec import AddonSwitch, ArtifactPrefix, Chart, ComponentSpec, Egress, Identity, Network, Ui
from eksml.components.tracing import OTEL_COLLECTOR, OTLP_GRPC_PORT

# Of the artifacts bucket: where workflow artifacts go, and all its role may touch.
ARTIFACT_PREFIX = "argo"

ARGO_WORKFLOWS = ComponentSpec(
    name="argo-workflows",
    namespace="argo",
    chart=Chart("argo-workflows", repo="https://argoproj.github.io/argo-helm"),
    addon=AddonSwitch("argo_workflows"),
    depends_on=(KUBE_PROMETHEUS_STACK,),  # controller ServiceMonitor
    provides_api_groups=("argoproj.io",),
    identity=Identity("argo-workflows", service_account="argo-workflow",
                      grants=(ArtifactPrefix("ArgoArtifacts", prefix=ARTIFACT_PREFIX, write=True),)),
    uis=(Ui("argo-workflows", service="argo-workflows-server", port=2746, health_path="/", local_port=2746, target_port=2746),),
    network=Network(egress=(
        Egress(MLFLOW, None, "pipeline steps log runs and register models"),
        Egress(OTEL_COLLECTOR, OTLP_GRPC_PORT, "the controller and argoexec send workflow spans (OTLP/gRPC)"),
    )),
)
