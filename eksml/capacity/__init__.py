"""`eksml capacity ENV`: the GPU slices each pool offers, who asks for them, and the teams' quotas.

Everything is computed from the environment, the catalog and the rendered platform; nothing
touches AWS or a cluster.
"""

from __future__ import annotations

from typing import Optional, Sequence

from eksml.capacity.cost import cost_report
from eksml.capacity.demand import gpu_demands
from eksml.capacity.report import CapacityReport, load_findings, pool_loads, quota_findings, team_quotas
from eksml.capacity.supply import pool_supplies
from eksml.catalog import Catalog, load_catalog
from eksml.catalog.prices import load_price_table
from eksml.config.models import Environment
from eksml.errors import ConfigError, Issue
from eksml.k8s.model.records import Placement


def platform_placements(env: Environment) -> list[Placement]:
    """The values-only render's pods placed on the pools (no chart needed)."""
    from eksml.outputs import predict_outputs
    from eksml.k8s.model.platform import build_platform
    from eksml.k8s.checks.scheduling import check_scheduling

    return check_scheduling(build_platform(env, predict_outputs(env)))


def capacity_report(env: Environment, catalog: Optional[Catalog] = None,
                    placements: Optional[Sequence[Placement]] = None) -> CapacityReport:
    """The report for `env`; `placements` from a real-chart render when given, else the values-only render."""
    hardware = catalog or load_catalog()
    supplies = pool_supplies(env, hardware)
    demands = gpu_demands(platform_placements(env) if placements is None else placements)
    loads = pool_loads(supplies, demands)
    quotas = team_quotas(env, supplies)
    findings = (*load_findings(loads, demands), *quota_findings(quotas))
    cost = cost_report(env, supplies, load_price_table(), hardware)
    return CapacityReport(env.name, supplies, demands, loads, quotas, tuple(findings), cost)


def check_capacity(env: Environment, env_file: str, catalog: Optional[Catalog] = None) -> CapacityReport:
    """Validate-time: ConfigError when some pool's pods cannot fit even at the pool's max size."""
    report = capacity_report(env, catalog)
    if report.errors:
        raise ConfigError([Issue(env_file, f.field, f.message) for f in report.errors])
    return report


def capacity_what_if(env: Environment, text: str, catalog: Optional[Catalog] = None):
    """(`--add 'NAME: RESOURCE xN'` answered on env's pools, hours in a month)."""
    from eksml.capacity.what_if import parse_addition, what_if

    addition = parse_addition(text)  # bad input before any render
    hardware = catalog or load_catalog()
    prices = load_price_table()
    return what_if(capacity_report(env, hardware), addition, env.region, prices, hardware), prices.hours_per_month
