"""Rules on how current and compatible the pinned versions are: the EKS support calendar (warn in
extended support, refuse past it) and the sourced compatibility table (Karpenter and KServe per
Kubernetes minor, KServe ↔ cert-manager). Each message names both versions and the rule's source.
"""

from __future__ import annotations

from collections.abc import Iterator

from eksml.catalog import Catalog
from eksml.catalog.kubernetes_calendar import load_kubernetes_calendar, today
from eksml.catalog.pin_compatibility import load_compatibility, version_key
from eksml.config.models import Environment
from eksml.config.rule_base import Finding, needs, warning

HOURS_PER_MONTH = 730


@needs("cluster")
def kubernetes_not_past_extended_support(env: Environment, _: Catalog) -> Iterator[Finding]:
    calendar = load_kubernetes_calendar()
    minor = env.cluster.kubernetes_version
    support = calendar.get(minor)
    now = today()
    if support is not None and support.phase(now) == "ended":
        newest = calendar.newest_in_standard(now)
        yield ("cluster.kubernetes_version",
               f"Kubernetes {minor} left EKS extended support on {support.end_of_extended.isoformat()} "
               f"(today is {now.isoformat()}): EKS upgrades such clusters on its own schedule; "
               f"move to a version in standard support{f' (e.g. {newest})' if newest else ''}; source: {calendar.source}")


@warning
@needs("cluster")
def kubernetes_in_extended_support(env: Environment, _: Catalog) -> Iterator[Finding]:
    calendar = load_kubernetes_calendar()
    minor = env.cluster.kubernetes_version
    support = calendar.get(minor)
    now = today()
    if support is None or support.phase(now) != "extended":
        return
    standard, extended = calendar.price_per_hour["standard"], calendar.price_per_hour["extended"]
    newest = calendar.newest_in_standard(now)
    yield ("cluster.kubernetes_version",
           f"Kubernetes {minor} is in EKS extended support since {support.end_of_standard.isoformat()} (until "
           f"{support.end_of_extended.isoformat()}): the control plane costs ${extended:.2f}/hour instead of "
           f"${standard:.2f} (about ${(extended - standard) * HOURS_PER_MONTH:.0f} more a month per cluster); "
           f"upgrade{f' to {newest}' if newest else ''}; sources: {calendar.source}, {calendar.pricing_source}")


@needs("cluster", "addons")
def pins_fit_kubernetes(env: Environment, _: Catalog) -> Iterator[Finding]:
    table = load_compatibility()
    kubernetes = env.cluster.kubernetes_version
    for name, addon in _enabled_addons(env):
        for rule in table.kubernetes_rules(name, addon.version):
            problem = rule.kubernetes_problem(kubernetes)
            if problem:
                yield (f"addons.{name}.version",
                       f"{name} {addon.version} {problem}, but cluster.kubernetes_version is {kubernetes} "
                       f"(rule for {name} {rule.range_text()}; source: {rule.source})")


@needs("addons")
def pins_fit_each_other(env: Environment, _: Catalog) -> Iterator[Finding]:
    table = load_compatibility()
    addons = dict(_enabled_addons(env))
    for name, addon in addons.items():
        for rule in table.requirement_rules(name, addon.version):
            other = addons.get(rule.needs or "")
            if other is None:
                yield (f"addons.{name}.version", f"{name} {addon.version} needs {rule.needs} {rule.needs_min} or newer, "
                                                 f"which is not enabled (source: {rule.source})")
            elif version_key(other.version) < version_key(rule.needs_min or "0"):
                yield (f"addons.{rule.needs}.version",
                       f"{name} {addon.version} needs {rule.needs} {rule.needs_min} or newer; it pins {other.version} "
                       f"(source: {rule.source})")


def _enabled_addons(env: Environment):
    for name in type(env.addons).model_fields:
        addon = getattr(env.addons, name)
        if getattr(addon, "enabled", True) and isinstance(getattr(addon, "version", None), str):
            yield name, addon


RULES = (kubernetes_not_past_extended_support, kubernetes_in_extended_support, pins_fit_kubernetes, pins_fit_each_other)
