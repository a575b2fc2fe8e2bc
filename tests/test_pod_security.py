"""Pod Security: eksml's own evaluator of the baseline and restricted levels, the one exception list,
and the render check that refuses (exit 2) a pod breaking its namespace's enforced level."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from eksml.cli import cli
from eksml.k8s.checks.pod_security import BASELINE, PRIVILEGED, RESTRICTED, violations
from eksml.k8s.checks.pod_security_check import namespace_levels, pod_specs
from eksml.k8s.model.pod_security_levels import EXCEPTION_BY_NAMESPACE, EXCEPTIONS
from eksml.paths import HELM_VALUES_DIR

HARDENED = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{"name": "app", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}


def rules(spec, level, version="1.35"):
    return {(v.container, v.rule) for v in violations(spec, level, version)}


def test_a_hardened_pod_passes_restricted_and_the_default_pod_only_baseline():
    assert rules(HARDENED, RESTRICTED) == set()
    plain = {"containers": [{"name": "app"}]}
    assert rules(plain, BASELINE) == set()
    assert rules(plain, RESTRICTED) == {("app", "privilege escalation"), ("app", "running as non-root"),
                                        ("app", "seccomp"), ("app", "capabilities")}


def test_baseline_refuses_privileged_host_namespaces_hostpath_host_ports_and_capabilities():
    spec = {
        "hostNetwork": True, "hostPID": True,
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
        "containers": [{"name": "shell", "ports": [{"containerPort": 22, "hostPort": 22}],
                        "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]},
                                            "procMount": "Unmasked"}}],
    }
    assert rules(spec, BASELINE) == {("", "host namespaces"), ("", "hostPath volumes"), ("shell", "privileged"),
                                     ("shell", "capabilities"), ("shell", "host ports"), ("shell", "/proc mount type")}
    assert rules(spec, PRIVILEGED) == set()


def test_restricted_overrides_follow_the_container_and_the_volume_types():
    spec = json.loads(json.dumps(HARDENED))
    spec["containers"][0]["securityContext"].update(runAsNonRoot=False, runAsUser=0)
    spec["containers"].append({"name": "sidecar", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "NET_RAW"]},
        "seccompProfile": {"type": "Unconfined"}}})
    spec["volumes"].append({"name": "nfs", "nfs": {"server": "x", "path": "/"}})
    assert rules(spec, RESTRICTED) == {("app", "running as non-root"), ("app", "running as non-root user"),
                                       ("sidecar", "capabilities"), ("sidecar", "seccomp"), ("", "volume types")}


def test_version_gated_controls_follow_the_kubernetes_version():
    sysctl = {**HARDENED, "securityContext": {**HARDENED["securityContext"],
                                              "sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]}}
    assert ("", "sysctls") in rules(sysctl, BASELINE, "1.31")
    assert rules(sysctl, BASELINE, "1.32") == set()
    selinux = {"containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}}]}
    assert ("a", "SELinux") in rules(selinux, BASELINE, "1.30")
    assert rules(selinux, BASELINE, "1.31") == set()


def test_every_exception_has_a_reason_and_a_known_level():
    assert EXCEPTIONS and len(EXCEPTION_BY_NAMESPACE) == len(EXCEPTIONS)
    for exception in EXCEPTIONS:
        assert exception.level in (PRIVILEGED, BASELINE) and len(exception.reason) > 20
        assert "\n" not in exception.reason


def test_every_rendered_namespace_outside_the_exceptions_enforces_restricted_and_every_pod_passes(dev_render):
    from eksml.config import load_environment
    from eksml.outputs import predict_outputs
    from eksml.k8s.model.platform import build_platform
    from eksml.k8s.checks.platform_checks import placed_objects

    env = load_environment("dev")
    objects = placed_objects(build_platform(env, predict_outputs(env)), dev_render.charts)
    levels = namespace_levels(objects, "1.35")
    assert levels, "no namespace rendered"
    for namespace, (level, _version) in levels.items():
        expected = EXCEPTION_BY_NAMESPACE[namespace].level if namespace in EXCEPTION_BY_NAMESPACE else RESTRICTED
        assert level == expected, namespace
    namespaces = {r.name: r.component.namespace for r in dev_render.charts.releases}
    checked = restricted_clean = 0
    for placed in objects:
        namespace = placed.obj.namespace or namespaces.get(placed.release, "default")
        for _path, spec, annotations in pod_specs(placed.obj.body, placed.obj.kind):
            level = levels.get(namespace, (PRIVILEGED, ""))[0]
            checked += 1
            assert not violations(spec, level, "1.35", annotations), (placed.obj, namespace)
            restricted_clean += not violations(spec, RESTRICTED, "1.35", annotations)
    inference = [p for p in objects if p.obj.kind == "InferenceService"]
    assert inference and all(not violations(s, RESTRICTED, "1.35") for p in inference
                             for _, s, _a in pod_specs(p.obj.body, p.obj.kind))
    assert checked > 30 and restricted_clean > checked / 2


def test_a_privileged_hostpath_pod_from_a_values_overlay_is_refused_with_exit_2(cli_charts, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch):
    values_dir = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, values_dir)
    (values_dir / "dev").mkdir(exist_ok=True)
    (values_dir / "dev" / "argo-workflows.yaml").write_text(
        "controller:\n"
        "  securityContext: {privileged: true}\n"
        "  volumes: [{name: host, hostPath: {path: /}}]\n"
        "  volumeMounts: [{name: host, mountPath: /host}]\n"
    )
    monkeypatch.setattr("eksml.k8s.model.context.HELM_VALUES_DIR", values_dir)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", "dev", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Deployment argo/argo-workflows-workflow-controller" in result.output
    assert "container controller: privileged" in result.output
    assert "hostPath volumes (volume host mounts hostPath /)" in result.output
    assert "Pod Security 'restricted' that namespace argo enforces" in result.output
    assert "Traceback" not in result.output and not (out / "manifests").exists()


def test_the_summary_counts_restricted_pods_and_namespaces(dev_render):
    from eksml.k8s.checks.platform_checks import platform_pss_summary

    summary = platform_pss_summary(dev_render.components, dev_render.charts, "1.35")
    assert 0 < summary.restricted_pods < summary.pods  # the exception namespaces' pods are not clean
    assert summary.namespaces - summary.restricted_namespaces == len(
        [e for e in EXCEPTIONS if e.namespace in levels_of(dev_render)])
    assert f"{summary.restricted_pods} of {summary.pods} pods pass restricted" in str(summary)


def levels_of(render):
    from eksml.k8s.checks.platform_checks import placed_components

    return namespace_levels(placed_components(render.components, render.charts), "1.35")
