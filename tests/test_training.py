"""Training on the platform: Kubeflow Trainer where `training` is set, and eksml's ClusterTrainingRuntime
per training pool (pinned to it, tracked in MLflow, checkpointing to EFS, kept from Karpenter's
disruption), held to the render's CRD, Pod Security and placement checks; the README's TrainJob is
valid against the chart's CRD and names a runtime the render has."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from eksml.charts.kube_yaml import ManifestObject
from eksml.components.training import KUBEFLOW_TRAINER
from eksml.config import load_environment
from eksml.contract.names import POOL_LABEL
from eksml.k8s.checks.object_checks import Placed, crd_index, custom_resource_issues
from eksml.k8s.checks.platform_checks import placed_objects, platform_pods, runtime_pools
from eksml.k8s.checks.pod_security_check import pod_security_issues
from eksml.k8s.checks.scheduling import place
from eksml.k8s.model.components.training import CHECKPOINTS_CLAIM, DO_NOT_DISRUPT
from eksml.k8s.model.platform import build_platform
from eksml.outputs import predict_outputs
from eksml.paths import PROJECT_ROOT

ENV = load_environment("dev")
PLATFORM = build_platform(ENV, predict_outputs(ENV))


def _owned(kind: str) -> dict[str, dict]:
    component = PLATFORM.component(KUBEFLOW_TRAINER.name)
    return {f"{m['metadata'].get('namespace', '')}/{m['metadata']['name']}": m for m in component.objects
            if m["kind"] == kind}


def _pod(runtime: dict) -> dict:
    [job] = runtime["spec"]["template"]["spec"]["replicatedJobs"]
    return job["template"]["spec"]["template"]


@pytest.fixture(scope="module")
def placed(dev_render) -> list[Placed]:
    return placed_objects(PLATFORM, dev_render.charts)


def _runtime_placed(placed: list[Placed], name: str) -> Placed:
    return next(p for p in placed if p.obj.kind == "ClusterTrainingRuntime" and p.obj.name == name)


def _with_body(original: Placed, body: dict) -> Placed:
    return Placed(original.release, ManifestObject(original.obj.source, body), original.before, original.file)


@pytest.mark.parametrize(("env_name", "installed"), [("local", False), ("dev", True), ("prod", False)])
def test_the_trainer_is_installed_exactly_where_training_is_set(env_name, installed):
    env = load_environment(env_name)
    names = {c.name for c in build_platform(env, predict_outputs(env)).components}
    assert (env.training is not None) is installed
    assert (KUBEFLOW_TRAINER.name in names) is installed


def test_one_runtime_per_pool_pinned_to_it_tracked_in_mlflow_and_kept_from_disruption(dev_render):
    runtimes = _owned("ClusterTrainingRuntime")
    assert set(runtimes) == {f"/pytorch-{pool}" for pool in ENV.training.pools}
    pod = _pod(runtimes["/pytorch-h100"])
    assert pod["metadata"]["annotations"][DO_NOT_DISRUPT] == "true"
    spec = pod["spec"]
    assert spec["nodeSelector"] == {POOL_LABEL: "h100"}
    for taint in ENV.node_pools["h100"].taints:
        assert {"key": taint.key, "operator": "Equal", "value": taint.value, "effect": taint.effect} in spec["tolerations"]
    [container] = spec["containers"]
    # h100 time-slices its GPUs: one shared GPU per container (failRequestsGreaterThanOne).
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    env = {e["name"]: e.get("value") for e in container["env"]}
    service, namespace, port = re.fullmatch(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc:(\d+)", env["MLFLOW_TRACKING_URI"]).groups()
    mlflow = {o.name: o.body for o in dev_render.charts.release("mlflow").objects if o.kind == "Service"}
    assert namespace == dev_render.charts.release("mlflow").component.namespace
    assert int(port) in [p["port"] for p in mlflow[service]["spec"]["ports"]]
    baseline = PLATFORM.component("cluster-baseline")
    priority = {o["metadata"]["name"] for o in (*baseline.prerequisites, *baseline.objects) if o["kind"] == "PriorityClass"}
    assert spec["priorityClassName"] in priority


def test_every_team_gets_a_checkpoint_volume_on_efs_that_the_runtime_mounts():
    claims = _owned("PersistentVolumeClaim")
    assert set(claims) == {f"{team}/{CHECKPOINTS_CLAIM}" for team in ENV.teams}
    storage = PLATFORM.component("storage-classes")
    classes = {o["metadata"]["name"] for o in (*storage.prerequisites, *storage.objects) if o["kind"] == "StorageClass"}
    for claim in claims.values():
        assert claim["spec"]["storageClassName"] in classes and claim["spec"]["accessModes"] == ["ReadWriteMany"]
    volumes = _pod(_owned("ClusterTrainingRuntime")["/pytorch-h100"])["spec"]["volumes"]
    assert {"name": "checkpoints", "persistentVolumeClaim": {"claimName": CHECKPOINTS_CLAIM}} in volumes


def test_the_runtime_passes_the_crd_pod_security_and_placement_checks(placed, dev_render):
    runtime = _runtime_placed(placed, "pytorch-h100")
    assert custom_resource_issues(runtime, crd_index(placed)) == []
    namespaces = {r.name: r.component.namespace for r in dev_render.charts.releases}
    assert pod_security_issues([*placed], namespaces, ENV.cluster.kubernetes_version) == []
    [workload] = [w for w in platform_pods([runtime])]
    assert place(workload, runtime_pools(PLATFORM.pools)).pools == ("h100",)


def test_a_runtime_pod_that_breaks_restricted_or_misses_its_pool_is_caught(placed, dev_render):
    """The checks read the runtime's pod template: without that, neither finding would exist."""
    runtime = _runtime_placed(placed, "pytorch-h100")
    namespaces = {r.name: r.component.namespace for r in dev_render.charts.releases}
    body = copy.deepcopy(runtime.obj.body)
    pod = _pod(body)["spec"]
    pod["containers"][0]["securityContext"]["privileged"] = True
    pod["tolerations"] = []
    broken = _with_body(runtime, body)
    namespace_objects = [p for p in placed if p.obj.kind == "Namespace"]
    [issue] = pod_security_issues([*namespace_objects, broken], namespaces, ENV.cluster.kubernetes_version)
    assert "ClusterTrainingRuntime pytorch-h100" in issue.path and "privileged" in issue.message
    [workload] = platform_pods([broken])
    assert place(workload, runtime_pools(PLATFORM.pools)).pools == ()


def test_the_readme_trainjob_is_valid_and_names_a_rendered_runtime(placed):
    readme = (PROJECT_ROOT / "README.md").read_text()
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "kind: TrainJob" in b]
    job = yaml.safe_load(block)
    crds = crd_index(placed)
    trainjob_crd = crds[("trainer.kubeflow.org", "TrainJob")]
    holder = Placed(trainjob_crd.release, ManifestObject("README.md", job), frozenset(), "README.md")
    assert custom_resource_issues(holder, crds) == []
    assert f"/{job['spec']['runtimeRef']['name']}" in _owned("ClusterTrainingRuntime")
    assert job["metadata"]["namespace"] in ENV.teams
    pool = ENV.node_pools[job["spec"]["runtimeRef"]["name"].removeprefix("pytorch-")]
    assert job["spec"]["trainer"]["numNodes"] <= pool.max_size
