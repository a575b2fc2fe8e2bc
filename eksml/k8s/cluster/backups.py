"""The last Velero backup of each schedule, read from a live cluster (read-only): `eksml status
--context` shows it where the environment sets `backups`, so a schedule that stopped running or
keeps failing is seen before a restore needs it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from eksml.components.velero import VELERO
from eksml.config import Environment
from eksml.errors import StageError, first_line
from eksml.k8s.model.custom_objects import ListObjects, custom_object_lister

GROUP, VERSION, PLURAL = "velero.io", "v1", "backups"
SCHEDULE_LABEL = "velero.io/schedule-name"  # Velero labels each backup a schedule makes with its name



@dataclass(frozen=True)
class BackupStatus:
    schedule: str
    backup: str  # the newest backup's name
    phase: str  # Velero's: Completed, PartiallyFailed, Failed, InProgress, ...
    started: str
    finished: str = ""

    @property
    def healthy(self) -> bool:
        return self.phase == "Completed"

    def as_dict(self) -> dict:
        return {**asdict(self), "healthy": self.healthy}


def backup_status(env: Environment, kubeconfig: Optional[Path], context: Optional[str], *,
                  list_backups: Optional[ListObjects] = None) -> list[BackupStatus]:
    """The newest backup per schedule; none at all (or no backups section) is an empty list."""
    if env.backups is None:
        return []
    lister = list_backups or custom_object_lister(GROUP, VERSION, PLURAL, kubeconfig, context)
    try:
        items = lister(VELERO.namespace, SCHEDULE_LABEL)
    except Exception as exc:  # the client raises ApiException, urllib3 and config errors alike
        raise StageError("status", f"cannot list Velero backups: {first_line(exc)}",
                         hint="is Velero installed and the kubeconfig context right?") from exc
    newest: dict[str, dict[str, Any]] = {}
    for item in items:
        schedule = ((item.get("metadata") or {}).get("labels") or {}).get(SCHEDULE_LABEL)
        if schedule and _started(item) >= _started(newest.get(schedule, {})):
            newest[schedule] = item
    return [_status_of(schedule, newest[schedule]) for schedule in sorted(newest)]


def _started(item: dict[str, Any]) -> str:
    """RFC 3339 in UTC, as Velero writes it, so text order is time order."""
    return str((item.get("status") or {}).get("startTimestamp") or "")


def _status_of(schedule: str, item: dict[str, Any]) -> BackupStatus:
    status = item.get("status") or {}
    return BackupStatus(schedule=schedule, backup=(item.get("metadata") or {}).get("name", "?"),
                        phase=status.get("phase") or "Unknown", started=_started(item),
                        finished=str(status.get("completionTimestamp") or ""))

