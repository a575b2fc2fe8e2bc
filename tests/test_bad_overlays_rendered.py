"""Overlays that only the real charts reveal as bad: both render paths refuse them the same way.

One staging render per path (the charts come from the session's cache): a values overlay that
`eksml render` refuses with exit 2 is refused by `eksml render --gitops` too (issue 17, class 3),
and a privileged pod with a hostPath "/" volume is refused by --gitops as by the plain render (class 4).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import eksml.k8s.model.context as render_context
from eksml.cli import cli
from eksml.paths import HELM_VALUES_DIR

# Karpenter's chart writes `replicas` into its Deployment: text there breaks the Deployment's schema.
SCHEMA_BREAKING = "replicas: two\n"
PRIVILEGED_HOST_ROOT = (
    "extraVolumes: [{name: host-root, hostPath: {path: /}}]\n"
    "controller:\n"
    "  securityContext: {privileged: true, allowPrivilegeEscalation: true}\n"
    "  extraVolumeMounts: [{name: host-root, mountPath: /host}]\n"
)


def _render_with_overlay(overlay: str, tmp_path: Path, monkeypatch, gitops: bool):
    values = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, values)
    (values / "staging").mkdir(exist_ok=True)
    (values / "staging" / "karpenter.yaml").write_text(overlay)
    monkeypatch.setattr(render_context, "HELM_VALUES_DIR", values)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", "staging", "--gitops" if gitops else "--out", str(out)])
    return result, out


@pytest.mark.parametrize("gitops", [False, True], ids=["render", "gitops"])
def test_an_overlay_the_render_refuses_is_refused_on_both_paths(gitops, cli_charts, tmp_path, monkeypatch):
    result, out = _render_with_overlay(SCHEMA_BREAKING, tmp_path, monkeypatch, gitops)
    assert result.exit_code == 2, result.output
    assert "replicas" in result.output and "Traceback" not in result.output, result.output
    assert not out.exists()


def test_a_privileged_host_root_overlay_is_refused_by_gitops_too(cli_charts, tmp_path, monkeypatch):
    """The plain render's refusal of such an overlay is tests/test_pod_security.py's."""
    result, out = _render_with_overlay(PRIVILEGED_HOST_ROOT, tmp_path, monkeypatch, gitops=True)
    assert result.exit_code == 2, result.output
    assert "hostPath" in result.output or "privileged" in result.output, result.output
    assert not out.exists()
