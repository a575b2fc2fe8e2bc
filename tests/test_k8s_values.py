"""Rendered Helm values against the upstream charts' own data (/work/shared/upstream).

MLflow ships a values.schema.json (draft-07, additionalProperties false): Helm validates the merged
values (chart defaults + ours) against it, so we do the same. For charts without a schema every key
path we set must exist in the chart's default values.yaml, so a typo such as `deploymentmode` fails.
"""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
import yaml

from eksml.config import load_environment
from eksml.config.models import Environment
from eksml.k8s.context import IRSA_ANNOTATION
from eksml.k8s.platform import build_platform
from eksml.k8s.values import deep_merge
from eksml.contract.names import SERVICE_ACCOUNTS
from eksml.contract.outputs import AwsOutputs
from eksml.paths import ENVIRONMENTS_DIR

from shared_data import UPSTREAM_DIR as UPSTREAM

SHIPPED = sorted(path.stem for path in ENVIRONMENTS_DIR.glob("*.yaml"))

# release -> (default values file, {subchart key: its default values file})
CHART_DEFAULTS = {
    "karpenter": ("karpenter/charts/karpenter/values.yaml", {}),
    "gpu-operator": ("gpu-operator/charts/gpu-operator/values.yaml", {}),
    "kserve": ("kserve/charts/kserve-resources/values.yaml", {}),
    "kserve-runtime-configs": ("kserve/charts/kserve-runtime-configs/values.yaml", {}),
    "argo-workflows": ("argo/charts/argo-workflows/values.yaml", {}),
    "opea-chatqna": ("opea-genaiinfra/charts/chatqna/values.yaml", {
        "vllm": "opea-genaiinfra/charts/vllm/values.yaml",
        "tgi": "opea-genaiinfra/charts/tgi/values.yaml",
    }),
}
MLFLOW_SCHEMA = "mlflow/charts/mlflow/values.schema.json"
MLFLOW_DEFAULTS = "mlflow/charts/mlflow/values.yaml"
# Upstream says kserve-crd's values.yaml is empty: we must set nothing.
EMPTY_VALUES = {"kserve-crd"}
# No upstream data in /work/shared for these charts: their values are kept to a few well-known keys.
NO_UPSTREAM_DATA = {"cert-manager", "aws-load-balancer-controller", "external-secrets", "kube-prometheus-stack"}

# Documented exceptions. Maps whose keys are free-form by design (Kubernetes labels, annotations,
# selectors, env maps) and any map the chart defaults to `{}` are not checked below their own key.
FREE_FORM_KEYS = {"annotations", "labels", "podLabels", "podAnnotations", "nodeSelector", "extraArgs",
                  "additionalLabels", "extraEnvVars", "commonLabels",
                  "resources"}  # a Kubernetes ResourceRequirements: requests/limits per resource name
# ChatQnA subcharts whose values files are not in /work/shared: their keys are not in the parent's
# values.yaml. Key names checked against GenAIInfra v1.4 helm-charts/common/{tei,teirerank}/values.yaml.
UNLISTED_SUBCHART_KEYS = {"tei.EMBEDDING_MODEL_ID", "teirerank.RERANK_MODEL_ID"}


def read_yaml(relative: str) -> dict:
    return yaml.safe_load((UPSTREAM / relative).read_text()) or {}


def platform_for(name: str):
    env = load_environment(name)
    return env, build_platform(env, AwsOutputs.predict(env))


def unknown_key_paths(values: dict, defaults: dict, path: tuple[str, ...] = ()) -> list[str]:
    unknown = []
    for key, value in values.items():
        here = path + (str(key),)
        dotted = ".".join(here)
        if dotted in UNLISTED_SUBCHART_KEYS:
            continue
        if not isinstance(defaults, dict) or key not in defaults:
            unknown.append(dotted)
            continue
        default = defaults[key]
        if isinstance(value, dict) and key not in FREE_FORM_KEYS and default != {} and default is not None:
            if isinstance(default, dict):
                unknown += unknown_key_paths(value, default, here)
            else:
                unknown.append(f"{dotted} (a map where the chart has {type(default).__name__})")
    return unknown


def chart_defaults(release: str) -> dict:
    main, subcharts = CHART_DEFAULTS[release]
    defaults = read_yaml(main)
    for key, relative in subcharts.items():
        defaults[key] = deep_merge(read_yaml(relative), defaults.get(key) or {})
    return defaults


def test_every_release_is_checked_against_upstream_or_listed_as_without_data():
    _, platform = platform_for("dev")
    releases = {c.name for c in platform.releases}
    covered = set(CHART_DEFAULTS) | {"mlflow"} | EMPTY_VALUES | NO_UPSTREAM_DATA
    assert releases == covered


@pytest.mark.parametrize("env_name", SHIPPED)
def test_values_key_paths_exist_in_upstream_defaults(env_name):
    _, platform = platform_for(env_name)
    for release in CHART_DEFAULTS:
        values = platform.component(release).values
        assert values, release
        assert unknown_key_paths(values, chart_defaults(release)) == [], release


@pytest.mark.parametrize("env_name", SHIPPED)
def test_charts_without_values_get_none(env_name):
    _, platform = platform_for(env_name)
    for release in EMPTY_VALUES:
        assert platform.component(release).values == {}


def test_key_path_check_catches_a_typo():
    _, platform = platform_for("dev")
    values = copy.deepcopy(platform.component("kserve").values)
    values["kserve"]["controller"]["deploymentmode"] = values["kserve"]["controller"].pop("deploymentMode")
    assert unknown_key_paths(values, chart_defaults("kserve")) == ["kserve.controller.deploymentmode"]


@pytest.mark.parametrize("env_name", SHIPPED)
def test_mlflow_values_validate_against_the_chart_schema(env_name):
    _, platform = platform_for(env_name)
    schema = json.loads((UPSTREAM / MLFLOW_SCHEMA).read_text())
    merged = deep_merge(read_yaml(MLFLOW_DEFAULTS), platform.component("mlflow").values)
    jsonschema.Draft7Validator(schema).validate(merged)


def test_mlflow_schema_check_catches_a_typo_and_a_second_backend():
    _, platform = platform_for("dev")
    validator = jsonschema.Draft7Validator(json.loads((UPSTREAM / MLFLOW_SCHEMA).read_text()))
    defaults = read_yaml(MLFLOW_DEFAULTS)
    typo = copy.deepcopy(platform.component("mlflow").values)
    typo["backendStore"]["postgres"]["hostname"] = typo["backendStore"]["postgres"].pop("host")
    assert not validator.is_valid(deep_merge(defaults, typo))
    two_backends = deep_merge(defaults, platform.component("mlflow").values, {"postgresql": {"enabled": True}})
    assert not validator.is_valid(two_backends)


def test_kserve_runs_in_standard_mode_without_knative():
    _, platform = platform_for("dev")
    controller = platform.component("kserve").values["kserve"]["controller"]
    assert controller["deploymentMode"] == "Standard"
    assert read_yaml(CHART_DEFAULTS["kserve"][0])["kserve"]["controller"]["deploymentMode"] == "Knative"


def test_argo_installs_its_crds_from_the_chart_not_from_github():
    _, platform = platform_for("prod")
    values = platform.component("argo-workflows").values
    assert values["crds"] == {"install": True, "full": False}
    assert read_yaml(CHART_DEFAULTS["argo-workflows"][0])["crds"]["full"] is True  # the default we override
    s3 = values["artifactRepository"]["s3"]
    assert s3["useSDKCreds"] is True and values["useStaticCredentials"] is False
    assert not {"accessKeySecret", "secretKeySecret"} & set(s3)


@pytest.mark.parametrize("env_name", SHIPPED)
def test_irsa_service_accounts_match_the_aws_layer(env_name):
    env, platform = platform_for(env_name)
    arns = AwsOutputs.predict(env).irsa_role_arns

    def by_release(release: str, *path: str) -> tuple[str, str, str]:
        component = platform.component(release)
        sa = component.values
        for key in path:
            sa = sa[key]
        return component.namespace, sa["name"], sa["annotations"][IRSA_ANNOTATION]

    kserve_sa = next(m for m in platform.component("kserve").prerequisites if m["kind"] == "ServiceAccount")
    found = {
        "aws-load-balancer-controller": by_release("aws-load-balancer-controller", "serviceAccount"),
        "karpenter": by_release("karpenter", "serviceAccount"),
        "mlflow": by_release("mlflow", "serviceAccount"),
        "external-secrets": by_release("external-secrets", "serviceAccount"),
        "argo-workflows": by_release("argo-workflows", "workflow", "serviceAccount"),
        "kserve": (kserve_sa["metadata"]["namespace"], kserve_sa["metadata"]["name"],
                   kserve_sa["metadata"]["annotations"][IRSA_ANNOTATION]),
    }
    # The CSI drivers are EKS add-ons of the AWS layer, not charts of this layer.
    assert set(found) == set(SERVICE_ACCOUNTS) - {"ebs-csi", "efs-csi"}
    for key, (namespace, name, arn) in found.items():
        assert (namespace, name) == SERVICE_ACCOUNTS[key], key
        assert arn == arns[key], key


def test_karpenter_and_load_balancer_settings_come_from_outputs():
    env, platform = platform_for("staging")
    outputs = AwsOutputs.predict(env)
    settings = platform.component("karpenter").values["settings"]
    assert settings["clusterName"] == outputs.cluster_name
    assert settings["interruptionQueue"] == outputs.karpenter_interruption_queue_name
    lbc = platform.component("aws-load-balancer-controller").values
    assert (lbc["clusterName"], lbc["region"]) == (outputs.cluster_name, env.region)
    assert "vpcId" not in lbc  # predicted outputs know no VPC id yet

    applied = build_platform(env, AwsOutputs(**{**outputs.__dict__, "vpc_id": "vpc-0abc", "predicted": False}))
    assert applied.component("aws-load-balancer-controller").values["vpcId"] == "vpc-0abc"


def test_mlflow_uses_rds_and_s3_without_credentials_in_values():
    env, platform = platform_for("dev")
    outputs = AwsOutputs.predict(env)
    values = platform.component("mlflow").values
    postgres = values["backendStore"]["postgres"]
    assert (postgres["host"], postgres["port"], postgres["database"]) == (outputs.db_endpoint, outputs.db_port, outputs.db_name)
    assert "user" not in postgres and "password" not in postgres
    assert values["backendStore"]["existingDatabaseSecret"]["name"] == "mlflow-db"
    assert values["artifactRoot"]["s3"] == {"enabled": True, "bucket": outputs.bucket_names["artifacts"], "path": "mlflow"}
    external = next(m for m in platform.component("mlflow").prerequisites if m["kind"] == "ExternalSecret")
    assert external["spec"]["target"]["name"] == "mlflow-db"
    assert {d["remoteRef"]["key"] for d in external["spec"]["data"]} == {outputs.db_master_secret_arn}


def test_chatqna_follows_the_flow_and_the_llm_server():
    data = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())
    env = load_environment("dev")
    values = build_platform(env, AwsOutputs.predict(env)).component("opea-chatqna").values
    assert values["teirerank"] == {"enabled": True, "RERANK_MODEL_ID": env.genai.chatqna.reranking_model}
    assert values["tei"]["EMBEDDING_MODEL_ID"] == env.genai.chatqna.embedding_model
    assert values["vllm"]["LLM_MODEL_ID"] == env.genai.chatqna.llm_model and values["tgi"]["enabled"] is False

    data["genai"]["chatqna"].update(flow=["embedding", "retrieval", "llm"], llm_serving="tgi",
                                    llm_node_pool="h100", llm_gpu={"count": 1})
    changed = Environment.model_validate(data)
    values = build_platform(changed, AwsOutputs.predict(changed)).component("opea-chatqna").values
    assert values["teirerank"]["enabled"] is False  # not in the flow: not deployed
    assert values["retriever-usvc"]["enabled"] and values["redis-vector-db"]["enabled"] and values["tei"]["enabled"]
    assert values["vllm"]["enabled"] is False
    tgi = values["tgi"]
    assert tgi["enabled"] and tgi["LLM_MODEL_ID"] == changed.genai.chatqna.llm_model
    assert tgi["nodeSelector"] == {"eksml.io/pool": "h100"}
    assert tgi["tolerations"] == [{"key": "gpu", "operator": "Equal", "effect": "NoSchedule", "value": "h100"}]
    assert tgi["resources"]["limits"] == {"nvidia.com/gpu": 1}
    assert unknown_key_paths(values, chart_defaults("opea-chatqna")) == []
