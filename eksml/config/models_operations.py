"""Typed day-two sections of the environment file: backups, logs, a served model's autoscaling and training.

Shape rules only; the rules that need the whole file (prod needs backups, retention CloudWatch
accepts, scale-to-zero behind an ingress, GPU capacity for `max`) are in rules_operations.py, training's in
rules_training.py.
"""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, field_validator, model_validator

# Five cron fields (minute hour day-of-month month day-of-week), as Velero schedules take them.
_CRON_FIELD = r"[0-9*/,\-A-Za-z?]+"
_CRON = re.compile(rf"^{_CRON_FIELD}( {_CRON_FIELD}){{4}}$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# name, lowest, highest, names (the first name is the lowest value): Velero's cron parser's bounds.
_CRON_FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of the month", 1, 31, ()),
                ("month", 1, 12, _MONTHS), ("day of the week", 0, 6, _DAYS))


def _cron_value(end: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int | str:
    """The value of one end of a range, or the words saying what the field takes."""
    if end.upper() in names:
        return names.index(end.upper()) + low
    if end.isdigit() and low <= int(end) <= high:
        return int(end)
    spelled = f", or {names[0]}-{names[-1]}" if names else ""
    return f"'{end}' is outside the {name} field ({low}-{high}{spelled})"


def _cron_field_problem(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    for part in text.split(","):
        body, slash, step = part.partition("/")
        if slash and (not step.isdigit() or int(step) == 0):
            return f"the {name} step '{step}' is not a positive number"
        if body in ("*", "?"):
            continue
        ends = body.split("-")
        if len(ends) > 2 or "" in ends:
            return f"'{part}' does not fit the {name} field: a number, a range a-b, * or a list of them"
        values = [_cron_value(end, name, low, high, names) for end in ends]
        problem = next((v for v in values if isinstance(v, str)), None)
        if problem is not None:
            return problem
        if len(values) == 2 and values[0] > values[1]:
            return f"the {name} range '{body}' runs backwards"
    return None


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
        for text, field in zip(value.split(), _CRON_FIELDS):
            problem = _cron_field_problem(text, *field)
            if problem is not None:
                raise ValueError(f"'{value}': {problem}")
        return value


def aws_backup_cron(schedule: str) -> str:
    """A backups.schedule as AWS Backup writes it, cron(minute hour day-of-month month day-of-week year):
    one day field is `?`, and weekdays count from SUN=1 where Velero's cron counts from 0. ValueError
    when AWS Backup cannot run it (the EFS plan follows the same schedule as Velero)."""
    minute, hour, dom, month, dow = schedule.split()
    if not minute.isdigit():
        raise ValueError(f"'{schedule}': AWS Backup (the EFS plan) runs at most once an hour, so the minute must be "
                         "one number (e.g. \"0 3 * * *\")")
    if dom != "*" and dow != "*":
        raise ValueError(f"'{schedule}': AWS Backup (the EFS plan) takes a day of the month or a day of the week, "
                         "not both; set one of them to *")
    if "/" in dow or "?" in dom + dow:
        raise ValueError(f"'{schedule}': AWS Backup (the EFS plan) takes weekdays as numbers, names or ranges "
                         "(e.g. 1-5 or MON-FRI), without steps or ?")
    hour = hour.replace("*/", "0/")
    if dow == "*":
        dom, dow = dom.replace("*/", "1/"), "?"
    else:
        dom, dow = "?", re.sub(r"\d+", lambda day: str(int(day.group()) % 7 + 1), dow)
    return f"cron({minute} {hour} {dom} {month.replace('*/', '1/')} {dow} *)"


class Mesh(_Strict):
    """Linkerd between the platform's pods (mTLS); unset, it is on at staging and prod (Environment.mesh_on)."""

    enabled: Optional[StrictBool] = None


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


TrainingRuntime = Literal["pytorch"]


class Training(_Strict):
    """Kubeflow Trainer's runtimes, each pinned to the GPU pools here (one ClusterTrainingRuntime per
    runtime and pool). Which pools may train, and how many GPUs a node gives, rules_training.py checks."""

    runtimes: list[TrainingRuntime] = Field(default_factory=lambda: ["pytorch"], min_length=1, max_length=1)
    pools: list[str] = Field(min_length=1, max_length=20)
    # torchrun processes (and GPUs) per node; default: every GPU of the pool's instance type, or one
    # on a time-sliced pool (which hands out one shared GPU per container).
    gpus_per_node: Optional[StrictInt] = Field(default=None, ge=1, le=64)

    @field_validator("pools")
    @classmethod
    def _distinct(cls, pools: list[str]) -> list[str]:
        repeated = sorted({pool for pool in pools if pools.count(pool) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} named more than once; name each pool once")
        return pools
