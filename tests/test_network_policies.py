"""Zero-trust network: default-deny both ways in every namespace eksml creates, the flows the
platform needs open, the forbidden ones closed, checked on the rendered policies (the reachability
check), and refused when an overlay or a missing policy changes that."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from eksml.cli import cli
from eksml.k8s.checks.network_check import Addresses, forbidden_flows, needed_flows, platform_of, reachability_issues
from eksml.k8s.checks.platform_checks import placed_components
from eksml.k8s.checks.reachability import Address, Pod, PolicySet
from eksml.paths import HELM_VALUES_DIR

VPC = "10.20.0.0/16"


def _render_parts(render):
    objects = placed_components(render.components, render.charts)
    namespaces = {r.name: r.component.namespace for r in render.charts.releases}
    return objects, namespaces


def _issues(render, objects):
    _, namespaces = _render_parts(render)
    teams = ["research", "inference"]
    return reachability_issues(objects, namespaces, teams, [c.name for c in render.components], VPC)


def test_every_owned_namespace_denies_ingress_and_egress_by_default(dev_render):
    objects, _ = _render_parts(dev_render)
    owned = {p.obj.name for p in objects if p.obj.kind == "Namespace"}
    deny = {p.obj.namespace for p in objects if p.obj.kind == "NetworkPolicy" and p.obj.body["spec"] == {
        "podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    assert owned and owned <= deny, sorted(owned - deny)
    for placed in objects:  # no rule anywhere admits the instance metadata service
        if placed.obj.kind == "NetworkPolicy":
            for rule in placed.obj.body["spec"].get("egress") or []:
                for peer in rule.get("to") or []:
                    if "ipBlock" in peer and peer["ipBlock"]["cidr"] == "0.0.0.0/0":
                        assert "169.254.169.254/32" in peer["ipBlock"]["except"], placed.obj


def test_the_shipped_render_opens_every_needed_flow_and_closes_the_forbidden(dev_render):
    objects, namespaces = _render_parts(dev_render)
    assert _issues(dev_render, objects) == []
    platform = platform_of(objects, namespaces, ["research", "inference"], [c.name for c in dev_render.components])
    at = Addresses.of(VPC)
    needed = {str(f) for f in needed_flows(platform, at)}
    assert any("Deployment mlflow/mlflow" in f and "RDS" in f and ":5432/" in f for f in needed)
    assert any(f.startswith("10.20.0.10") and "cert-manager-webhook" in f for f in needed)  # the API server's call
    assert any(f.startswith("10.20.0.30") and "mlflow" in f for f in needed)  # the ALB to the MLflow UI
    forbidden = list(forbidden_flows(platform, at))
    assert any("169.254.169.254" in str(f) for f in forbidden) and len(forbidden) > 50


def test_without_mlflows_database_rule_the_render_is_refused(dev_render):
    objects, _ = _render_parts(dev_render)

    def opens_database(placed) -> bool:
        rules = placed.obj.body.get("spec", {}).get("egress") or []
        return placed.obj.kind == "NetworkPolicy" and placed.obj.namespace == "mlflow" and any(
            port.get("port") == 5432 for rule in rules for port in rule.get("ports") or [])

    assert any(map(opens_database, objects))
    issues = _issues(dev_render, [p for p in objects if not opens_database(p)])
    assert [i.path for i in issues] == ["Deployment mlflow/mlflow -> 10.20.0.20 (RDS in the VPC):5432/TCP"]
    assert "blocked: Deployment mlflow/mlflow is isolated for egress by NetworkPolicy mlflow/default-deny" in \
        issues[0].message


def test_a_policy_opening_a_namespace_to_everything_is_refused(dev_render):
    objects, _ = _render_parts(dev_render)
    from eksml.charts.kube_yaml import ManifestObject
    from eksml.k8s.checks.object_checks import Placed

    wide_open = ManifestObject("crafted", {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "allow-all", "namespace": "mlflow"},
        "spec": {"podSelector": {}, "ingress": [{}]}})
    issues = _issues(dev_render, [*objects, Placed("mlflow", wide_open, frozenset(), "crafted.yaml")])
    assert issues and all("a pod of a namespace the platform does not know -> " in i.path for i in issues)
    assert any("Deployment mlflow/mlflow" in i.path and "NetworkPolicy mlflow/allow-all allows it" in i.message
               for i in issues)


def test_a_chart_policy_from_a_values_overlay_that_admits_every_pod_exits_2(cli_charts, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch):
    """KEDA's own NetworkPolicy admits every namespace on the operator's gRPC port: the check sees it."""
    values_dir = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, values_dir)
    (values_dir / "dev").mkdir(exist_ok=True)
    (values_dir / "dev" / "keda.yaml").write_text("networkPolicy: {enabled: true, flavor: kubernetes}\n")
    monkeypatch.setattr("eksml.k8s.model.context.HELM_VALUES_DIR", values_dir)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", "dev", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "NetworkPolicies: a pod of a namespace the platform does not know -> Deployment keda/keda-operator" in \
        result.output
    assert "must be closed" in result.output and "NetworkPolicy keda/keda-operator allows it" in result.output
    assert "Traceback" not in result.output and not (out / "manifests").exists()


POLICIES = [
    {"metadata": {"name": "deny", "namespace": "a"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
    {"metadata": {"name": "web", "namespace": "a"}, "spec": {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "x"}}, "podSelector": {"matchLabels": {"role": "client"}}}],
                     "ports": [{"port": "http"}]}]}},
    {"metadata": {"name": "out", "namespace": "a"}, "spec": {
        "podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}],
                    "ports": [{"port": 443, "protocol": "TCP"}, {"port": 8000, "endPort": 8010}]}]}},
]
WEB = Pod("a", "web", {"app": "web"}, (("http", 8080, "TCP"),))
CLIENT = Pod("b", "client", {"role": "client"})
STRANGER = Pod("c", "stranger", {"role": "client"})
OPEN = Pod("b", "open", {"app": "x"})


@pytest.mark.parametrize(("source", "target", "port", "protocol", "allowed"), [
    (CLIENT, WEB, 8080, "TCP", True),  # named port, both selectors
    (CLIENT, WEB, 8081, "TCP", False),  # another port
    (STRANGER, WEB, 8080, "TCP", False),  # namespace not selected
    (OPEN, WEB, 8080, "TCP", False),  # pod not selected
    (CLIENT, WEB, 8080, "UDP", False),  # protocol
    (WEB, Address("52.94.0.10", "internet"), 443, "TCP", True),
    (WEB, Address("169.254.169.254", "imds"), 443, "TCP", False),  # except
    (WEB, Address("52.94.0.10", "internet"), 8005, "TCP", True),  # endPort range
    (WEB, Address("52.94.0.10", "internet"), 8011, "TCP", False),
    (WEB, CLIENT, 80, "TCP", False),  # egress limited to the ipBlock; pods in 10.0/16 overlap 0.0.0.0/0 ...
    (CLIENT, OPEN, 80, "TCP", True),  # namespace b has no policies at all
    (Pod("a", "other", {}), Address("52.94.0.10", "internet"), 443, "TCP", False),  # only `deny` selects it
])
def test_the_evaluation_follows_the_networkpolicy_semantics(source, target, port, protocol, allowed):
    policies = PolicySet(POLICIES, {"b": {"team": "x"}, "c": {}}, "10.0.0.0/16")
    assert policies.verdict(source, target, port, protocol).allowed is allowed


def test_a_pod_in_an_overlapping_ipblock_counts_as_admitted():
    policies = PolicySet(POLICIES, {"b": {"team": "x"}}, "10.0.0.0/16")
    # The egress rule's 0.0.0.0/0 overlaps the pod range, but CLIENT's ingress side is unrestricted,
    # and the egress port is the question: 443 is in the rule.
    assert policies.verdict(WEB, CLIENT, 443).allowed
    # ... and a hostNetwork pod is governed by no policy.
    assert policies.verdict(Pod("a", "host", {}, host_network=True), Address("1.1.1.1", "x"), 22).allowed


def test_netcheck_answers_with_the_deciding_policy_and_refuses_unknown_names(cli_charts):
    result = CliRunner().invoke(cli, ["netcheck", "dev", "--from", "mlflow/mlflow", "--to", "10.20.0.20:5432"])
    assert result.exit_code == 0, result.output
    assert "Deployment mlflow/mlflow -> 10.20.0.20" in result.output and ": allowed" in result.output
    assert "egress:  NetworkPolicy mlflow/allow-to-vpc-5432 allows it" in result.output
    result = CliRunner().invoke(cli, ["netcheck", "dev", "--from", "research/notebook", "--to", "169.254.169.254:80",
                                      "--output", "json"])
    assert result.exit_code == 0, result.output
    import json

    [answer] = json.loads(result.output)["answers"]
    assert answer["allowed"] is False and "research/default-deny" in answer["egress"]["because"]
    for args, field in ((["--from", "mlflow/nope", "--to", "mlflow/mlflow:80"], "--from"),
                        (["--from", "mlflow/mlflow", "--to", "mlflow/mlflow:9"], "--to"),
                        (["--from", "mlflow", "--to", "mlflow/mlflow:80"], "--from"),
                        (["--from", "mlflow/mlflow", "--to", "10.0.0.1:http"], "--to")):
        result = CliRunner().invoke(cli, ["netcheck", "dev", *args])
        assert result.exit_code == 2, (args, result.output)
        assert f"command line: {field}:" in result.output and "Traceback" not in result.output
