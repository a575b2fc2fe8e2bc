"""The EKS Kubernetes support calendar: when each minor leaves standard and extended support.

A pin that silently slides into extended support costs six times the control-plane price, and one past
extended support is upgraded by AWS on its own schedule; the dates and prices live in
eks_kubernetes_calendar.json with the AWS pages they come from. "Today" is injectable
(`EKSML_TODAY=YYYY-MM-DD`) so tests and reviews can ask "what will validate say on that date".
"""

from __future__ import annotations

import datetime
import functools
import json
import os
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, Optional

FILE = "eks_kubernetes_calendar.json"
TODAY_VARIABLE = "EKSML_TODAY"
Phase = Literal["standard", "extended", "ended", "unreleased"]


@dataclass(frozen=True)
class MinorSupport:
    minor: str
    release: datetime.date
    end_of_standard: datetime.date
    end_of_extended: datetime.date

    def phase(self, today: datetime.date) -> Phase:
        if today < self.release:
            return "unreleased"
        if today < self.end_of_standard:
            return "standard"
        if today < self.end_of_extended:
            return "extended"
        return "ended"


@dataclass(frozen=True)
class KubernetesCalendar:
    minors: dict[str, MinorSupport]
    price_per_hour: dict[str, float]  # "standard"/"extended" -> USD per cluster hour
    source: str
    pricing_source: str

    def get(self, minor: str) -> Optional[MinorSupport]:
        return self.minors.get(minor)

    def newest_in_standard(self, today: datetime.date) -> Optional[str]:
        current = [m for m, s in self.minors.items() if s.phase(today) == "standard"]
        return max(current, key=minor_key, default=None)


def minor_key(minor: str) -> tuple[int, ...]:
    return tuple(int(part) for part in minor.split("."))


def today() -> datetime.date:
    """The date support phases are judged on: EKSML_TODAY when set, else the system date (UTC)."""
    raw = os.environ.get(TODAY_VARIABLE, "").strip()
    if not raw:
        return datetime.datetime.now(datetime.timezone.utc).date()
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        from eksml.errors import ConfigError, Issue

        raise ConfigError([Issue(TODAY_VARIABLE, "", f"'{raw[:40]}' is not a date; use YYYY-MM-DD")]) from None


@functools.cache
def load_kubernetes_calendar() -> KubernetesCalendar:
    return build_calendar(json.loads(resources.files("eksml.catalog").joinpath(FILE).read_text(encoding="utf-8")))


def build_calendar(data: dict[str, Any]) -> KubernetesCalendar:
    for key in ("source", "pricing_source"):
        if not str(data.get(key, "")).startswith("https://"):
            raise ValueError(f"{FILE}: needs '{key}' naming the AWS page (https://...)")
    prices = data.get("price_per_hour_usd")
    if not isinstance(prices, dict) or set(prices) != {"standard", "extended"}:
        raise ValueError(f"{FILE}: price_per_hour_usd needs 'standard' and 'extended'")
    minors = {}
    for minor, entry in data.get("minors", {}).items():
        dates = [datetime.date.fromisoformat(entry[k]) for k in ("release", "end_of_standard_support", "end_of_extended_support")]
        if not dates[0] < dates[1] < dates[2]:
            raise ValueError(f"{FILE}: {minor}: release < end of standard < end of extended support")
        minors[minor] = MinorSupport(minor, *dates)
    return KubernetesCalendar(minors, {k: float(v) for k, v in prices.items()}, data["source"], data["pricing_source"])
