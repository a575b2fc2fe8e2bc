"""`eksml render` and `plan_diff`: files written without a cluster, the index, layering, no secrets."""

from __future__ import annotations

import copy
import dataclasses
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from eksml.outputs import predict_outputs
from eksml.cli import cli
from eksml.config import load_environment
from eksml.config.models import Environment
from eksml.errors import ConfigError
from eksml.k8s import plan_diff, render_platform
from eksml.k8s.model.values import deep_merge
from eksml.contract.outputs import AwsOutputs
from eksml.paths import HELM_VALUES_DIR
from shipped import SHIPPED, shipped_data, with_chart_llm

DEV = with_chart_llm(shipped_data("dev"))
SECRETISH = "Zq7-hunter2-NOT-FOR-FILES"


def documents(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("env_name", SHIPPED)
def test_render_writes_every_release_and_object(env_name, tmp_path):
    env = load_environment(env_name)
    result = render_platform(env, predict_outputs(env), tmp_path)
    releases = [c for c in result.components if c.is_release]
    for component in releases:
        path = tmp_path / f"{component.name}.values.yaml"
        assert (documents(path) or {}) == component.values
        assert path.read_text().startswith(f"# {component.name}: chart {component.chart} version {component.version}")
    objects = [m for c in result.components for m in (*c.prerequisites, *c.objects)]
    written = sorted((tmp_path / "objects").rglob("*.yaml"))
    assert len(written) == len(objects)
    assert sorted(documents(p)["metadata"]["name"] for p in written) == sorted(m["metadata"]["name"] for m in objects)
    assert set(result.files) == {*written, *(tmp_path / f"{c.name}.values.yaml" for c in releases), result.index}


@pytest.mark.parametrize("env_name", SHIPPED)
def test_index_shows_which_pool_serves_which_workload(env_name, tmp_path):
    env = load_environment(env_name)
    index = render_platform(env, predict_outputs(env), tmp_path).index.read_text()
    for pool in [*env.node_pools, *env.karpenter.node_pools]:
        assert f"\n### {pool} (" in index
    served = env.genai.chatqna.llm_from_serving
    if served is not None:  # ChatQnA calls this model; the chart runs no vLLM
        pool = env.serving.models[served].pool
        row = next(line for line in index.splitlines() if line.startswith(f"| {pool} |"))
        assert f"InferenceService kserve/{served}" in row and "opea-chatqna: vllm" not in index
        return
    llm_pool = env.genai.chatqna.llm_node_pool
    row = next(line for line in index.splitlines() if line.startswith(f"| {llm_pool} |"))
    assert "opea-chatqna: vllm" in row.split(" | ")[-1]
    section = index.split(f"### {llm_pool} (")[1].split("\n### ")[0]
    assert "  - opea-chatqna: vllm: nvidia.com/mig-3g.40gb: 1; tolerates gpu=mig:NoSchedule" in section
    assert "- mig-parted config: `eksml-a100-mig`" in section
    assert "AWS outputs: predicted" in index
    order = [line.split(" | ")[1] for line in index.split("## Install order")[1].splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert order[0] == "cluster-baseline" and order.index("kserve-crd") < order.index("kserve")


def test_rendered_files_hold_no_secret(tmp_path):
    env = load_environment("prod")
    outputs = dataclasses.replace(
        predict_outputs(env),
        predicted=False,
        db_master_secret_arn=f"arn:aws:secretsmanager:us-east-1:210987654321:secret:rds!db-{SECRETISH[:8]}",
        extra={"db_password": SECRETISH, "master_user_password": SECRETISH},
    )
    render_platform(env, outputs, tmp_path)
    kinds = set()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert SECRETISH not in text, path
            doc = yaml.safe_load(text) if path.suffix == ".yaml" else None
            if isinstance(doc, dict):
                kinds.add(doc.get("kind"))
                for key, value in _walk(doc):
                    if "password" in key.lower() and not key.lower().endswith("key"):
                        # a template over a generator's output (an ExternalSecret's target) is no value
                        placeholder = re.fullmatch(r"\{\{ *\.\w+ *\}\}", str(value))
                        # a *__FILE setting names where the Secret is mounted (Grafana reads it there)
                        mounted = key.lower().endswith("__file") and str(value).startswith("/")
                        assert value in ("", None) or placeholder or mounted, f"{path}: {key} has a value"
    assert "Secret" not in kinds  # credentials reach MLflow through an ExternalSecret, not a rendered Secret
    assert "ExternalSecret" in kinds


def _walk(node, prefix=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key), value
            yield from _walk(value, f"{prefix}.{key}")
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, prefix)


def test_a_failed_render_leaves_the_previous_render_untouched(tmp_path):
    env = load_environment("dev")
    render_platform(env, predict_outputs(env), tmp_path)
    before = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    data = copy.deepcopy(DEV)
    data["genai"]["chatqna"]["llm_gpu"] = {"mig_profile": "1g.20gb"}  # not in the layout
    data["node_pools"]["h100"]["time_slicing"]["replicas"] = 8  # would change a file if written
    with pytest.raises(ConfigError):
        render_platform(Environment.model_validate(data), predict_outputs(env), tmp_path)
    assert {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_rerender_removes_files_of_components_no_longer_rendered(tmp_path):
    env = load_environment("dev")
    render_platform(env, predict_outputs(env), tmp_path)
    assert (tmp_path / "opea-chatqna.values.yaml").exists()
    (tmp_path / "notes.txt").write_text("mine")
    data = copy.deepcopy(DEV)
    data["genai"]["chatqna"]["enabled"] = False
    data["karpenter"]["node_pools"].pop("training-workloads")
    render_platform(Environment.model_validate(data), predict_outputs(env), tmp_path, force=True)
    assert not (tmp_path / "opea-chatqna.values.yaml").exists()
    assert not (tmp_path / "objects" / "karpenter" / "nodepool.training-workloads.yaml").exists()
    assert (tmp_path / "objects" / "karpenter" / "nodepool.gpu-workloads.yaml").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"  # only files a render wrote are removed, even with --force


def test_values_layers_base_overlay_then_computed(tmp_path):
    values_dir = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, values_dir)
    (values_dir / "dev").mkdir()
    (values_dir / "dev" / "karpenter.yaml").write_text(
        "logLevel: debug\n"                        # overlay beats base
        "settings: {clusterName: not-the-cluster, batchMaxDuration: 20s}\n"  # computed beats overlay
        "controller: {resources: {limits: null}}\n"  # null removes a base key
    )
    env = load_environment("dev")
    render_platform(env, predict_outputs(env), tmp_path / "out", values_dir=values_dir)
    values = documents(tmp_path / "out" / "karpenter.values.yaml")
    assert values["logLevel"] == "debug"
    assert values["settings"]["clusterName"] == env.cluster.name
    assert values["settings"]["batchMaxDuration"] == "20s"
    assert "limits" not in values["controller"]["resources"] and values["controller"]["resources"]["requests"]


def test_local_overlay_is_applied_only_to_local(tmp_path):
    for name, replicas in (("local", 1), ("dev", None)):
        env = load_environment(name)
        render_platform(env, predict_outputs(env), tmp_path / name)
        assert documents(tmp_path / name / "karpenter.values.yaml").get("replicas") == replicas


def test_a_values_file_for_no_component_is_bad_input(tmp_path):
    values_dir = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, values_dir)
    (values_dir / "dev").mkdir()
    (values_dir / "dev" / "karpentr.yaml").write_text("logLevel: debug\n")
    env = load_environment("dev")
    with pytest.raises(ConfigError) as caught:
        render_platform(env, predict_outputs(env), tmp_path / "out", values_dir=values_dir)
    assert caught.value.issues[0].file.endswith("dev/karpentr.yaml")
    assert "no component named 'karpentr'" in caught.value.issues[0].message


def test_deep_merge_follows_helm_rules():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert deep_merge(base, {"a": {"c": [3]}, "d": None, "e": {"f": None, "g": 2}}) == {"a": {"b": 1, "c": [3]}, "e": {"g": 2}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # inputs untouched


def test_plan_diff_against_the_last_render(tmp_path):
    env = load_environment("dev")
    outputs = predict_outputs(env)
    first = plan_diff(env, outputs, tmp_path / "never-rendered")
    assert first.has_changes and {c.status for c in first.changes} == {"added"}
    render_platform(env, outputs, tmp_path)
    assert not plan_diff(env, outputs, tmp_path).has_changes

    data = copy.deepcopy(DEV)
    data["node_pools"]["h100"]["time_slicing"]["replicas"] = 8
    data["karpenter"]["node_pools"].pop("training-workloads")
    diff = plan_diff(Environment.model_validate(data), outputs, tmp_path)
    changes = {c.path: c for c in diff.changes}
    configmap = "objects/gpu-operator/configmap.gpu-operator.eksml-device-plugin-config.yaml"
    assert changes[configmap].status == "changed"
    assert "+          replicas: 8" in changes[configmap].diff and "-          replicas: 2" in changes[configmap].diff
    assert changes["objects/karpenter/nodepool.training-workloads.yaml"].status == "removed"
    assert changes["gpu-operator.values.yaml"].status == "changed"  # the training taint is no longer tolerated
    removed = sum(1 for c in diff.changes if c.status == "removed")
    changed = sum(1 for c in diff.changes if c.status == "changed")
    assert diff.summary().splitlines()[0] == f"Kubernetes layer: {changed} changed, {removed} removed"


def test_cli_render_of_a_bad_environment_exits_2_and_writes_nothing(tmp_path):
    data = copy.deepcopy(DEV)
    data["genai"]["chatqna"]["llm_gpu"] = {"mig_profile": "4g.40gb"}
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "render"
    result = CliRunner().invoke(cli, ["render", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "llm_gpu.mig_profile" in result.output
    assert not out.exists()


def test_outputs_missing_an_irsa_role_fail_the_render_stage(tmp_path):
    from eksml.errors import StageError

    env = load_environment("dev")
    predicted = predict_outputs(env)
    roles = {k: v for k, v in predicted.irsa_role_arns.items() if k != "mlflow"}
    with pytest.raises(StageError) as caught:
        render_platform(env, dataclasses.replace(predicted, irsa_role_arns=roles), tmp_path / "out")
    assert caught.value.stage == "render" and "'mlflow' (mlflow/mlflow)" in str(caught.value)
    assert not (tmp_path / "out").exists()


# `eksml render` through the CLI (real charts, the last apply's outputs, JSON): tests/test_k8s_rendered.py
