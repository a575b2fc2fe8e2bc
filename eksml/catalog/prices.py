"""On-demand prices with their public source and date (prices.json): what a pool or an environment
costs per hour and per month. A figure that is not in the file is not priced, never guessed."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Optional

FILE = "prices.json"


@dataclass(frozen=True)
class Price:
    usd: float  # per hour, or per GB-month for storage
    unit: str
    source: str
    date: str

    def as_dict(self) -> dict:
        return {"usd": self.usd, "unit": self.unit, "source": self.source, "date": self.date}


@dataclass(frozen=True)
class PriceTable:
    instance_types: dict[str, dict[str, Price]]  # region -> type -> price per hour
    services: dict[str, dict[str, Price]]  # region -> service key -> price
    hours_per_month: int
    nominal_storage_gb: dict[str, int]
    eks_control_plane_date: str = ""

    def instance(self, region: str, instance_type: str) -> Optional[Price]:
        return self.instance_types.get(region, {}).get(instance_type)

    def service(self, region: str, key: str) -> Optional[Price]:
        return self.services.get(region, {}).get(key)

    def rows(self) -> list[tuple[str, str, Price]]:
        """(region, item, price) for every figure, for `eksml catalog`."""
        found = [(r, name, p) for r, table in self.instance_types.items() for name, p in table.items()]
        return found + [(r, name, p) for r, table in self.services.items() for name, p in table.items()]


def _price(raw: dict[str, Any], where: str, default_unit: str) -> Price:
    if not str(raw.get("source", "")).startswith("https://"):
        raise ValueError(f"{FILE}: {where} needs a 'source' naming the public page (https://...)")
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", str(raw.get("date", ""))):  # every figure is dated
        raise ValueError(f"{FILE}: {where} needs a 'date' (YYYY, YYYY-MM or YYYY-MM-DD) of its source")
    amount = raw.get("usd_per_hour", raw.get("usd_per_gb_month"))
    if not isinstance(amount, (int, float)) or amount < 0:
        raise ValueError(f"{FILE}: {where} needs usd_per_hour or usd_per_gb_month")
    unit = raw.get("unit") or (default_unit if "usd_per_hour" in raw else "per GB-month")
    return Price(float(amount), unit, raw["source"], raw["date"])


def build_price_table(data: dict[str, Any]) -> PriceTable:
    def section(name: str, unit: str) -> dict[str, dict[str, Price]]:
        return {region: {key: _price(raw, f"{name}.{region}.{key}", unit) for key, raw in table.items()}
                for region, table in data.get(name, {}).items()}

    nominal = {k: int(v) for k, v in data.get("nominal_storage_gb", {}).items() if k != "about"}
    return PriceTable(section("instance_types", "per instance hour"), section("services", "per hour"),
                      int(data["hours_per_month"]), nominal, str(data.get("eks_control_plane_date", {}).get("date", "")))


@functools.cache
def load_price_table() -> PriceTable:
    return build_price_table(json.loads(resources.files("eksml.catalog").joinpath(FILE).read_text(encoding="utf-8")))
