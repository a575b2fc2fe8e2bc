"""Every object eksml applies, against the real schemas: the Kubernetes OpenAPI schema
(kubernetes_validate) for built-in kinds, and for custom resources the CRDs the real charts install
(rendered once per session by tests/rendered_platform.py), strictly: an unknown field is an error."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from eksml.catalog.addon_apis import addon_releases
from eksml.outputs import predict_outputs
from eksml.charts.kube_yaml import ManifestObject
from eksml.config import load_environment
from eksml.config.models import Environment
from eksml.k8s.checks.crd_schema import custom_resource_errors
from eksml.k8s.model.manifests import object_path
from eksml.k8s.checks.object_checks import Placed, check_objects, crd_index
from eksml.k8s.model.platform import build_platform
from eksml.k8s.rendering.render import RenderResult
from eksml.k8s.checks.scheduling import platform_workloads
from eksml.contract.outputs import AwsOutputs
from shipped import SHIPPED, shipped_data

DEV = shipped_data("dev")


def owned_objects(env: Environment) -> list[dict]:
    platform = build_platform(env, predict_outputs(env))
    return [m for c in platform.components for m in (*c.prerequisites, *c.objects)]


def chart_crds(result: RenderResult) -> list[Placed]:
    return [Placed(r.name, o, frozenset(), "manifests") for r in result.charts.releases for o in r.objects
            if o.kind == "CustomResourceDefinition"]


def k8s_version(env: Environment) -> str:
    return env.cluster.kubernetes_version


@pytest.mark.parametrize("env_name", SHIPPED)
def test_owned_objects_validate_against_kubernetes_or_the_charts_crds(env_name, dev_render: RenderResult):
    env = load_environment(env_name)
    platform = build_platform(env, predict_outputs(env))
    crds = chart_crds(dev_render)
    everything = frozenset(c.name for c in platform.components) | {r.release for r in crds} | addon_releases()
    owned = [Placed(c.name, ManifestObject("eksml", m), everything, object_path(c.name, m))
             for c in platform.components for m in (*c.prerequisites, *c.objects)]
    assert check_objects(crds + owned, k8s_version(env), {c.name: c.namespace for c in platform.components}) == []
    kinds = {(p.obj.body["apiVersion"], p.obj.kind) for p in owned}
    assert ("karpenter.sh/v1", "NodePool") in kinds and ("v1", "Namespace") in kinds
    assert ("external-secrets.io/v1", "ExternalSecret") in kinds  # its CRD now comes from the chart


def test_schema_validation_would_catch_a_wrong_field(dev_render: RenderResult):
    env = load_environment("dev")
    pool = next(m for m in owned_objects(env) if m["kind"] == "NodePool")
    broken = copy.deepcopy(pool)
    broken["spec"]["disruption"]["consolidationPolicy"] = "Sometimes"
    crd = crd_index(chart_crds(dev_render))[("karpenter.sh", "NodePool")].obj.body
    errors = dict(custom_resource_errors(broken, crd, "v1"))
    assert "Sometimes" in errors["spec.disruption.consolidationPolicy"]
    quota = copy.deepcopy(next(m for m in owned_objects(env) if m["kind"] == "ResourceQuota"))
    quota["spec"]["hardLimits"] = quota["spec"].pop("hard")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(quota, "1.33", strict=True)


def test_an_object_found_valid_before_does_not_hide_a_broken_copy(dev_render: RenderResult):
    """A process remembers which objects validated clean: the copy that differs in one field, and a
    broken object seen a second time, are each checked in full."""
    env = load_environment("dev")
    crds = crd_index(chart_crds(dev_render))
    owned = owned_objects(env)
    pool = next(m for m in owned if m["kind"] == "NodePool")
    quota = next(m for m in owned if m["kind"] == "ResourceQuota")
    broken_pool, broken_quota = copy.deepcopy(pool), copy.deepcopy(quota)
    broken_pool["spec"]["disruption"]["consolidationPolicy"] = "Sometimes"
    broken_quota["spec"]["hardLimits"] = broken_quota["spec"].pop("hard")

    def issues(body: dict) -> list[str]:
        placed = Placed("karpenter-nodepools", ManifestObject("eksml", body), frozenset({"karpenter"}), "objects")
        found = check_objects([*crds.values(), placed], k8s_version(env), {"karpenter-nodepools": "karpenter"})
        return [f"{i.path}: {i.message}" for i in found if "namespace" not in i.message]

    for _ in range(2):
        assert issues(pool) == [] and issues(quota) == []
        assert any("spec.disruption.consolidationPolicy: " in i and "Sometimes" in i for i in issues(broken_pool))
        assert any("hardLimits" in i for i in issues(broken_quota))


def test_keys_of_mixed_types_are_validated_not_crashed_on():
    """An overlay can put 1: and "b": side by side (YAML allows it): remembering clean objects must
    not need to order them, and a key 1 is not the key "1"."""
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "odd", "namespace": "default"},
            "data": {1: "one", "b": "two"}}
    placed = Placed("eksml-test", ManifestObject("eksml", body), frozenset(), "objects")
    first = check_objects([placed], "1.33")
    assert first == check_objects([placed], "1.33")
    quoted = copy.deepcopy(body)
    quoted["data"] = {"1": "one", "b": "two"}
    assert check_objects([Placed("eksml-test", ManifestObject("eksml", quoted), frozenset(), "objects")], "1.33") == []


@pytest.mark.parametrize("env_name", SHIPPED)
def test_pod_fragments_in_rendered_values_are_valid_pod_fields(env_name):
    """nodeSelector, tolerations, affinity and resources we compute land in pod specs verbatim."""
    env = load_environment(env_name)
    platform = build_platform(env, predict_outputs(env))
    # pod fragments in values (owned objects such as InferenceServices are checked whole, above)
    workloads = [w for w in platform_workloads(platform)
                 if (w.node_selector or w.tolerations) and w.source.endswith(".values.yaml")]
    assert workloads
    for workload in workloads:
        component = platform.component(workload.component).values
        node = component
        for key in workload.path.split(".") if workload.path != "(top level)" else ():
            node = node[key]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe"}, "spec": {
            "containers": [{"name": "c", "image": "x", "resources": node.get("resources", {})}],
            "nodeSelector": node.get("nodeSelector", {}),
            "tolerations": node.get("tolerations", []),
            **({"affinity": node["affinity"]} if node.get("affinity") else {}),
        }}
        kubernetes_validate.validate(pod, k8s_version(env), strict=True)


def test_nodepools_from_karpenter_pools():
    env = load_environment("dev")
    objects = owned_objects(env)
    pools = {m["metadata"]["name"]: m for m in objects if m["kind"] == "NodePool"}
    classes = {m["metadata"]["name"]: m for m in objects if m["kind"] == "EC2NodeClass"}
    assert set(pools) == set(classes) == set(env.karpenter.node_pools)
    gpu = pools["gpu-workloads"]["spec"]
    requirements = {r["key"]: r["values"] for r in gpu["template"]["spec"]["requirements"]}
    # reservations first, then spot, then on-demand (dev's gpu-workloads)
    assert requirements["karpenter.sh/capacity-type"] == ["reserved", "spot", "on-demand"]
    assert requirements["karpenter.k8s.aws/instance-family"] == ["g5", "g6e", "p4d"]
    assert gpu["limits"] == {"nvidia.com/gpu": "16"}
    assert gpu["template"]["spec"]["taints"] == [{"key": "nvidia.com/gpu", "effect": "NoSchedule", "value": "true"}]
    assert gpu["template"]["metadata"]["labels"] == {"eksml.io/pool": "gpu-workloads"}
    assert pools["training-workloads"]["spec"]["limits"] == {"cpu": "512"}
    assert requirements.get("karpenter.k8s.aws/instance-gpu-name") is None  # not an overflow pool

    node_class = classes["gpu-workloads"]["spec"]
    discovery = {"karpenter.sh/discovery": env.cluster.name}
    assert node_class["subnetSelectorTerms"] == [{"tags": discovery}]
    assert node_class["securityGroupSelectorTerms"] == [{"tags": discovery}]
    assert node_class["role"] == predict_outputs(env).karpenter_node_role_name
    ami_date = env.cluster.ami_release_version.rsplit("-", 1)[1]
    assert node_class["amiSelectorTerms"] == [{"alias": f"al2023@v{ami_date}"}]  # pinned like the node groups
    ebs = node_class["blockDeviceMappings"][0]["ebs"]
    assert (ebs["volumeType"], ebs["encrypted"], ebs["volumeSize"]) == ("gp3", True, "200Gi")
    assert classes["training-workloads"]["spec"]["blockDeviceMappings"][0]["ebs"]["volumeSize"] == "50Gi"

    local = load_environment("local")  # no ami_release_version: follow the latest AL2023 AMI
    local_class = next(m for m in owned_objects(local) if m["kind"] == "EC2NodeClass")
    assert local_class["spec"]["amiSelectorTerms"] == [{"alias": "al2023@latest"}]


def test_overflow_pool_copies_the_fixed_pools_labels_taints_and_sharing_label():
    data = copy.deepcopy(DEV)
    data["karpenter"]["node_pools"]["mig-overflow"] = {
        "instance_families": ["p4de", "p4d"], "capacity_types": ["spot", "on-demand"], "gpu_limit": 8,
        "overflow_for": "a100-mig", "taints": [{"key": "capacity", "value": "elastic", "effect": "PreferNoSchedule"}],
    }
    env = Environment.model_validate(data)
    pool = next(m for m in owned_objects(env) if m["kind"] == "NodePool" and m["metadata"]["name"] == "mig-overflow")
    template = pool["spec"]["template"]
    assert template["metadata"]["labels"] == {
        "workload-type": "production-inference", "nvidia.com/mig.config": "eksml-a100-mig", "eksml.io/pool": "a100-mig",
    }
    assert template["spec"]["taints"] == [
        {"key": "gpu", "effect": "NoSchedule", "value": "mig"},
        {"key": "capacity", "effect": "PreferNoSchedule", "value": "elastic"},
    ]
    requirements = {r["key"]: r["values"] for r in template["spec"]["requirements"]}
    # The copied MIG layout is for A100 80GB only: p4d (A100 40GB) nodes must not be launched for it.
    assert requirements["karpenter.k8s.aws/instance-gpu-name"] == ["a100"]
    assert requirements["karpenter.k8s.aws/instance-gpu-memory"] == ["81920"]


def test_overflow_pool_without_the_fixed_pools_gpu_is_refused_by_validation():
    """The Karpenter NodePool would copy a sharing config made for another GPU: `validate` refuses
    it, so `render` never sees it."""
    from eksml.config.rules import check_environment

    data = copy.deepcopy(DEV)
    data["karpenter"]["node_pools"]["mig-overflow"] = {
        "instance_families": ["g5"], "capacity_types": ["spot"], "overflow_for": "a100-mig",
    }
    findings = dict(check_environment(Environment.model_validate(data)))
    message = findings["karpenter.node_pools.mig-overflow.instance_families"]
    assert "A100-80GB" in message and "g5" in message


def test_team_namespaces_quotas_and_pod_security():
    env = load_environment("prod")
    objects = owned_objects(env)
    namespaces = {m["metadata"]["name"]: m["metadata"]["labels"] for m in objects if m["kind"] == "Namespace"}
    for team in env.teams:
        labels = namespaces[team]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
        assert labels["pod-security.kubernetes.io/enforce-version"] == f"v{env.cluster.kubernetes_version}"
        assert labels["eksml.io/team"] == team
    assert namespaces["gpu-operator"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespaces["mlflow"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert "kube-system" not in namespaces
    quotas = {m["metadata"]["namespace"]: m["spec"]["hard"] for m in objects if m["kind"] == "ResourceQuota"}
    assert quotas["research"]["requests.nvidia.com/gpu"] == "8"
    assert quotas["inference"]["requests.nvidia.com/gpu"] == "16"
    # 16 GPUs' worth of MIG slices of the a100-mig layout [3g.40gb, 2g.20gb, 1g.10gb, 1g.10gb].
    assert quotas["inference"]["requests.nvidia.com/mig-3g.40gb"] == "16"
    assert quotas["inference"]["requests.nvidia.com/mig-1g.10gb"] == "32"
    priorities = {m["metadata"]["name"]: m for m in objects if m["kind"] == "PriorityClass"}
    assert set(priorities) == {"production-inference", "training", "batch"}
    assert priorities["production-inference"]["value"] > priorities["training"]["value"] > priorities["batch"]["value"]
    assert priorities["batch"]["preemptionPolicy"] == "Never"


def test_network_policies_isolate_every_namespace_both_ways():
    env = load_environment("dev")
    objects = owned_objects(env)
    policies = [m for m in objects if m["kind"] == "NetworkPolicy"]
    by_ns: dict[str, dict[str, dict]] = {}
    for policy in policies:
        by_ns.setdefault(policy["metadata"]["namespace"], {})[policy["metadata"]["name"]] = policy["spec"]
    namespaces = {m["metadata"]["name"] for m in objects if m["kind"] == "Namespace"}
    assert {*env.teams, "mlflow", "chatqna", "kserve", "cert-manager"} <= namespaces
    for ns in namespaces:
        assert by_ns[ns]["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        scrape = by_ns[ns]["allow-monitoring-scrape"]["ingress"][0]["from"][0]
        assert scrape == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        dns = by_ns[ns]["allow-dns"]["egress"][0]
        assert {p["protocol"] for p in dns["ports"]} == {"UDP", "TCP"}
    # The API server calls webhooks from the VPC: admitted on the webhook's port only.
    assert by_ns["cert-manager"]["allow-api-server-cert-manager"]["ingress"][0]["ports"] == [
        {"protocol": "TCP", "port": "https"}]
    assert by_ns["mlflow"]["allow-to-vpc-5432"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]
    sources = by_ns["mlflow"]["allow-platform-callers"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchExpressions": [{"key": "eksml.io/team", "operator": "Exists"}]}} in sources
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "argo"}}} in sources
    inference = by_ns["research"]["allow-inference-clients"]
    assert inference["podSelector"] == {"matchExpressions": [{"key": "serving.kserve.io/inferenceservice", "operator": "Exists"}]}


def test_a_team_named_like_a_platform_namespace_is_bad_input():
    from eksml.errors import ConfigError

    data = copy.deepcopy(DEV)
    data["teams"]["mlflow"] = {"gpu_quota": 1}
    with pytest.raises(ConfigError) as caught:
        owned_objects(Environment.model_validate(data))
    assert caught.value.issues[0].path == "teams.mlflow"


def test_alert_rules():
    env = load_environment("dev")
    rule_object = next(m for m in owned_objects(env) if m["kind"] == "PrometheusRule")
    rules = {r["alert"]: r for r in rule_object["spec"]["groups"][0]["rules"]}
    assert set(rules) == {"HighInferenceLatency", "HighInferenceErrorRate", "InferenceServiceRestarts",
                          "MLflowDown", "HighPipelineFailureRate", "LowGPUUtilization"}
    assert rules["HighInferenceLatency"]["for"] == "5m" and "histogram_quantile(0.95" in rules["HighInferenceLatency"]["expr"]
    assert rules["HighInferenceLatency"]["expr"].count("> 1") == 2
    assert rules["HighInferenceErrorRate"]["for"] == "5m" and rules["HighInferenceErrorRate"]["expr"].endswith("> 0.05")
    assert "[1h]" in rules["InferenceServiceRestarts"]["expr"] and rules["InferenceServiceRestarts"]["expr"].endswith("> 3")
    assert rules["MLflowDown"]["for"] == "2m"
    assert "[1h]" in rules["HighPipelineFailureRate"]["expr"] and rules["HighPipelineFailureRate"]["expr"].endswith("> 0.1")
    assert rules["LowGPUUtilization"]["for"] == "30m" and "DCGM_FI_DEV_GPU_UTIL" in rules["LowGPUUtilization"]["expr"]
    assert rules["LowGPUUtilization"]["expr"].endswith("< 20")
    for team in env.teams:  # inference alerts cover the team namespaces
        assert team in rules["InferenceServiceRestarts"]["expr"]
