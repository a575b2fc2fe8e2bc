"""`eksml status --context` shows the last Velero backup of each schedule; the cluster is a stand-in
lister that answers as the Kubernetes API would (CustomObjectsApi items of velero.io/v1 Backup)."""

from __future__ import annotations

import pytest

from eksml.components.velero import VELERO
from eksml.config import load_environment
from eksml.deploy.status import format_backups
from eksml.errors import StageError
from eksml.k8s.cluster.backups import SCHEDULE_LABEL, backup_status


def backup(name: str, schedule: str, phase: str, started: str, finished: str = "") -> dict:
    status = {"phase": phase, "startTimestamp": started}
    if finished:
        status["completionTimestamp"] = finished
    return {"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "labels": {SCHEDULE_LABEL: schedule}}, "status": status}


def test_the_newest_backup_of_each_schedule_with_its_phase(dev_render):
    env = load_environment("dev")
    [schedule] = [o.name for o in dev_render.charts.release(VELERO.name).objects if o.kind == "Schedule"]
    asked = []

    def lister(namespace, selector):
        asked.append((namespace, selector))
        return [backup(f"{schedule}-20261204030000", schedule, "Completed", "2026-12-04T03:00:00Z", "2026-12-04T03:04:10Z"),
                backup(f"{schedule}-20261205030000", schedule, "PartiallyFailed", "2026-12-05T03:00:00Z", "2026-12-05T03:06:00Z"),
                backup(f"{schedule}-20261203030000", schedule, "Completed", "2026-12-03T03:00:00Z"),
                {"metadata": {"name": "by-hand"}, "status": {"phase": "Completed"}}]  # not from a schedule

    [last] = backup_status(env, None, None, list_backups=lister)
    assert asked == [(VELERO.namespace, SCHEDULE_LABEL)]
    assert (last.schedule, last.backup, last.phase) == (schedule, f"{schedule}-20261205030000", "PartiallyFailed")
    assert not last.healthy and last.as_dict()["healthy"] is False
    assert "PartiallyFailed" in format_backups([last]) and schedule in format_backups([last])


def test_no_backup_yet_is_said_and_no_backups_section_asks_nothing():
    assert backup_status(load_environment("dev"), None, None, list_backups=lambda ns, sel: []) == []
    assert "no scheduled backup yet" in format_backups([])

    def must_not_ask(namespace, selector):
        raise AssertionError("listed backups of an environment without backups")

    assert backup_status(load_environment("local"), None, None, list_backups=must_not_ask) == []


def test_a_cluster_that_cannot_list_backups_is_an_operational_error_naming_the_stage():
    def broken(namespace, selector):
        raise RuntimeError("the server could not find the requested resource\nmore")

    with pytest.raises(StageError) as caught:
        backup_status(load_environment("dev"), None, None, list_backups=broken)
    assert caught.value.stage == "status" and "cannot list Velero backups" in str(caught.value)
    assert "more" not in str(caught.value)


def test_status_with_a_cluster_reports_backups_and_exits_3_on_a_failed_one(monkeypatch):
    import json

    from click.testing import CliRunner

    from eksml.cli import cli
    from eksml.k8s.cluster.backups import BackupStatus

    failed = BackupStatus("velero-platform", "velero-platform-20261205030000", "Failed", "2026-12-05T03:00:00Z")
    monkeypatch.setattr("eksml.deploy.status.stack_status", lambda env, emulator=False: [])
    monkeypatch.setattr("eksml.deploy.status.releases_of", lambda env, kubeconfig, context: [])
    monkeypatch.setattr("eksml.deploy.status.backups_of", lambda env, kubeconfig, context: [failed])
    result = CliRunner().invoke(cli, ["status", "dev", "--context", "dev-cluster", "--output", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["backups"] == [failed.as_dict()]
    result = CliRunner().invoke(cli, ["status", "dev", "--context", "dev-cluster", "--detailed-exitcode"])
    assert result.exit_code == 3 and "velero-platform-20261205030000" in result.output
