"""The training pipeline: dev's WorkflowTemplate validates against Argo's full CRD (the chart installs
a schema-less one), its DAG is the design's order, the TrainJob its train step creates is valid once
Argo substitutes the parameters, its step pods pass Pod Security and placement, and its identity
reaches exactly the datasets, its step outputs and the registry export."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from eksml.charts.kube_yaml import ManifestObject
from eksml.components.argo_workflows import ARTIFACT_PREFIX
from eksml.components.pipeline import ML_PIPELINE
from eksml.components.serving import REGISTRY_EXPORT_PREFIX
from eksml.config import load_environment
from eksml.k8s.checks.crd_schema import custom_resource_errors
from eksml.k8s.checks.object_checks import Placed, crd_index, custom_resource_issues
from eksml.k8s.checks.platform_checks import placed_objects, platform_pods, runtime_pools
from eksml.k8s.checks.pod_security_check import pod_security_issues
from eksml.k8s.checks.scheduling import place
from eksml.k8s.model.components import pipeline_steps
from eksml.k8s.model.components.pipeline import DAG, STEP_IMAGE, TEMPLATE_NAME
from eksml.k8s.model.platform import build_platform
from eksml.outputs import predict_outputs
from shared_data import SHARED_DIR

ENV = load_environment("dev")
PLATFORM = build_platform(ENV, predict_outputs(ENV))
ARGO_CRD = SHARED_DIR / "upstream" / "argo" / "crds" / "argoproj.io_workflowtemplates.yaml"


def _template() -> dict:
    [template] = [m for m in PLATFORM.component(ML_PIPELINE.name).objects if m["kind"] == "WorkflowTemplate"]
    return template


def _steps(template: dict) -> dict[str, dict]:
    return {t["name"]: t for t in template["spec"]["templates"]}


@pytest.fixture(scope="module")
def placed(dev_render) -> list[Placed]:
    return placed_objects(PLATFORM, dev_render.charts)


@pytest.fixture(scope="module")
def full_crd() -> dict:
    return yaml.safe_load(ARGO_CRD.read_text())


@pytest.mark.parametrize(("env_name", "rendered"), [("local", False), ("dev", True), ("prod", False)])
def test_the_pipeline_is_rendered_exactly_where_training_is_set(env_name, rendered):
    env = load_environment(env_name)
    names = {c.name for c in build_platform(env, predict_outputs(env)).components}
    assert (ML_PIPELINE.name in names) is rendered is (env.training is not None)


def test_the_template_validates_against_argos_full_crd(full_crd):
    template = _template()
    assert list(custom_resource_errors(template, full_crd, "v1alpha1")) == []
    broken = copy.deepcopy(template)
    _steps(broken)["ingest"]["script"]["imagePullPolicy"] = {"always": True}
    _steps(broken)["train"]["resource"]["sucessCondition"] = "misspelled"
    paths = {path for path, _ in custom_resource_errors(broken, full_crd, "v1alpha1")}
    assert any(p.endswith("imagePullPolicy") for p in paths) and any("resource" in p for p in paths), paths


def test_the_dag_runs_ingest_validate_features_train_evaluate_register_in_order():
    template = _template()
    [dag] = [t["dag"] for t in template["spec"]["templates"] if t["name"] == template["spec"]["entrypoint"]]
    after = {task["name"]: task.get("dependencies", []) for task in dag["tasks"]}
    order, done = [], set()
    while len(order) < len(after):
        ready = sorted(name for name, needs in after.items() if name not in done and set(needs) <= done)
        assert len(ready) == 1, f"not one chain: {ready}"
        order += ready
        done |= set(ready)
    assert order == ["ingest", "validate", "features", "train", "evaluate", "register"] == [t for t, _, _ in DAG]
    steps = _steps(template)
    assert set(after) <= {t["name"] for t in dag["tasks"]} and all(t["template"] in steps for t in dag["tasks"])


def test_parameters_for_dataset_model_threshold_and_the_candidate_alias():
    parameters = {p["name"]: p.get("value") for p in _template()["spec"]["arguments"]["parameters"]}
    assert {"dataset-prefix", "model-name", "metric-threshold"} <= set(parameters)
    assert parameters["dataset-prefix"] is None and parameters["model-name"] is None  # asked at every run
    assert parameters["alias"] == "candidate" and float(parameters["metric-threshold"]) > 0
    assert parameters["team"] in ENV.teams


def _train_job(template: dict) -> dict:
    """The train step's manifest as Argo applies it: parameters replaced by their defaults."""
    defaults = {p["name"]: p.get("value") or "x" for p in template["spec"]["arguments"]["parameters"]}
    text = _steps(template)["train"]["resource"]["manifest"]
    text = re.sub(r"\{\{workflow\.parameters\.([a-z-]+)\}\}", lambda m: defaults[m.group(1)], text)
    text = text.replace("{{workflow.name}}", "train-and-register-x7k2p").replace("{{inputs.parameters.run-id}}", "0f3a")
    return yaml.safe_load(text)


def test_the_train_step_creates_a_valid_trainjob_on_a_rendered_runtime_in_a_team_namespace(placed):
    job = _train_job(_template())
    crds = crd_index(placed)
    holder = Placed(crds[("trainer.kubeflow.org", "TrainJob")].release, ManifestObject("pipeline", job), frozenset(), "p")
    assert custom_resource_issues(holder, crds) == []
    runtimes = {p.obj.name for p in placed if p.obj.kind == "ClusterTrainingRuntime"}
    assert job["spec"]["runtimeRef"]["name"] in runtimes and job["metadata"]["namespace"] in ENV.teams
    assert job["spec"]["trainer"]["numNodes"] == 1 and isinstance(job["spec"]["trainer"]["command"], list)
    env = {e["name"]: e["value"] for e in job["spec"]["trainer"]["env"]}
    assert env["MLFLOW_RUN_ID"] == "0f3a" and env["FEATURES_URI"] == "runs:/0f3a/features"


def test_the_steps_pass_pod_security_and_land_on_a_pool(placed, dev_render):
    namespaces = {r.name: r.component.namespace for r in dev_render.charts.releases}
    [template] = [p for p in placed if p.obj.kind == "WorkflowTemplate" and p.obj.name == TEMPLATE_NAME]
    assert pod_security_issues(placed, namespaces, ENV.cluster.kubernetes_version) == []
    workloads = platform_pods([template])
    assert {w.name.rsplit(" ", 1)[-1] for w in workloads} == {"ingest", "validate", "features", "evaluate", "register"}
    for workload in workloads:
        assert workload.replicas == 0 and place(workload, runtime_pools(PLATFORM.pools)).pools
    body = json.loads(json.dumps(template.obj.body))  # no shared dicts: only this step changes
    _steps(body)["register"]["script"]["securityContext"]["allowPrivilegeEscalation"] = True
    broken = Placed(template.release, ManifestObject(template.obj.source, body), template.before, template.file)
    [issue] = pod_security_issues([p for p in placed if p.obj.kind == "Namespace"] + [broken], namespaces,
                                  ENV.cluster.kubernetes_version)
    assert "register" in issue.path and "allowPrivilegeEscalation" in issue.message


def test_the_step_image_is_in_the_mirror_list(placed):
    from eksml.k8s.checks.images import images_of

    [template] = [p for p in placed if p.obj.kind == "WorkflowTemplate"]
    [image] = images_of(template.release, [template.obj])  # one image for every step, listed once
    assert image.reference == STEP_IMAGE and image.used_by.endswith("(ingest)")


def test_the_step_scripts_compile_and_read_only_what_the_template_sets():
    steps = _steps(_template())
    for name in ("ingest", "validate", "features", "evaluate", "register"):
        source = getattr(pipeline_steps, name.upper())
        compile(source, name, "exec")
        script = steps[name]["script"]
        assert script["source"] == source.lstrip()
        read = set(re.findall(r'os\.environ\["([A-Z_]+)"\]', source))
        assert read <= {e["name"] for e in script["env"]}, name


def test_the_pipeline_identity_reads_datasets_and_writes_only_its_outputs_and_the_export():
    from modules import irsa_policies
    from modules.aws_context import AwsArns

    store = irsa_policies.ArtifactStore("arn:aws:s3:::art", "arn:aws:kms:us-east-1:1:key/a")
    datasets = irsa_policies.ArtifactStore("arn:aws:s3:::data", "arn:aws:kms:us-east-1:1:key/a")
    targets = irsa_policies.GrantTargets(
        aws=AwsArns(partition="aws", region="us-east-1", account_id="123456789012", dns_suffix="amazonaws.com"), cluster_name="c",
        cluster_arn="arn", store=store, db_master_secret_arn="s", karpenter_node_role_arn="r", karpenter_queue_arn="q",
        pod_log_group_arn="l", volume_key_arn="k", backups=None, datasets=datasets)
    statements = irsa_policies.permissions_for(ML_PIPELINE, targets).statements
    writes = {r for s in statements if "s3:PutObject" in s.actions for r in s.resources}
    assert writes == {f"arn:aws:s3:::art/{ARTIFACT_PREFIX}/*", f"arn:aws:s3:::art/{REGISTRY_EXPORT_PREFIX}/*"}
    reads = {r for s in statements if "s3:GetObject" in s.actions for r in s.resources}
    assert reads == writes | {"arn:aws:s3:::data/*"}
    with pytest.raises(ValueError, match="datasets bucket"):
        irsa_policies.permissions_for(ML_PIPELINE, irsa_policies.GrantTargets(**{**vars(targets), "datasets": None}))
    assert json.dumps([s.actions for s in statements]).count("*\"") == 0  # no wildcard action
