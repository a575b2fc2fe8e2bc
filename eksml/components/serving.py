"""eksml's served models as KServe InferenceServices, with the IRSA role that reads their weights."""

from eksml.components.keda import KEDA
from eksml.components.kserve import KSERVE_ADDON, KSERVE_NAMESPACE, KSERVE_RUNTIMES
from eksml.components.monitoring import KUBE_PROMETHEUS_STACK
from eksml.components.mlflow import MLFLOW
from eksml.components.spec import ArtifactPrefix, ComponentSpec, Egress, Gate, Identity, Network

# Of the artifacts bucket: the only prefix model weights may be read from.
MODELS_PREFIX = "models"
# Under it, each registered MLflow model version the pipeline's register step exports
# (<prefix>/<NAME>/<VERSION or ALIAS>/): inside the serving role's grant, so no second grant is needed.
REGISTRY_EXPORT_PREFIX = f"{MODELS_PREFIX}/registry"

# The Service KServe creates in front of each InferenceService's predictor (Standard mode), and its
# port (it forwards to the runtime's 8080): the ALB rules and ChatQnA's LLM step call it.
PREDICTOR_PORT = 80
MODEL_SERVER_PORT = 8080  # the runtime's port in the predictor pod, where NetworkPolicies admit callers


def predictor_service(isvc_name: str) -> str:
    return f"{isvc_name}-predictor"


MODEL_SERVING = ComponentSpec(
    name="model-serving",
    namespace=KSERVE_NAMESPACE,
    addon=KSERVE_ADDON,
    gates=(Gate("serving.models"),),
    # The runtimes the InferenceServices name; Prometheus' CRDs for the PodMonitors; KEDA's for the ScaledObjects.
    depends_on=(KSERVE_RUNTIMES, KUBE_PROMETHEUS_STACK, KEDA),
    identity=Identity("kserve", service_account="kserve-models",
                      grants=(ArtifactPrefix("KserveModels", prefix=MODELS_PREFIX, write=False),)),
    network=Network(egress=(Egress(MLFLOW, None, "registry sources resolve a model version through MLflow"),)),
    timeout="30m",  # a GPU node may scale up from zero and the model is downloaded at start
)
