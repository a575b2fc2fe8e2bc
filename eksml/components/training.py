"""Kubeflow Trainer v2 (with JobSet): the teams' TrainJobs run on eksml's ClusterTrainingRuntimes,
one per runtime and training pool of `training` in the environment file."""

from eksml.components.mlflow import MLFLOW
from eksml.components.spec import AddonSwitch, Chart, ComponentSpec, Gate, Network

KUBEFLOW_TRAINER = ComponentSpec(
    name="kubeflow-trainer",
    namespace="kubeflow-system",
    chart=Chart("oci://ghcr.io/kubeflow/charts/kubeflow-trainer"),
    # Pinned here so that files written before training existed stay valid.
    addon=AddonSwitch("kubeflow_trainer", version="2.3.0"),
    gates=(Gate("training"),),  # installed where the environment file declares training
    depends_on=(MLFLOW,),  # the runtimes track every run in MLflow
    provides_api_groups=("trainer.kubeflow.org", "jobset.x-k8s.io"),
    network=Network(api_server_ports=(9443,)),  # the trainer's and JobSet's admission webhooks
)
