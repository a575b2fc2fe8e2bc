"""Real charts rendered by the real Helm (the project's .tools/bin/helm): objects out, Helm's own checks
surfaced as one line per problem, manifests read the way Kubernetes reads them, and mlflow rendered as
Helm would with its missing (disabled) subchart left out, said openly, and refused when switched on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from chart_repo import CHARTS_DIR, ChartServer

from eksml.charts import ChartCache, ChartRequest
from eksml.charts.kube_version import satisfies
from eksml.charts.disabled_deps import condition_value, merged_values
from eksml.charts.kube_yaml import load, read_manifest
from eksml.charts.package import read_chart
from eksml.charts.template import render_release
from eksml.errors import ConfigError, StageError
from eksml.kube_tools import helm_binary


@pytest.fixture(scope="module")
def helm() -> Path:
    return helm_binary()  # a StageError here means `make install` did not run


def render(helm: Path, package: str, values: dict, *, release: str = "test", kube: str = "1.33", api_versions=()):
    return render_release(CHARTS_DIR / package, release, "platform", values, kube, api_versions, helm=helm)


def issues_of(error: ConfigError) -> list[tuple[str, str]]:
    return [(issue.path, issue.message) for issue in error.issues]


def test_cert_manager_from_the_mirror_renders_to_objects_with_our_values(chart_mirror: ChartServer, helm: Path):
    cached = ChartCache().get(ChartRequest("cert-manager", "v1.19.1", chart_mirror.url, release="cert-manager"))
    result = render_release(cached.path, "cert-manager", "cert-manager", {"crds": {"enabled": True}, "replicaCount": 2},
                            "1.33", helm=helm)
    assert result.rendered and result.status == "rendered: yes"
    objects = result.objects()
    kinds = {o.kind for o in objects}
    assert {"Deployment", "ServiceAccount", "ClusterRole", "CustomResourceDefinition", "MutatingWebhookConfiguration"} <= kinds
    crds = {o.name for o in objects if o.kind == "CustomResourceDefinition"}
    assert "certificates.cert-manager.io" in crds
    controller = next(o for o in objects if o.kind == "Deployment" and o.name == "cert-manager")
    assert controller.namespace == "cert-manager"
    assert controller.body["spec"]["replicas"] == 2
    assert controller.source == "cert-manager/templates/deployment.yaml"
    assert controller.body["metadata"]["labels"]["app.kubernetes.io/instance"] == "cert-manager"


def test_the_kubernetes_version_reaches_the_templates(helm: Path):
    older = render(helm, "karpenter-1.14.1.tgz", {"settings": {"clusterName": "c"}}, kube="1.20")
    newer = render(helm, "karpenter-1.14.1.tgz", {"settings": {"clusterName": "c"}}, kube="1.33")
    # karpenter's PodDisruptionBudget is policy/v1 from Kubernetes 1.21 on, policy/v1beta1 before
    pdb = {o.body["apiVersion"] for o in newer.objects() if o.kind == "PodDisruptionBudget"}
    old_pdb = {o.body["apiVersion"] for o in older.objects() if o.kind == "PodDisruptionBudget"}
    assert (pdb, old_pdb) == ({"policy/v1"}, {"policy/v1beta1"})


def test_api_versions_of_earlier_releases_reach_the_templates(helm: Path):
    values = {"settings": {"clusterName": "c"}, "serviceMonitor": {"enabled": True}}
    without = render(helm, "karpenter-1.14.1.tgz", values)
    with_crd = render(helm, "karpenter-1.14.1.tgz", values, api_versions=["monitoring.coreos.com/v1"])
    assert "ServiceMonitor" not in {o.kind for o in without.objects()}
    assert "ServiceMonitor" in {o.kind for o in with_crd.objects()}


def test_a_schema_violation_is_one_line_per_field(helm: Path):
    with pytest.raises(ConfigError) as refused:
        render(helm, "cert-manager-v1.19.1.tgz", {"replicaCount": "two", "webhook": {"replicaCount": "x"}, "bogus": 1},
               release="cert-manager")
    found = issues_of(refused.value)
    assert ("replicaCount", "got string, want number (the chart's values.schema.json)") in found
    assert ("webhook.replicaCount", "got string, want number (the chart's values.schema.json)") in found
    assert any(path == "bogus" and "not allowed" in message for path, message in found)
    assert len(found) == 3  # no "validation failed" heading as an issue of its own
    assert refused.value.issues[0].file == "release cert-manager (chart cert-manager v1.19.1)"


def test_the_charts_kube_version_constraint_is_honoured(helm: Path):
    with pytest.raises(ConfigError) as refused:
        render(helm, "cert-manager-v1.19.1.tgz", {}, kube="1.20")
    [(path, message)] = issues_of(refused.value)
    assert path == "cluster.kubernetes_version"
    assert message == "the chart requires Kubernetes >= 1.22.0-0; the environment runs 1.20"


def test_a_value_the_chart_requires_is_named(helm: Path):
    with pytest.raises(ConfigError) as refused:
        render(helm, "aws-load-balancer-controller-1.16.0.tgz", {})
    [(path, message)] = issues_of(refused.value)
    assert "clusterName" in message and "aws-load-balancer-controller/templates/deployment.yaml" in message


def test_kube_prometheus_stack_crds_with_a_bare_equals_are_read(helm: Path):
    result = render(helm, "kube-prometheus-stack-79.0.0.tgz", {}, release="kube-prometheus-stack")
    with pytest.raises(yaml.constructor.ConstructorError, match="tag:yaml.org,2002:value"):
        list(yaml.safe_load_all(result.manifest))  # the problem this reader exists for
    objects = result.objects()
    crd = next(o for o in objects if o.name == "alertmanagerconfigs.monitoring.coreos.com")
    assert crd.source == "kube-prometheus-stack/charts/crds/crds/crd-alertmanagerconfigs.yaml"
    assert "=" in _all_strings(crd.body)
    assert len(objects) > 100 and all(o.body.get("apiVersion") and o.kind for o in objects)


def _all_strings(node) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_all_strings(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_all_strings(v) for v in node)) if node else set()
    return {node} if isinstance(node, str) else set()


def test_manifests_are_read_as_go_yaml_reads_them():
    data = load("op: =\nlist: [=, on, y, off]\nday: 2024-01-01\nclock: 12:30\nexp: 1e3\nquoted: 'on'\non: x\nhex: 0x1F\n")
    assert data == {"op": "=", "list": ["=", True, True, False], "day": "2024-01-01", "clock": "12:30",
                    "exp": 1000.0, "quoted": "on", "true": "x", "hex": 31}


def test_a_manifest_keeps_each_objects_source_and_skips_empty_documents():
    text = ("---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ns}\n"
            "---\n# Source: c/templates/empty.yaml\n"
            "---\n# Source: c/templates/list.yaml\napiVersion: v1\nkind: List\nitems:\n"
            "- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n")
    objects = read_manifest(text)
    assert [(str(o), o.source) for o in objects] == [
        ("ConfigMap ns/a", "c/templates/a.yaml"), ("Secret s", "c/templates/list.yaml")]
    with pytest.raises(StageError, match="c/templates/bad.yaml is not a Kubernetes object"):
        read_manifest("---\n# Source: c/templates/bad.yaml\njust: data\n", "r")


def test_mlflow_renders_without_its_disabled_missing_postgresql_subchart_and_says_so(helm: Path):
    info = read_chart(CHARTS_DIR / "mlflow-1.11.5.tgz")
    assert [str(d) for d in info.missing] == ["postgresql 18.8.12"]
    assert {"mysql", "minio"} <= {name for name, _ in info.vendored}
    result = render(helm, "mlflow-1.11.5.tgz", {"postgresql": {"enabled": False}}, release="mlflow")
    assert result.rendered and result.without_subcharts == ("postgresql 18.8.12",)
    assert result.status == ("rendered: yes, without disabled subchart(s) postgresql 18.8.12 "
                             "(missing from the chart repository)")
    kinds = {o.kind for o in result.objects()}
    assert "Deployment" in kinds
    assert not any("postgresql" in str(o) for o in result.objects())
    # the chart's own default (postgresql.enabled: false) switches it off when our values say nothing
    assert render(helm, "mlflow-1.11.5.tgz", {}, release="mlflow").rendered


@pytest.mark.parametrize("values, field", [
    ({"postgresql": {"enabled": True}}, "postgresql.enabled"),
    ({"postgresql": {"enabled": True}, "mysql": {"enabled": False}}, "postgresql.enabled"),
])
def test_mlflow_with_its_missing_postgresql_subchart_switched_on_is_refused(helm: Path, values, field):
    with pytest.raises(ConfigError) as refused:
        render(helm, "mlflow-1.11.5.tgz", values, release="mlflow")
    [(path, message)] = issues_of(refused.value)
    assert path == field
    assert "turns on subchart postgresql 18.8.12, which the chart package lacks" in message
    assert "postgresql.enabled: false" in message


def test_a_vendored_subchart_switched_on_still_renders(helm: Path):
    """Only the missing dependency is struck out: mysql, vendored, renders when on."""
    result = render(helm, "mlflow-1.11.5.tgz", {"mysql": {"enabled": True, "auth": {"rootPassword": "x" * 12}}},
                    release="mlflow")
    assert any(o.kind == "StatefulSet" and "mysql" in o.name for o in result.objects())


def test_mlflow_values_are_still_checked_by_the_chart(helm: Path):
    with pytest.raises(ConfigError) as schema:
        render(helm, "mlflow-1.11.5.tgz", {"replicaCount": "many", "bogus": True}, release="mlflow")
    found = issues_of(schema.value)
    assert ("replicaCount", "got string, want integer (the chart's values.schema.json)") in found
    assert any(path == "bogus" for path, _ in found)
    with pytest.raises(ConfigError) as required:
        render(helm, "mlflow-1.11.5.tgz", {"backendStore": {"postgres": {"enabled": True}}}, release="mlflow")
    # Helm stops at the first `required` that fails (lint listed them all)
    assert any("the chart refuses these values: postgres user must be specified" in message
               for _, message in issues_of(required.value))
    with pytest.raises(ConfigError) as too_old:
        render(helm, "mlflow-1.11.5.tgz", {}, kube="1.15")
    assert issues_of(too_old.value)[0][0] == "cluster.kubernetes_version"


def test_the_other_pinned_charts_have_all_their_subcharts():
    for package in ("cert-manager-v1.19.1.tgz", "kube-prometheus-stack-79.0.0.tgz", "chatqna-1.4.0.tgz",
                    "gpu-operator-v26.7.0.tgz", "external-secrets-0.20.4.tgz"):
        info = read_chart(CHARTS_DIR / package)
        assert info.missing_reason() is None, package


def test_a_chart_file_replaced_in_place_is_read_anew(tmp_path: Path):
    """read_chart is kept per file version: a cache entry refetched under the same name is another chart."""
    package = tmp_path / "chart.tgz"
    package.write_bytes((CHARTS_DIR / "mlflow-1.11.5.tgz").read_bytes())
    assert read_chart(package).name == "mlflow"
    package.unlink()
    package.write_bytes((CHARTS_DIR / "cert-manager-v1.19.1.tgz").read_bytes())
    assert read_chart(package).name == "cert-manager"
    package.write_bytes(b"not a chart")
    with pytest.raises(StageError):
        read_chart(package)


@pytest.mark.parametrize("kube, constraint, expected", [
    ("1.33", ">= 1.22.0-0", True), ("1.20", ">=1.22.0-0", False), ("1.33", ">=v1.23.0-0", True),
    ("1.33", ">=1.16.0-0, <1.30.0-0", False), ("1.29", ">=1.16.0-0 <1.30.0-0", True),
    ("1.33", "~1.33", True), ("1.34", "~1.33", False), ("1.33", "1.33.x", True),
    ("1.25", "<1.20 || >=1.30", False), ("1.31", "<1.20 || >=1.30", True), ("1.33", "whatever", None),
])
def test_kube_version_constraints(kube: str, constraint: str, expected):
    assert satisfies(kube, constraint) is expected


@pytest.mark.parametrize("condition, values, expected", [
    ("postgresql.enabled", {"postgresql": {"enabled": False}}, False),
    ("postgresql.enabled", {}, None),  # no boolean there: Helm keeps the dependency
    ("a.enabled,postgresql.enabled", {"a": {"enabled": "no"}, "postgresql": {"enabled": True}}, True),  # first boolean decides
    ("a.enabled, b.enabled", {"a": {"enabled": False}, "b": {"enabled": True}}, False),
    (None, {"postgresql": {"enabled": False}}, None),
])
def test_a_dependency_condition_is_read_the_way_helm_reads_it(condition, values, expected):
    assert condition_value(condition, values) is expected


def test_our_values_override_the_charts_defaults_when_deciding_a_condition():
    merged = merged_values({"postgresql": {"enabled": False, "auth": {"user": "u"}}}, {"postgresql": {"enabled": True}})
    assert merged == {"postgresql": {"enabled": True, "auth": {"user": "u"}}}


def test_without_documents_leaves_out_only_the_matching_objects_and_keeps_the_rest_byte_for_byte():
    from eksml.charts.kube_yaml import without_documents

    first = "---\n# Source: chart/templates/a.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n"
    second = "---\n# Source: chart/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"
    text = first + second
    assert without_documents(text, lambda body: body["kind"] == "Secret") == second
    assert without_documents(text, lambda body: False) == text
