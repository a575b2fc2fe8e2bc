"""eksml's own cleanup after a failed first Helm install, with a stand-in helm that leaves the
failed release behind (a process killed mid-install leaves it pending-install, and `--atomic` does
not run): the release is gone afterwards only because eksml removed it."""

from __future__ import annotations

import json

import pytest
from test_k8s_install import fake_helm_launcher, helm, install, scenario, small_env  # noqa: F401  (the stand-in helm fixtures, shared)

from eksml.errors import StageError


def test_a_first_install_left_pending_is_removed_by_eksml(helm, tmp_path):
    scenario(tmp_path, upgrade={"mlflow": ["stuck"] * 10})
    with pytest.raises(StageError) as caught:
        install(small_env(), helm)
    assert "the failed first install was removed" in str(caught.value)
    releases = json.loads((tmp_path / "helm-state.json").read_text())["releases"]
    assert "mlflow/mlflow" not in releases
    assert any(entry["argv"][:2] == ["uninstall", "mlflow"] for entry in helm.entries() if "argv" in entry)
