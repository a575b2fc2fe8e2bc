"""Helm values against the charts themselves: the values reach the objects the real charts render
(tests/rendered_platform.py renders dev once per session), and mlflow's values against the chart
package's own values.schema.json.

This replaces the earlier check of our key paths against copies of the charts' default values: a
key the chart ignores now shows as an object that lacks what we meant to set.
"""

from __future__ import annotations

import copy
import json
import tarfile

import jsonschema
import pytest
import yaml
from chart_repo import CHARTS_DIR

from eksml.components import identities
from eksml.outputs import irsa_service_accounts
from eksml.outputs import predict_outputs
from eksml.charts.kube_yaml import ManifestObject
from eksml.config import load_environment
from eksml.config.models import Environment
from eksml.k8s.model.context import IRSA_ANNOTATION
from eksml.k8s.model.platform import build_platform
from eksml.k8s.rendering.render import RenderResult
from eksml.k8s.model.values import deep_merge
from eksml.contract.outputs import AwsOutputs
from eksml.paths import ENVIRONMENTS_DIR
from shipped import SHIPPED, with_chart_llm

SERVICE_ACCOUNTS = irsa_service_accounts()
MLFLOW_PACKAGE = CHARTS_DIR / "mlflow-1.11.5.tgz"


def chart_file(package, member: str) -> str:
    with tarfile.open(package) as archive:
        return archive.extractfile(member).read().decode()


def platform_for(name: str):
    env = load_environment(name)
    return env, build_platform(env, predict_outputs(env))


def rendered(result: RenderResult, release: str, kind: str, name: str) -> ManifestObject:
    [found] = [o for o in result.charts.release(release).objects if o.kind == kind and o.name == name]
    return found


@pytest.mark.parametrize("env_name", SHIPPED)
def test_charts_without_values_get_none(env_name):
    _, platform = platform_for(env_name)
    assert platform.component("kserve-crd").values == {}


@pytest.mark.parametrize("env_name", SHIPPED)
def test_mlflow_values_validate_against_the_chart_schema(env_name):
    _, platform = platform_for(env_name)
    schema = json.loads(chart_file(MLFLOW_PACKAGE, "mlflow/values.schema.json"))
    merged = deep_merge(yaml.safe_load(chart_file(MLFLOW_PACKAGE, "mlflow/values.yaml")), platform.component("mlflow").values)
    jsonschema.Draft7Validator(schema).validate(merged)


def test_mlflow_schema_check_catches_a_typo_and_a_second_backend():
    _, platform = platform_for("dev")
    validator = jsonschema.Draft7Validator(json.loads(chart_file(MLFLOW_PACKAGE, "mlflow/values.schema.json")))
    defaults = yaml.safe_load(chart_file(MLFLOW_PACKAGE, "mlflow/values.yaml"))
    typo = copy.deepcopy(platform.component("mlflow").values)
    typo["backendStore"]["postgres"]["hostname"] = typo["backendStore"]["postgres"].pop("host")
    assert not validator.is_valid(deep_merge(defaults, typo))
    two_backends = deep_merge(defaults, platform.component("mlflow").values, {"postgresql": {"enabled": True}})
    assert not validator.is_valid(two_backends)


def test_kserve_runs_in_standard_mode_without_knative(dev_render: RenderResult):
    config = rendered(dev_render, "kserve", "ConfigMap", "inferenceservice-config")
    assert json.loads(config.body["data"]["deploy"])["defaultDeploymentMode"] == "Standard"
    kinds = {o.kind for o in dev_render.charts.release("kserve").objects}
    assert not {"KnativeServing", "Gateway"} & kinds


def test_argo_installs_its_crds_from_the_chart_not_from_github(dev_render: RenderResult):
    _, platform = platform_for("prod")
    values = platform.component("argo-workflows").values
    assert values["crds"] == {"install": True, "full": False}
    crd = rendered(dev_render, "argo-workflows", "CustomResourceDefinition", "workflows.argoproj.io")
    schema = crd.body["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert schema["properties"]["spec"].get("x-kubernetes-preserve-unknown-fields") is True  # the minimal CRDs
    s3 = values["artifactRepository"]["s3"]
    assert s3["useSDKCreds"] is True and values["useStaticCredentials"] is False
    assert not {"accessKeySecret", "secretKeySecret"} & set(s3)


# IRSA key -> the component whose ServiceAccount eksml renders as an object of its own (not chart values).
OWNED_ACCOUNTS = {"kserve": "kserve", "ml-pipeline": "ml-pipeline"}


def test_irsa_annotations_reach_the_rendered_service_accounts(dev_render: RenderResult):
    arns = predict_outputs(load_environment("dev")).irsa_role_arns
    for key, (namespace, name) in SERVICE_ACCOUNTS.items():
        if key in ("ebs-csi", "mlflow", *OWNED_ACCOUNTS):  # EKS add-on; mlflow not templated; the rest eksml's own
            continue
        [account] = [o for r in dev_render.charts.releases for o in r.objects
                     if o.kind == "ServiceAccount" and o.name == name and (o.namespace or r.component.namespace) == namespace]
        assert account.body["metadata"]["annotations"][IRSA_ANNOTATION] == arns[key], key


@pytest.mark.parametrize("env_name", SHIPPED)
def test_irsa_service_accounts_match_the_aws_layer(env_name):
    env, platform = platform_for(env_name)
    arns = predict_outputs(env).irsa_role_arns

    def by_release(release: str, *path: str) -> tuple[str, str, str]:
        component = platform.component(release)
        sa = component.values
        for key in path:
            sa = sa[key]
        return component.namespace, sa["name"], sa["annotations"][IRSA_ANNOTATION]

    # Where each chart takes its service account (the charts differ); OWNED_ACCOUNTS are objects.
    paths = {
        "aws-load-balancer-controller": ("aws-load-balancer-controller", "serviceAccount"),
        "karpenter": ("karpenter", "serviceAccount"),
        "mlflow": ("mlflow", "serviceAccount"),
        "external-secrets": ("external-secrets", "serviceAccount"),
        "efs-csi": ("aws-efs-csi-driver", "controller", "serviceAccount"),
        "argo-workflows": ("argo-workflows", "workflow", "serviceAccount"),
        "fluent-bit": ("aws-for-fluent-bit", "serviceAccount"),
        "otel-collector": ("opentelemetry-collector", "serviceAccount"),
        "velero": ("velero", "serviceAccount", "server"),
    }
    installed = {c.name for c in platform.components}
    found = {key: by_release(*path) for key, path in paths.items() if path[0] in installed}
    for key, release in OWNED_ACCOUNTS.items():  # ServiceAccounts eksml renders itself
        if release in installed:
            component = platform.component(release)
            account = next(m for m in (*component.prerequisites, *component.objects) if m["kind"] == "ServiceAccount")
            found[key] = (account["metadata"]["namespace"], account["metadata"]["name"],
                          account["metadata"]["annotations"][IRSA_ANNOTATION])
    # The EBS CSI driver is an EKS add-on of the AWS layer, not a chart of this layer.
    expected = {key for key in SERVICE_ACCOUNTS if key != "ebs-csi"}
    expected -= {identity.key for spec, identity in identities() if spec.name not in installed}
    assert set(found) == expected
    for key, (namespace, name, arn) in found.items():
        assert (namespace, name) == SERVICE_ACCOUNTS[key], key
        assert arn == arns[key], key


def test_karpenter_and_load_balancer_settings_come_from_outputs():
    env, platform = platform_for("staging")
    outputs = predict_outputs(env)
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
    outputs = predict_outputs(env)
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
    data = with_chart_llm(yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text()))
    env = Environment.model_validate(data)  # dev with ChatQnA's own vLLM (dev itself calls KServe's model)
    values = build_platform(env, predict_outputs(env)).component("opea-chatqna").values
    assert (values["teirerank"]["enabled"], values["teirerank"]["RERANK_MODEL_ID"]) == (
        True, env.genai.chatqna.reranking_model)
    assert values["tei"]["EMBEDDING_MODEL_ID"] == env.genai.chatqna.embedding_model
    assert values["vllm"]["LLM_MODEL_ID"] == env.genai.chatqna.llm_model and values["tgi"]["enabled"] is False

    data["genai"]["chatqna"].update(flow=["embedding", "retrieval", "llm"], llm_serving="tgi",
                                    llm_node_pool="h100", llm_gpu={"count": 1})
    changed = Environment.model_validate(data)
    values = build_platform(changed, predict_outputs(changed)).component("opea-chatqna").values
    assert values["teirerank"]["enabled"] is False  # not in the flow: not deployed
    assert values["retriever-usvc"]["enabled"] and values["redis-vector-db"]["enabled"] and values["tei"]["enabled"]
    assert values["vllm"]["enabled"] is False
    tgi = values["tgi"]
    assert tgi["enabled"] and tgi["LLM_MODEL_ID"] == changed.genai.chatqna.llm_model
    assert tgi["nodeSelector"] == {"eksml.io/pool": "h100"}
    assert tgi["tolerations"] == [{"key": "gpu", "operator": "Equal", "effect": "NoSchedule", "value": "h100"}]
    assert tgi["resources"]["limits"] == {"nvidia.com/gpu": 1}


def test_fluent_bit_ships_to_the_log_group_the_aws_layer_owns(dev_render):
    from eksml.contract.names import pod_log_group_name

    [config] = [o for r in dev_render.charts.releases if r.name == "aws-for-fluent-bit" for o in r.objects
                if o.kind == "ConfigMap"]
    text = "\n".join(config.body["data"].values())
    assert f"log_group_name        {pod_log_group_name('mlplatform-dev')}" in text
    assert "auto_create_group" not in text or "false" in text.split("auto_create_group")[1].splitlines()[0]
    assert "log_stream_prefix" in text  # the fallback the plugin requires
    [daemonset] = [o for r in dev_render.charts.releases if r.name == "aws-for-fluent-bit" for o in r.objects
                   if o.kind == "DaemonSet"]
    pod = daemonset.body["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"operator": "Exists"}]  # GPU nodes log too
    assert {m["mountPath"]: m.get("readOnly", False) for m in pod["containers"][0]["volumeMounts"]}["/var/log"] is True
