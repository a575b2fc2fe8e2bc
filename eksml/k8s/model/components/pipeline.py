"""The training pipeline as an Argo WorkflowTemplate: ingest >> validate >> features >> train >>
evaluate >> register, the design's Data >> Features >> Train >> Register.

Every step but `train` is a script in the image the MLflow chart runs (MLflow and boto3 in one image
to mirror); `train` creates a TrainJob on one of eksml's ClusterTrainingRuntimes in a team's
namespace, so the team's GPU quota and network policies apply, and waits for it. `register` adds a
model version, exports its files where serving reads registry sources, and moves the alias
(`candidate`) last, so an alias never names a version serving cannot find.
"""

from __future__ import annotations

from typing import Any

import yaml

from eksml.components.pipeline import ML_PIPELINE
from eksml.components.serving import REGISTRY_EXPORT_PREFIX
from eksml.contract.names import ARTIFACTS_BUCKET, DATASETS_BUCKET
from eksml.k8s.model.components import pipeline_steps as steps
from eksml.k8s.model.components.availability import RESTRICTED_CONTAINER, RESTRICTED_POD
from eksml.k8s.model.components.base import DescribedComponent
from eksml.k8s.model.components.training import PYTORCH_IMAGE, TRAINER_API, mlflow_url, runtime_name
from eksml.k8s.model.context import RenderContext
from eksml.k8s.model.hardening import writable_dirs
from eksml.k8s.model.manifests import granted_role, metadata
from eksml.k8s.model.records import Manifest

TEMPLATE_NAME = "train-and-register"
# The image mlflow chart 1.11.5 runs (MLflow 3.15.1 with boto3): the steps need nothing else.
STEP_IMAGE = "burakince/mlflow:3.15.1"
CANDIDATE_ALIAS = "candidate"
WORKFLOW_LABEL = "eksml.io/workflow"  # on each TrainJob: the pipeline run that made it
_USER = 1000  # any non-root uid: the steps write only to their emptyDirs
STEP_DIR = "/step"  # an emptyDir: step inputs and outputs (Argo's artifacts and parameters), downloads
WRITABLE = {"tmp": "/tmp", "step": STEP_DIR}
# (task, template, what it needs first): the DAG.
DAG = (
    ("ingest", "ingest", ()),
    ("validate", "validate", ("ingest",)),
    ("features", "features", ("validate",)),
    ("train", "train", ("features",)),
    ("evaluate", "evaluate", ("train",)),
    ("register", "register", ("evaluate",)),
)


def parameters(ctx: RenderContext) -> list[dict[str, str]]:
    training = ctx.env.training
    assert training is not None  # the gate
    return [
        {"name": "dataset-prefix", "description": "prefix of the datasets bucket to train on"},
        {"name": "model-name", "description": "registered model name (and MLflow experiment)"},
        {"name": "metric", "value": "accuracy", "description": "the run metric evaluate compares"},
        {"name": "metric-threshold", "value": "0.8", "description": "register only at or above this"},
        {"name": "alias", "value": CANDIDATE_ALIAS, "description": "alias the new version gets"},
        {"name": "team", "value": next(iter(ctx.env.teams), ""), "description": "namespace the TrainJob runs in"},
        {"name": "runtime", "value": runtime_name(training.runtimes[0], training.pools[0]),
         "enum": [runtime_name(r, p) for r in training.runtimes for p in training.pools]},
        {"name": "num-nodes", "value": "1"},
        {"name": "trainer-image", "value": PYTORCH_IMAGE, "description": "image with the training code"},
        {"name": "trainer-command", "value": '["torchrun", "train.py"]', "description": "JSON list"},
    ]


def _env(ctx: RenderContext, **values: str) -> list[dict[str, str]]:
    fixed = {"MLFLOW_TRACKING_URI": mlflow_url(), "HOME": WRITABLE["tmp"], "AWS_REGION": ctx.env.region,
             "STEP_DIR": STEP_DIR}
    return [{"name": k, "value": v} for k, v in {**fixed, **values}.items()]


def script(ctx: RenderContext, name: str, source: str, **env: str) -> dict[str, Any]:
    _, mounts = writable_dirs(WRITABLE)
    return {
        "name": name,
        "script": {
            "image": STEP_IMAGE, "imagePullPolicy": "Always", "command": ["python"], "source": source.lstrip(),
            "env": _env(ctx, **env), "securityContext": RESTRICTED_CONTAINER, "volumeMounts": mounts,
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
        },
    }


def _p(name: str) -> str:
    return "{{workflow.parameters.%s}}" % name


# Parameters that stand for YAML values other than strings: unquoted in the manifest's text, so that
# after Argo's substitution numNodes is a number and command a list.
_UNQUOTED = ("num-nodes", "trainer-command")


def train_job_manifest() -> str:
    """What `train` creates; Argo substitutes the parameters into the text before it applies it."""
    text = yaml.safe_dump({
        "apiVersion": TRAINER_API,
        "kind": "TrainJob",
        "metadata": {"name": "{{workflow.name}}", "namespace": _p("team"),
                     "labels": {WORKFLOW_LABEL: "{{workflow.name}}"}},
        "spec": {
            "runtimeRef": {"name": _p("runtime")},
            "trainer": {
                "image": _p("trainer-image"),
                "command": _p("trainer-command"),
                "numNodes": _p("num-nodes"),
                "env": [{"name": "MLFLOW_RUN_ID", "value": "{{inputs.parameters.run-id}}"},
                        {"name": "MLFLOW_EXPERIMENT_NAME", "value": _p("model-name")},
                        {"name": "FEATURES_URI", "value": "runs:/{{inputs.parameters.run-id}}/features"}],
            },
        },
    }, sort_keys=False)
    for name in _UNQUOTED:
        text = text.replace(f"'{_p(name)}'", _p(name))
    return text


def templates(ctx: RenderContext) -> list[dict[str, Any]]:
    manifest_out = {"name": "manifest", "path": f"{STEP_DIR}/outputs/manifest.json"}
    manifest_in = {"name": "manifest", "path": f"{STEP_DIR}/inputs/manifest.json"}
    run_id_in = {"parameters": [{"name": "run-id"}]}
    datasets = ctx.bucket(DATASETS_BUCKET)
    return [
        {"name": "pipeline", "dag": {"tasks": [_task(task, template) for task, template, _ in DAG]}},
        {**script(ctx, "ingest", steps.INGEST, DATASETS_BUCKET=datasets, DATASET_PREFIX=_p("dataset-prefix")),
         "outputs": {"artifacts": [manifest_out]}},
        {**script(ctx, "validate", steps.VALIDATE), "inputs": {"artifacts": [manifest_in]}},
        {**script(ctx, "features", steps.FEATURES, MODEL_NAME=_p("model-name"), WORKFLOW_NAME="{{workflow.name}}"),
         "inputs": {"artifacts": [manifest_in]},
         "outputs": {"parameters": [{"name": "run-id", "valueFrom": {"path": f"{STEP_DIR}/outputs/run-id"}}]}},
        {"name": "train", "inputs": run_id_in, "resource": {
            "action": "create", "setOwnerReference": False, "manifest": train_job_manifest(),
            "successCondition": 'status.conditions.#(type=="Complete").status == True',
            "failureCondition": 'status.conditions.#(type=="Failed").status == True'}},
        {**script(ctx, "evaluate", steps.EVALUATE, RUN_ID="{{inputs.parameters.run-id}}", METRIC=_p("metric"),
                  METRIC_THRESHOLD=_p("metric-threshold")), "inputs": run_id_in},
        {**script(ctx, "register", steps.REGISTER, RUN_ID="{{inputs.parameters.run-id}}", MODEL_NAME=_p("model-name"),
                  ALIAS=_p("alias"), ARTIFACTS_BUCKET=ctx.bucket(ARTIFACTS_BUCKET),
                  EXPORT_PREFIX=REGISTRY_EXPORT_PREFIX), "inputs": run_id_in},
    ]


def _task(task: str, template: str) -> dict[str, Any]:
    needs = dict((t, d) for t, _, d in DAG)[task]
    out: dict[str, Any] = {"name": task, "template": template}
    if needs:
        out["dependencies"] = list(needs)
    if task in ("validate", "features"):
        out["arguments"] = {"artifacts": [{"name": "manifest", "from": "{{tasks.ingest.outputs.artifacts.manifest}}"}]}
    if task in ("train", "evaluate", "register"):
        out["arguments"] = {"parameters": [{"name": "run-id", "value": "{{tasks.features.outputs.parameters.run-id}}"}]}
    return out


def workflow_template(ctx: RenderContext) -> Manifest:
    sa = ctx.irsa(ML_PIPELINE)
    volumes, _ = writable_dirs(WRITABLE)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": metadata(TEMPLATE_NAME, sa.namespace),
        "spec": {
            "entrypoint": "pipeline",
            "serviceAccountName": sa.name,
            "arguments": {"parameters": parameters(ctx)},
            "securityContext": {**RESTRICTED_POD, "runAsUser": _USER, "runAsGroup": _USER, "fsGroup": _USER},
            "volumes": volumes,
            "templates": templates(ctx),
        },
    }


def service_account(ctx: RenderContext) -> Manifest:
    sa = ctx.irsa(ML_PIPELINE)
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": metadata(sa.name, sa.namespace, annotations=sa.annotations)}


def _role(name: str, namespace: str, rules: list[dict[str, Any]]) -> list[Manifest]:
    sa = ML_PIPELINE.identity
    assert sa is not None
    return granted_role(name, namespace, rules, sa.service_account, ML_PIPELINE.namespace)


def access(ctx: RenderContext) -> list[Manifest]:
    """What the steps' pods do in Kubernetes: report their results to the controller (Argo's
    executor), and run TrainJobs in the team namespaces, nothing else."""
    objects = _role(ML_PIPELINE.name, ML_PIPELINE.namespace, [
        {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}])
    for team in ctx.env.teams:
        objects += _role(ML_PIPELINE.name, team, [
            {"apiGroups": [TRAINER_API.split("/")[0]], "resources": ["trainjobs"],
             "verbs": ["create", "get", "list", "watch", "patch"]}])
    return objects


class MlPipeline(DescribedComponent):
    spec = ML_PIPELINE

    def objects(self, ctx: RenderContext) -> list[Manifest]:
        return [service_account(ctx), *access(ctx), workflow_template(ctx)]
