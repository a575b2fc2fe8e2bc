"""What `eksml catalog [INSTANCE_TYPE]` prints: one structured view, rendered as JSON or text."""

from __future__ import annotations

from typing import Any

from eksml.catalog.model import Catalog, InstanceType
from eksml.catalog.prices import PriceTable
from eksml.table import text_table


def describe_instance_type(it: InstanceType, catalog: Catalog) -> dict[str, Any]:
    """JSON-able facts a user needs to size a node pool on this type."""
    description: dict[str, Any] = {
        "type": it.name,
        "family": it.family,
        "vcpus": it.vcpus,
        "memory_gib": it.memory_gib,
        "architecture": it.architecture,
        "efa": it.efa,
        "gpu": None,
        "mig_profiles": [],
    }
    if it.gpu is None:
        return description
    description["gpu"] = {
        "id": it.gpu.id,
        "product": it.gpu.product,
        "ec2_name": it.gpu.ec2_name,
        "count": it.gpu_count,
        "memory_gb": it.gpu.memory_gb,
        "total_memory_gb": it.gpu.memory_gb * it.gpu_count,
        "mig_capable": it.gpu.mig_capable,
    }
    description["mig_profiles"] = [
        {
            "name": profile.name,
            "class": profile.profile_class,
            "compute_slices": profile.compute_slices,
            "memory_slices": profile.memory_slices,
            "max_per_gpu": profile.max_per_gpu,
            "max_per_instance": profile.max_per_gpu * it.gpu_count,
            "resource_name": profile.resource_name,
        }
        for profile in catalog.mig_profiles(it.gpu.id)
    ]
    return description


def format_instance_type(it: InstanceType, catalog: Catalog) -> str:
    """Human summary line, then the MIG table (or why there is none)."""
    hardware = f"{it.gpu_count}x {it.gpu.product} ({it.gpu.id})" if it.gpu else "no GPU"
    lines = [
        f"{it.name}: {hardware}, {it.vcpus} vCPU, {it.memory_gib} GiB",
        f"  architecture {it.architecture}, EFA {'yes' if it.efa else 'no'}",
    ]
    if it.gpu is None:
        return "\n".join(lines)
    profiles = catalog.mig_profiles(it.gpu.id)
    if not profiles:
        lines.append(f"  MIG: not supported on {it.gpu.id}; share the GPU with time-slicing instead")
        return "\n".join(lines)

    header = ("profile", "compute", "memory", "max/GPU", f"max/{it.name}", "resource (mixed strategy)")
    rows = [
        (
            p.name,
            f"{p.compute_slices}/{catalog.compute_slices_per_gpu}",
            f"{p.memory_slices}/{catalog.memory_slices_per_gpu}",
            str(p.max_per_gpu),
            str(p.max_per_gpu * it.gpu_count),
            p.resource_name,
        )
        for p in profiles
    ]
    lines.append("  MIG profiles:")
    lines.extend("    " + line for line in text_table([header, *rows], rule=False))
    return "\n".join(lines)


def format_catalog(catalog: Catalog) -> str:
    """One line per instance type, smallest first within a family, so sizes read as a ladder."""
    rows = []
    for it in sorted(catalog.instance_types(), key=lambda it: (it.family, it.vcpus, it.name)):
        gpu = f"{it.gpu_count}x {it.gpu.id}" if it.gpu else "-"
        features = [flag for flag, on in (("EFA", it.efa), ("MIG", bool(it.gpu and it.gpu.mig_capable))) if on]
        rows.append((it.name, gpu, f"{it.vcpus} vCPU", f"{it.memory_gib} GiB", it.architecture, " ".join(features)))
    return "\n".join(text_table(rows, rule=False))



def format_prices(prices: PriceTable, calendar_prices: dict[str, float], calendar_source: str) -> str:
    """Every sourced price with its page and date; what is not listed is not priced."""
    rows = [("region", "item", "USD", "unit", "date", "source")]
    for region, item, price in prices.rows():
        rows.append((region, item, f"{price.usd:g}", price.unit, price.date, price.source))
    for tier, usd in calendar_prices.items():
        rows.append(("all US", f"EKS control plane ({tier} support)", f"{usd:g}", "per cluster hour", prices.eks_control_plane_date,
                     calendar_source))
    note = ("Prices (on-demand, Linux; spot is not priced; anything not listed is not priced; "
            f"a month is {prices.hours_per_month} hours):")
    return "\n".join([note, *("  " + line for line in text_table(rows))])
