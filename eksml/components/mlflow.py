"""MLflow tracking server: PostgreSQL on RDS, artifacts in S3 through its IRSA role."""

from eksml.components.external_secrets import EXTERNAL_SECRETS
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.spec import VPC, AddonSwitch, ArtifactPrefix, Chart, ComponentSpec, Egress, Identity, Network, Ui
from eksml.contract.names import DATABASE_PORT

# Of the artifacts bucket: MLflow's artifact root, and all its role may touch.
ARTIFACT_PREFIX = "mlflow"

MLFLOW = ComponentSpec(
    name="mlflow",
    namespace="mlflow",
    chart=Chart("mlflow", repo="https://community-charts.github.io/helm-charts"),
    addon=AddonSwitch("mlflow"),
    # The ExternalSecret needs its CRDs; the chart's ServiceMonitor needs Prometheus' CRDs.
    depends_on=(EXTERNAL_SECRETS, KUBE_PROMETHEUS_STACK),
    identity=Identity("mlflow", service_account="mlflow",
                      grants=(ArtifactPrefix("MlflowArtifacts", prefix=ARTIFACT_PREFIX, write=True),)),
    uis=(Ui("mlflow", service="mlflow", port=80, health_path="/health", local_port=5000, target_port="mlflow"),),
    network=Network(egress=(Egress(VPC, DATABASE_PORT, "the tracking store, PostgreSQL on RDS"),)),
)
