"""What an environment costs per hour and per month at min, desired and max size, from the sourced
price table (eksml/catalog/prices.json) and the EKS support calendar.

Only sourced figures are used. A pool on spot, on a Capacity Block, or on a type the table does not
price is reported as not priced, and the environment total says which items it leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from eksml.capacity.supply import SIZES, PoolSupply
from eksml.catalog import Catalog
from eksml.catalog.kubernetes_calendar import load_kubernetes_calendar, today
from eksml.catalog.prices import Price, PriceTable
from eksml.config.models import Environment


@dataclass(frozen=True)
class CostLine:
    item: str  # "pool a100-mig", "EKS control plane", ...
    basis: str  # what was priced: "p4de.24xlarge on-demand", "3 NAT gateways", ...
    usd_per_hour: dict[str, float]  # size -> USD per hour; empty when not priced
    not_priced: Optional[str] = None  # why, when not priced
    source: Optional[str] = None
    date: Optional[str] = None

    def as_dict(self, hours_per_month: int) -> dict:
        return {"item": self.item, "basis": self.basis, "usd_per_hour": self.usd_per_hour,
                "usd_per_month": {size: round(usd * hours_per_month, 2) for size, usd in self.usd_per_hour.items()},
                "not_priced": self.not_priced, "source": self.source, "date": self.date}


def _flat(item: str, basis: str, usd: float, price: Price) -> CostLine:
    return CostLine(item, basis, {size: usd for size in SIZES}, source=price.source, date=price.date)


def _unpriced(item: str, basis: str, why: str) -> CostLine:
    return CostLine(item, basis, {}, not_priced=why)


def _priced_node_type(supply: PoolSupply, region: str, prices: PriceTable, catalog: Catalog) -> Optional[str]:
    """A node group runs its first type; a Karpenter pool is priced on its priced type with the most
    GPUs (the node its max size is counted in)."""
    if supply.source == "node group":
        return supply.instance_types[0]
    candidates = [t for t in supply.instance_types
                  if (it := catalog.instance_type(t)) is not None and it.gpu_count == supply.gpus_per_node
                  and prices.instance(region, t) is not None]
    return min(candidates, key=lambda t: prices.instance(region, t).usd, default=None)


def node_price(supply: PoolSupply, region: str, prices: PriceTable, catalog: Catalog) -> Optional[Price]:
    """The on-demand price of one more node of the pool (None: spot, Capacity Block or not sourced)."""
    capacity = supply.capacity_type.lower()
    if "on_demand" not in capacity and "on-demand" not in capacity:
        return None
    node_type = _priced_node_type(supply, region, prices, catalog)
    return prices.instance(region, node_type) if node_type else None


def pool_cost(supply: PoolSupply, region: str, prices: PriceTable, catalog: Catalog) -> CostLine:
    item = f"pool {supply.name}"
    capacity = supply.capacity_type.lower()
    if "on_demand" not in capacity and "on-demand" not in capacity:
        return _unpriced(item, f"{supply.capacity_type} capacity",
                         "spot is not priced (no sourced spot figure)" if "spot" in capacity
                         else "Capacity Block reservation fees are not priced")
    node_type = _priced_node_type(supply, region, prices, catalog)
    price = node_price(supply, region, prices, catalog)
    if price is None:
        return _unpriced(item, f"{node_type or 'its GPU types'} in {region}", "no sourced on-demand price")
    basis = f"{node_type} on-demand" + (" (upper bound: spot is preferred and not priced)" if "spot" in capacity else "")
    hourly = {}
    for size in SIZES:
        nodes = supply.nodes[size]
        if nodes is None:
            return _unpriced(item, basis, "no node ceiling declared (no gpu_limit)")
        hourly[size] = round(nodes * price.usd, 6)
    return CostLine(item, basis, hourly, source=price.source, date=price.date)


def platform_costs(env: Environment, prices: PriceTable) -> list[CostLine]:
    """The fixed parts: control plane, NAT gateways, the MLflow database, nominal EFS and S3."""
    region, lines = env.region, []
    calendar = load_kubernetes_calendar()
    support = calendar.get(env.cluster.kubernetes_version)
    phase = support.phase(today()) if support else "standard"
    tier = "extended" if phase == "extended" else "standard"
    lines.append(CostLine("EKS control plane", f"{tier} support ({env.cluster.kubernetes_version})",
                          {size: calendar.price_per_hour[tier] for size in SIZES},
                          source=calendar.pricing_source, date=prices.eks_control_plane_date))
    nat = prices.service(region, "nat_gateway")
    count = 1 if env.network.nat_gateways == "single" else len(env.availability_zones)
    lines.append(_flat("NAT gateways", f"{count} x NAT gateway", round(count * nat.usd, 6), nat) if nat
                 else _unpriced("NAT gateways", f"{count} x NAT gateway", f"no sourced price in {region}"))
    db = env.storage.mlflow_db
    rds = prices.service(region, f"rds:{db.instance_class}")
    copies = 2 if db.multi_az else 1
    basis = f"{db.instance_class}{' Multi-AZ' if db.multi_az else ''}"
    lines.append(_flat("MLflow database", basis, round(copies * rds.usd, 6), rds) if rds
                 else _unpriced("MLflow database", basis, f"no sourced price for {db.instance_class} in {region}"))
    lines += _storage_costs(env, prices)
    return lines


def _storage_costs(env: Environment, prices: PriceTable) -> list[CostLine]:
    lines, hours = [], prices.hours_per_month
    nominal = prices.nominal_storage_gb
    if env.storage.efs:
        efs = prices.service(env.region, "efs_standard")
        gb = nominal.get("efs", 0)
        lines.append(_flat("EFS", f"nominal {gb} GB Standard", round(gb * efs.usd / hours, 6), efs) if efs
                     else _unpriced("EFS", f"nominal {gb} GB", f"no sourced price in {env.region}"))
    s3 = prices.service(env.region, "s3_standard")
    gb = nominal.get("s3_per_bucket", 0) * len(env.storage.buckets)
    lines.append(_flat("S3", f"nominal {gb} GB Standard ({len(env.storage.buckets)} buckets)",
                       round(gb * s3.usd / hours, 6), s3) if s3
                 else _unpriced("S3", f"nominal {gb} GB", f"no sourced price in {env.region}"))
    return lines


@dataclass(frozen=True)
class CostReport:
    lines: tuple[CostLine, ...]
    hours_per_month: int

    def total_per_hour(self, size: str) -> float:
        return round(sum(line.usd_per_hour.get(size, 0.0) for line in self.lines), 6)

    def total_per_month(self, size: str) -> float:
        return round(self.total_per_hour(size) * self.hours_per_month, 2)

    @property
    def not_priced(self) -> tuple[CostLine, ...]:
        return tuple(line for line in self.lines if line.not_priced)

    def line(self, item: str) -> CostLine:
        return next(line for line in self.lines if line.item == item)

    def as_dict(self) -> dict:
        return {"lines": [line.as_dict(self.hours_per_month) for line in self.lines],
                "total_usd_per_hour": {size: self.total_per_hour(size) for size in SIZES},
                "total_usd_per_month": {size: self.total_per_month(size) for size in SIZES},
                "not_priced": [line.item for line in self.not_priced], "hours_per_month": self.hours_per_month}


def cost_report(env: Environment, supplies: Sequence[PoolSupply], prices: PriceTable, catalog: Catalog) -> CostReport:
    lines = [pool_cost(supply, env.region, prices, catalog) for supply in supplies]
    return CostReport(tuple(lines + platform_costs(env, prices)), prices.hours_per_month)
