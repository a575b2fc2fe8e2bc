"""The capacity report for people: one screen of text, or markdown for a pull-request comment."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from eksml.capacity.against import Change
from eksml.capacity.report import CapacityReport
from eksml.capacity.supply import SIZES, PoolSupply
from eksml.table import text_table


def _short(resource: str) -> str:
    return resource.removeprefix("nvidia.com/")


def _count(value: Optional[int]) -> str:
    return "no limit" if value is None else str(value)


def pool_rows(report: CapacityReport) -> list[list[str]]:
    """One row per pool and GPU resource: what one node advertises and what the pool holds at each size."""
    rows = [["pool", "instance type", "nodes min/desired/max", "GPUs/node", "sharing", "resource",
             "GB each", "per node", "min", "desired", "max"]]
    for s in report.supplies:
        types = ", ".join(s.instance_types) if len(s.instance_types) <= 2 else f"{s.instance_types[0]} (+{len(s.instance_types) - 1})"
        head = [s.name, types, "/".join(_count(s.nodes[size]) for size in SIZES), str(s.gpus_per_node or "-"),
                s.sharing.split(" [")[0]]
        if not s.per_node:
            rows.append(head + ["-"] * 6)
        for index, (resource, units) in enumerate(sorted(s.per_node.items())):
            totals = [s.total(size) for size in SIZES]
            cells = ["no limit" if total is None else str(total[resource]) for total in totals]
            memory = s.memory_gb.get(resource)
            rows.append((head if index == 0 else [""] * len(head))
                        + [_short(resource), f"{memory:g}" if memory else "-", str(units), *cells])
    return rows


def demand_rows(report: CapacityReport) -> list[list[str]]:
    rows = [["pool", "workload", "per pod", "replicas", "asks", "of desired / max"]]
    for d in report.demands:
        supply = report.supply(d.pool)
        desired, ceiling = supply.total("desired") or {}, supply.total("max")
        for resource, units in sorted(d.requests.items()):
            replicas = f"{d.replicas}" + (f" (max {d.max_replicas})" if d.max_replicas not in (None, d.replicas) else "")
            of_max = "no limit" if ceiling is None else str(ceiling.get(resource, 0))
            rows.append([d.pool, d.workload, f"{units} {_short(resource)}", replicas,
                         str(units * d.replicas), f"{desired.get(resource, 0)} / {of_max}"])
    return rows


def team_rows(report: CapacityReport) -> list[list[str]]:
    rows = [["team", "gpu_quota", "nvidia.com/gpu offered min/desired/max"]]
    for q in report.quotas:
        rows.append([q.team, str(q.gpu_quota), "/".join(_count(q.offered[size]) for size in SIZES)])
    return rows


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def cost_rows(report: CapacityReport) -> list[list[str]]:
    cost = report.cost
    rows = [["item", "priced as", "$/hour min/desired/max", "$/month desired", "source date"]]
    for line in cost.lines:
        if line.not_priced:
            rows.append([line.item, line.basis, f"not priced: {line.not_priced}", "-", "-"])
            continue
        hourly = " / ".join(_usd(line.usd_per_hour[size]) for size in SIZES)
        rows.append([line.item, line.basis, hourly, _usd(line.usd_per_hour["desired"] * cost.hours_per_month),
                     line.date or "see catalog"])
    total = " / ".join(_usd(cost.total_per_hour(size)) for size in SIZES)
    left_out = f" (without {len(cost.not_priced)} unpriced)" if cost.not_priced else ""
    rows.append(["total" + left_out, "", total, _usd(cost.total_per_month("desired")), ""])
    return rows


def _sections(report: CapacityReport) -> list[tuple[str, list[list[str]]]]:
    sections = [("Pools: what each offers", pool_rows(report)),
                ("Demand: GPU pods of the rendered platform", demand_rows(report))]
    if report.quotas:
        sections.append(("Teams: gpu_quota against what the pools advertise", team_rows(report)))
    if report.cost is not None:
        sections.append((f"Cost: on-demand, {report.cost.hours_per_month} hours a month "
                         "(sources: eksml catalog)", cost_rows(report)))
    return sections


def _findings(report: CapacityReport) -> list[str]:
    if not report.findings:
        return ["Every GPU pod fits its pool at desired size; no quota exceeds what the pools offer."]
    return [f"{f.severity}: {f.message} ({f.field})" for f in report.findings]


def format_text(report: CapacityReport, extra: Sequence[tuple[str, list[list[str]]]] = ()) -> str:
    lines = [f"Capacity of {report.env}"]
    for title, rows in (*_sections(report), *extra):
        lines += ["", f"{title}:"]
        lines += ["  " + line for line in (text_table(rows) if len(rows) > 1 else ["(none)"])]
    return "\n".join([*lines, "", *_findings(report)])


def _markdown_table(rows: list[list[str]]) -> list[str]:
    escape: Callable[[str], str] = lambda cell: cell.replace("|", "\\|")
    lines = ["| " + " | ".join(escape(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return lines + ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows[1:]]


def format_markdown(report: CapacityReport, extra: Sequence[tuple[str, list[list[str]]]] = ()) -> str:
    lines = [f"### Capacity of `{report.env}`"]
    for title, rows in (*_sections(report), *extra):
        lines += ["", f"**{title}**", ""]
        lines += _markdown_table(rows) if len(rows) > 1 else ["(none)"]
    return "\n".join([*lines, "", *(f"- {line}" for line in _findings(report))])


def _value(value: Optional[float], money: bool) -> str:
    if value is None:
        return "-"
    return _usd(value) if money else f"{value:g}"


def _delta(value: Optional[float], money: bool) -> str:
    if value is None:
        return "-"
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return sign + (f"${abs(value):,.2f}" if money else f"{abs(value):g}")


def change_rows(changes: Sequence[Change]) -> list[list[str]]:
    rows = [["", "before min/desired/max", "after min/desired/max", "change min/desired/max"]]
    for change in changes:
        money = change.item.startswith("cost")
        rows.append([change.item,
                     " / ".join(_value(change.before.get(size), money) for size in SIZES),
                     " / ".join(_value(change.after.get(size), money) for size in SIZES),
                     " / ".join(_delta(change.delta(size), money) for size in SIZES)])
    return rows


def format_changes(env: str, other: str, changes: Sequence[Change], new: bool, markdown: bool) -> str:
    title = f"Capacity of {env} against {other}" + (" (a new environment)" if new else "")
    if not changes:
        body = ["No change in GPU slices or cost."]
    elif markdown:
        body = _markdown_table(change_rows(changes))
    else:
        body = ["  " + line for line in text_table(change_rows(changes))]
    head = [f"### {title}", ""] if markdown else [title, ""]
    return "\n".join(head + body)
