"""The EKS support calendar and the sourced compatibility table, as `eksml validate` applies them:
extended support warns (with the cost), past extended support is refused, incompatible pins are
refused naming both versions and the rule's source. "Today" is set with EKSML_TODAY."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from eksml.catalog.kubernetes_calendar import load_kubernetes_calendar
from eksml.catalog.pin_compatibility import load_compatibility
from eksml.cli import cli
from eksml.paths import ENVIRONMENTS_DIR


def validate(path: Path, *args: str):
    return CliRunner().invoke(cli, ["validate", str(path), *args])


def dev_with(tmp_path: Path, **replacements: str) -> Path:
    text = (ENVIRONMENTS_DIR / "dev.yaml").read_text()
    for old, new in replacements.values():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    return path


OLD_MINOR = {"k8s": ('kubernetes_version: "1.35"', 'kubernetes_version: "1.33"'),
             "ami": ("ami_release_version: 1.35.7-20260903", "ami_release_version: 1.33.5-20260714")}


@pytest.fixture(autouse=True)
def empty_chart_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("EKSML_WORK_DIR", str(tmp_path / "work"))


def test_every_calendar_minor_and_rule_has_a_source():
    calendar = load_kubernetes_calendar()
    assert calendar.source.startswith("https://docs.aws.amazon.com/eks/")
    assert calendar.price_per_hour == {"standard": 0.10, "extended": 0.60}
    assert {"1.33", "1.34", "1.35"} <= set(calendar.minors)
    table = load_compatibility()
    assert all(rule.source.startswith("https://") for rule in (*table.kubernetes, *table.requires))


@pytest.mark.parametrize("name", ["local", "dev", "staging", "prod"])
def test_shipped_environments_are_in_standard_support_today(name, monkeypatch):
    monkeypatch.setenv("EKSML_TODAY", "2026-11-29")
    result = validate(ENVIRONMENTS_DIR / f"{name}.yaml", "--output", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["warnings"] == []


def test_extended_support_warns_with_the_cost_and_still_validates(tmp_path, monkeypatch):
    monkeypatch.setenv("EKSML_TODAY", "2026-11-29")
    path = dev_with(tmp_path, **OLD_MINOR)
    result = validate(path)
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "extended support since 2026-07-29" in result.output
    assert "$0.60/hour instead of $0.10" in result.output and "upgrade to 1.35" in result.output
    data = json.loads(validate(path, "--output", "json").output)
    assert data["ok"] is True and data["warnings"][0]["path"] == "cluster.kubernetes_version"


def test_past_extended_support_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("EKSML_TODAY", "2027-08-01")
    result = validate(dev_with(tmp_path, **OLD_MINOR))
    assert result.exit_code == 2
    assert "left EKS extended support on 2027-07-29" in result.output and "docs.aws.amazon.com" in result.output


def test_a_bad_today_is_bad_input(monkeypatch):
    monkeypatch.setenv("EKSML_TODAY", "next tuesday")
    result = validate(ENVIRONMENTS_DIR / "dev.yaml")
    assert result.exit_code == 2 and "EKSML_TODAY" in result.output


def test_karpenter_outside_its_kubernetes_range_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("EKSML_TODAY", "2026-11-29")
    path = dev_with(tmp_path, karpenter=("karpenter: {version: 1.14.1}", "karpenter: {version: 1.5.2}"))
    result = validate(path)
    assert result.exit_code == 2
    assert "addons.karpenter.version" in result.output
    assert "karpenter 1.5.2 supports Kubernetes up to 1.33" in result.output and "is 1.35" in result.output
    assert "karpenter.sh" in result.output


def test_kserve_with_a_too_old_cert_manager_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("EKSML_TODAY", "2026-11-29")
    data = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())
    data["addons"]["cert_manager"]["version"] = "v1.14.5"
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data))
    result = validate(path)
    assert result.exit_code == 2
    assert "kserve v0.20.0 needs cert_manager 1.15.0 or newer; it pins v1.14.5" in result.output
    assert "kserve.github.io" in result.output


def test_a_cached_charts_kube_version_is_checked_without_downloading(tmp_path, monkeypatch):
    """A chart in the cache declares kubeVersion: validate refuses a cluster version outside it."""
    import io
    import tarfile

    from eksml.config import load_environment

    version = load_environment("dev").addons.cert_manager.version
    work = tmp_path / "work"
    (work / "charts").mkdir(parents=True)
    chart_yaml = f"apiVersion: v2\nname: cert-manager\nversion: {version}\nkubeVersion: '>= 1.22.0-0, < 1.35.0-0'\n".encode()
    with tarfile.open(work / "charts" / f"cert-manager-{version}.tgz", "w:gz") as tar:
        info = tarfile.TarInfo("cert-manager/Chart.yaml")
        info.size = len(chart_yaml)
        tar.addfile(info, io.BytesIO(chart_yaml))
    monkeypatch.setenv("EKSML_WORK_DIR", str(work))
    monkeypatch.setenv("EKSML_CHART_MIRROR", "http://127.0.0.1:9")  # nothing listens: proves no download
    result = validate(ENVIRONMENTS_DIR / "dev.yaml")
    assert result.exit_code == 2, result.output
    assert f"chart cert-manager {version}" in result.output and "'>= 1.22.0-0, < 1.35.0-0'" in result.output
