"""Typed day-two sections of the environment file: backups, logs and a served model's autoscaling.

Shape rules only; the rules that need the whole file (prod needs backups, retention CloudWatch
accepts, scale-to-zero behind an ingress, GPU capacity for `max`) are in rules_operations.py.
"""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, field_validator, model_validator

# Five cron fields (minute hour day-of-month month day-of-week), as Velero schedules take them.
_CRON_FIELD = r"[0-9*/,\-A-Za-z?]+"
_CRON = re.compile(rf"^{_CRON_FIELD}( {_CRON_FIELD}){{4}}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Backups(_Strict):
    """Velero backs cluster objects and volume snapshots up on this schedule and keeps them this long."""

    schedule: str = "0 3 * * *"
    retention_days: StrictInt = Field(default=14, ge=1, le=3650)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not _CRON.match(value):
            raise ValueError(f"'{value}' is not a cron schedule: five fields, minute hour day month weekday "
                             "(e.g. \"0 3 * * *\")")
        return value


class Logs(_Strict):
    """Pod logs shipped to CloudWatch Logs; retention defaults by tier (modules/log_group.py)."""

    retention_days: Optional[StrictInt] = None


AutoscalingMetric = Literal["queue", "concurrency", "latency"]


class Autoscaling(_Strict):
    """Replicas between min and max, by one vLLM metric in Prometheus (rendered as a KEDA ScaledObject).

    queue: requests waiting per replica; concurrency: requests running per replica;
    latency: seconds of p95 time to first token.
    """

    min: StrictInt = Field(ge=0, le=100)
    max: StrictInt = Field(ge=1, le=100)
    metric: AutoscalingMetric = "queue"
    target: StrictInt | StrictFloat = Field(gt=0, le=100_000)

    @model_validator(mode="after")
    def _ordered(self) -> "Autoscaling":
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self
