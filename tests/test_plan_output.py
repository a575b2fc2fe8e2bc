"""`eksml plan --output json` carries both layers: the stacks and the Kubernetes layer's changes."""

from __future__ import annotations

import json

from eksml.aws.run_result import RunResult, StackResult
from eksml.config import load_environment
from eksml.deploy.plan import EnvironmentPlan, kubernetes_plan, plan_json, plan_text
from eksml.k8s.cluster.object_diff import compare
from eksml.outputs import predict_outputs


def _aws(env_name: str) -> RunResult:
    return RunResult(env_name, "plan", (StackResult("cluster", None, blocked_by=("network",)),), None, None, 1.0)


def test_a_first_plan_lists_every_values_file_and_object_as_added(tmp_path):
    env = load_environment("dev")
    planned = EnvironmentPlan(env, _aws("dev"), kubernetes_plan(env, predict_outputs(env), tmp_path / "none"), None)
    document = json.loads(json.dumps(plan_json(planned)))
    kubernetes = document["kubernetes"]
    assert kubernetes["compared"] == "values and owned objects" and kubernetes["has_changes"]
    files = {change["file"] for change in kubernetes["changes"]}
    assert "mlflow.values.yaml" in files
    assert {change["status"] for change in kubernetes["changes"]} == {"added"}
    text = plan_text(planned)
    assert "run `eksml render dev` once" in text and "cluster: not planned, waits for outputs of network" in text
    assert document["stacks"][0] == {**document["stacks"][0], "planned": False, "blocked_by": ["network"]}


def test_object_changes_carry_release_object_status_and_diff(tmp_path):
    env = load_environment("dev")
    before = {"mlflow": {"Deployment mlflow/mlflow": {"spec": {"replicas": 1}}, "Service mlflow/old": {"a": 1}}}
    after = {"mlflow": {"Deployment mlflow/mlflow": {"spec": {"replicas": 2}}},
             "metrics-server": {"Deployment kube-system/metrics-server": {"spec": {}}}}
    planned = EnvironmentPlan(env, _aws("dev"), compare(before, after, tmp_path), None)
    changes = plan_json(planned)["kubernetes"]["changes"]
    by_object = {c["object"]: c for c in changes}
    assert by_object["Deployment mlflow/mlflow"]["status"] == "changed"
    assert "+  replicas: 2" in by_object["Deployment mlflow/mlflow"]["diff"]
    assert by_object["Service mlflow/old"]["status"] == "removed"
    assert by_object["Deployment kube-system/metrics-server"]["release"] == "metrics-server"
    assert "releases" not in plan_json(planned)
