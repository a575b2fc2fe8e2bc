"""`eksml outdated`: for every pin (Kubernetes, AMI release, each chart) the version in use, the
newest one available, and whether that newer one fits the rest of the environment.

"Available" is what eksml can show a source for: the EKS support calendar and the AMI releases in the
catalog, and the chart repository's index.yaml (the publisher's, or the mirror the environment or
EKSML_CHART_MIRROR names). An OCI registry has no index, so its newest version is not known here.
Compatibility uses what validate uses: the index's kubeVersion of the newer chart and the sourced table.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import asdict, dataclass, replace
from typing import Optional

from eksml.catalog.aws_facts import load_aws_facts
from eksml.catalog.kubernetes_calendar import load_kubernetes_calendar, minor_key, today
from eksml.catalog.pin_compatibility import CompatibilityTable, load_compatibility, version_key
from eksml.charts.kube_version import satisfies
from eksml.config.loader import printable
from eksml.versions.index_entries import newest_release, skipped_note
from eksml.charts.repository import HttpRepository
from eksml.charts.sources import ChartRequest, redact
from eksml.components import COMPONENTS
from eksml.config.models import Environment
from eksml.k8s.model.chart_requests import environment_charts

AMI_FILE_SOURCE = "https://github.com/awslabs/amazon-eks-ami/releases"


@dataclass(frozen=True)
class Pin:
    name: str              # kubernetes, ami-release, or the chart name
    field: str             # where it is pinned in the environment file
    current: str
    newest: Optional[str]  # None: not known from any source eksml reads
    compatible: Optional[bool]  # of the newest, with the rest of the environment; None: not judged
    note: str = ""

    @property
    def outdated(self) -> bool:
        return self.newest is not None and version_key(self.newest) > version_key(self.current)


def outdated_pins(env: Environment, on: Optional[datetime.date] = None) -> list[Pin]:
    on = on or today()
    table = load_compatibility()
    return [_kubernetes(env, table, on), _ami(env), *_charts(env, table)]


def _kubernetes(env: Environment, table: CompatibilityTable, on: datetime.date) -> Pin:
    calendar = load_kubernetes_calendar()
    offered = set(load_aws_facts().kubernetes_minors)
    released = [m for m, s in calendar.minors.items() if s.phase(on) in ("standard", "extended") and m in offered]
    newest = max(released, key=minor_key, default=None)
    current = env.cluster.kubernetes_version
    support = calendar.get(current)
    note = f"{support.phase(on)} support until {(support.end_of_standard if support.phase(on) == 'standard' else support.end_of_extended).isoformat()}" \
        if support and support.phase(on) in ("standard", "extended") else ""
    blockers = [] if newest is None else [
        f"{name} {version}: {problem}" for name, version in _addon_versions(env).items()
        for rule in table.kubernetes_rules(name, version) if (problem := rule.kubernetes_problem(newest))]
    if blockers:
        note = "; ".join(filter(None, [note, *blockers]))
    return Pin("kubernetes", "cluster.kubernetes_version", current, newest,
               None if newest is None else not blockers, note)


def _ami(env: Environment) -> Pin:
    releases = _ami_releases().get(env.cluster.kubernetes_version, [])
    newest = max(releases, key=_release_key, default=None)
    current = env.cluster.ami_release_version or "(latest at apply)"
    pin = Pin("ami-release", "cluster.ami_release_version", current, newest, True if newest else None,
              f"known releases for {env.cluster.kubernetes_version}: {AMI_FILE_SOURCE}" if newest else "")
    if env.cluster.ami_release_version is None or newest is None:
        return replace(pin, newest=newest if env.cluster.ami_release_version else None)
    return pin if _release_key(newest) > _release_key(current) else replace(pin, newest=current)


def _charts(env: Environment, table: CompatibilityTable) -> list[Pin]:
    addon_of = {spec.name: spec.addon.key for spec in COMPONENTS if spec.addon is not None}
    versions = _addon_versions(env)
    repositories: dict[str, HttpRepository] = {}
    pins = []
    for request in environment_charts(env):
        addon = addon_of.get(request.release or "", "")
        field = f"addons.{addon}.version" if addon in versions else f"({request.release})"
        if request.is_oci:
            pins.append(Pin(request.name, field, request.version, None, None,
                            f"OCI registry {redact(request.repository)} has no index; set charts.mirror to compare"))
            continue
        repository = repositories.setdefault(request.repository, HttpRepository(request.repository))
        pins.append(_chart_pin(request, repository, field, addon, env, table, versions))
    return pins


def _chart_pin(request: ChartRequest, repository: HttpRepository, field: str, addon: str, env: Environment,
               table: CompatibilityTable, versions: dict[str, str]) -> Pin:
    releases = newest_release(repository.entries().get(request.name))
    skipped = skipped_note(releases.skipped, redact(request.repository))
    if releases.newest is None:
        where = f"not in {redact(request.repository)}"
        return Pin(request.name, field, request.version, None, None, "; ".join(filter(None, [where, skipped])))
    newest = releases.newest
    version = str(newest["version"])
    if version_key(version) <= version_key(request.version):
        return Pin(request.name, field, request.version, request.version, True, skipped)
    problems = []
    unknown = []
    constraint = newest.get("kubeVersion")
    if constraint:
        verdict = satisfies(env.cluster.kubernetes_version, str(constraint))
        if verdict is False:
            problems.append(f"its kubeVersion '{printable(str(constraint))}' excludes Kubernetes "
                            f"{env.cluster.kubernetes_version}")
        elif verdict is None:  # a constraint that cannot be read is no promise of compatibility
            unknown.append(f"its kubeVersion '{printable(str(constraint))[:80]}' cannot be read; compatibility unknown")
    for rule in table.kubernetes_rules(addon, version):
        if problem := rule.kubernetes_problem(env.cluster.kubernetes_version):
            problems.append(f"{problem} ({rule.source})")
    for rule in table.requirement_rules(addon, version):
        have = versions.get(rule.needs or "")
        if have is not None and version_key(have) < version_key(rule.needs_min or "0"):
            problems.append(f"needs {rule.needs} {rule.needs_min}+ ({rule.source})")
    compatible = False if problems else (None if unknown else True)
    return Pin(request.name, field, request.version, version, compatible, "; ".join(filter(None, [*problems, *unknown, skipped])))


def _addon_versions(env: Environment) -> dict[str, str]:
    found = {}
    for name in type(env.addons).model_fields:
        addon = getattr(env.addons, name)
        if getattr(addon, "enabled", True) and isinstance(getattr(addon, "version", None), str):
            found[name] = addon.version
    return found


def _ami_releases() -> dict[str, list[str]]:
    from importlib import resources

    data = json.loads(resources.files("eksml.catalog").joinpath("eks_ami_releases.json").read_text(encoding="utf-8"))
    return data.get("releases", {})


def _release_key(release: str) -> tuple:
    version, _, date = release.partition("-")
    return (*version_key(version), date)


def as_json(env: Environment, pins: list[Pin]) -> str:
    return json.dumps({"environment": env.name, "pins": [asdict(p) | {"outdated": p.outdated} for p in pins]}, indent=2)


def as_markdown(env: Environment, pins: list[Pin]) -> str:
    lines = [f"### Pinned versions of `{env.name}`", "", "| pin | field | in use | newest | compatible | note |",
             "|---|---|---|---|---|---|"]
    for p in pins:
        lines.append(f"| {p.name} | `{p.field}` | `{p.current}` | {f'`{p.newest}`' if p.newest else 'unknown'} | "
                     f"{_word(p)} | {p.note.replace('|', '/')} |")
    return "\n".join(lines)


def as_text(env: Environment, pins: list[Pin]) -> str:
    width = max(len(p.name) for p in pins)
    lines = [f"{env.name}: {sum(p.outdated for p in pins)} of {len(pins)} pins have a newer version"]
    for p in pins:
        newest = p.newest or "unknown"
        state = f"-> {newest} ({_word(p)})" if p.outdated else ("current" if p.newest else f"newest {newest}")
        lines.append(f"  {p.name:<{width}}  {p.current:<20} {state}{f'  [{p.note}]' if p.note else ''}")
    return "\n".join(lines)


def _word(pin: Pin) -> str:
    if not pin.outdated:
        return "current" if pin.newest else "-"
    return {True: "compatible", False: "incompatible", None: "not judged"}[pin.compatible]

