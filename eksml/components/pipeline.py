"""The training pipeline: an Argo WorkflowTemplate from raw data to a registered model version.

It runs in Argo's namespace under an identity of its own, so Argo's artifact role stays as it was:
read the datasets bucket, write step outputs under Argo's artifact prefix and the exported model
versions serving reads. Metrics and models go to MLflow; the training step is a TrainJob.
"""

from eksml.components.argo_workflows import ARGO_WORKFLOWS, ARTIFACT_PREFIX
from eksml.components.mlflow import MLFLOW
from eksml.components.serving import REGISTRY_EXPORT_PREFIX
from eksml.components.spec import ArtifactPrefix, ComponentSpec, DatasetsRead, Egress, Gate, Identity, Network
from eksml.components.training import KUBEFLOW_TRAINER

ML_PIPELINE = ComponentSpec(
    name="ml-pipeline",
    namespace=ARGO_WORKFLOWS.namespace,  # the controller watches only this namespace
    addon=ARGO_WORKFLOWS.addon,
    gates=(Gate("training"),),  # its train step needs a training runtime
    depends_on=(ARGO_WORKFLOWS, KUBEFLOW_TRAINER, MLFLOW),
    identity=Identity("ml-pipeline", service_account="ml-pipeline", grants=(
        DatasetsRead(),
        ArtifactPrefix("PipelineStepOutputs", prefix=ARTIFACT_PREFIX, write=True),
        ArtifactPrefix("RegistryExport", prefix=REGISTRY_EXPORT_PREFIX, write=True),
    )),
    network=Network(egress=(Egress(MLFLOW, None, "steps log runs, register versions and read their artifacts"),)),
    timeout="5m",
)
