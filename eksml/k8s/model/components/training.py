"""Kubeflow Trainer, and the runtimes the teams' TrainJobs name: a ClusterTrainingRuntime per runtime
and training pool (`pytorch-h100`), pinned to the pool's nodes, tracked in MLflow, checkpointing to
an EFS volume in the team's namespace, and protected from Karpenter's voluntary disruption.

The chart's own runtimes stay off: its installer Job fetches kubectl from Alpine's package mirrors
when it runs, and they are not pinned to any pool. Artifacts go to S3 through MLflow's proxied
artifact store (MLflow's IRSA role), so a training pod holds no AWS identity of its own.
"""

from __future__ import annotations

from typing import Any

from eksml.components.mlflow import MLFLOW
from eksml.components.training import KUBEFLOW_TRAINER
from eksml.config.models import PoolKind
from eksml.config.rules_efa import node_efa_interfaces
from eksml.config.rules_training import node_gpus
from eksml.components.efa import EFA_RESOURCE
from eksml.contract.names import POOL_LABEL
from eksml.gpu.sharing import GPU_RESOURCE
from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER, RESTRICTED_POD
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.components.baseline import TRAINING_PRIORITY
from eksml.k8s.model.components.chatqna import llm_tolerations
from eksml.k8s.model.components.storage import EFS
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.hardening import writable_dirs
from eksml.k8s.model.manifests import metadata
from eksml.k8s.model.records import Manifest

TRAINER_API = "trainer.kubeflow.org/v1alpha1"
# The image of the chart's own torch-distributed runtime (kubeflow-trainer 2.3.0).
PYTORCH_IMAGE = "pytorch/pytorch:2.13.0-cuda13.0-cudnn9-runtime"
CHECKPOINTS_CLAIM = "training-checkpoints"
CHECKPOINTS_DIR = "/checkpoints"
CHECKPOINTS_SIZE = "1Ti"  # EFS is elastic: a nominal size, billed by what is stored
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
_USER = 1000  # the PyTorch image runs as root by default; Python and torchrun need no particular uid


def runtime_name(runtime: str, pool: str) -> str:
    return f"{runtime}-{pool}"


def gpus_per_node(ctx: RenderContext, pool_name: str) -> int:
    pool = ctx.env.node_pools[pool_name]
    declared = ctx.env.training.gpus_per_node
    if declared is not None:
        return declared
    return 1 if pool.kind is PoolKind.gpu_time_slicing else node_gpus(pool, ctx.catalog)


def mlflow_url() -> str:
    ui = MLFLOW.uis[0]
    return f"http://{ui.service}.{MLFLOW.namespace}.svc:{ui.port}"


def _node_container(gpus: int, efa: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    volumes, mounts = writable_dirs({"tmp": "/tmp"})
    devices = {GPU_RESOURCE: str(gpus), **({EFA_RESOURCE: str(efa)} if efa else {})}
    # NCCL over EFA (libfabric's provider, with GPUDirect RDMA where the instance has it).
    fabric = [{"name": "FI_PROVIDER", "value": "efa"}, {"name": "FI_EFA_USE_DEVICE_RDMA", "value": "1"}] if efa else []
    return {
        "name": "node",
        "image": PYTORCH_IMAGE,
        "imagePullPolicy": "Always",
        "env": [
            {"name": "MLFLOW_TRACKING_URI", "value": mlflow_url()},
            # Each TrainJob is an MLflow experiment of its own name, and checkpoints under it.
            {"name": "TRAINJOB_NAME", "valueFrom": {"fieldRef": {
                "fieldPath": "metadata.labels['jobset.sigs.k8s.io/jobset-name']"}}},
            {"name": "MLFLOW_EXPERIMENT_NAME", "value": "$(TRAINJOB_NAME)"},
            {"name": "CHECKPOINT_DIR", "value": f"{CHECKPOINTS_DIR}/$(TRAINJOB_NAME)"},
            {"name": "HOME", "value": "/tmp"},
            *fabric,
        ],
        "resources": {"requests": {"cpu": "4", "memory": "32Gi", **devices},
                      "limits": {"cpu": "8", "memory": "64Gi", **devices}},
        "securityContext": RESTRICTED_CONTAINER,
        "volumeMounts": [*mounts, {"name": "checkpoints", "mountPath": CHECKPOINTS_DIR},
                         {"name": "shm", "mountPath": "/dev/shm"}],
    }, volumes


def training_runtime(ctx: RenderContext, runtime: str, pool: str) -> Manifest:
    container, volumes = _node_container(gpus_per_node(ctx, pool),
                                         node_efa_interfaces(ctx.env.node_pools[pool], ctx.catalog))
    pod = {
        "metadata": {"annotations": {DO_NOT_DISRUPT: "true"}},
        "spec": {
            "priorityClassName": TRAINING_PRIORITY,
            "nodeSelector": {POOL_LABEL: pool},
            "tolerations": llm_tolerations(ctx, pool),
            "securityContext": {**RESTRICTED_POD, "runAsUser": _USER, "runAsGroup": _USER, "fsGroup": _USER},
            "automountServiceAccountToken": False,
            "containers": [container],
            "volumes": [*volumes, {"name": "checkpoints", "persistentVolumeClaim": {"claimName": CHECKPOINTS_CLAIM}},
                        # NCCL's shared memory between the processes of a node.
                        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}],
        },
    }
    return {
        "apiVersion": TRAINER_API,
        "kind": "ClusterTrainingRuntime",
        "metadata": metadata(runtime_name(runtime, pool), labels={"trainer.kubeflow.org/framework": "torch"}),
        "spec": {
            "mlPolicy": {"numNodes": 1, "torch": {}},
            "template": {"spec": {"replicatedJobs": [{
                "name": "node",
                "template": {
                    "metadata": {"labels": {"trainer.kubeflow.org/trainjob-ancestor-step": "trainer"}},
                    "spec": {"template": pod},
                },
            }]}},
        },
    }


def checkpoint_claim(namespace: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(CHECKPOINTS_CLAIM, namespace),
        "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": EFS,
                 "resources": {"requests": {"storage": CHECKPOINTS_SIZE}}},
    }


class KubeflowTrainer(DescribedComponent):
    spec = KUBEFLOW_TRAINER

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        training = ctx.env.training
        assert training is not None  # the gate
        runtimes = [training_runtime(ctx, runtime, pool) for runtime in training.runtimes for pool in training.pools]
        # TrainJobs run in the team namespaces (their quotas and network policies apply).
        return [*runtimes, *(checkpoint_claim(team) for team in ctx.env.teams)]
