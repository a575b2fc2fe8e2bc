"""What charts do not declare: a component version's supported Kubernetes range and the versions it
needs of other components (Karpenter per minor, KServe ↔ cert-manager), each rule with its source.

Only combinations a rule covers are judged: a version no rule mentions is "unknown", never refused,
so a newer release is not blocked by a table that has not caught up with it.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Optional

FILE = "pin_compatibility.json"


def version_key(version: str) -> tuple[int, int, int]:
    """'v1.21.1' / '1.35' / 'v26.7.0' -> comparable numbers (missing parts are 0)."""
    parts = [int(p) for p in re.findall(r"\d+", version.split("-")[0].split("+")[0])[:3]]
    return tuple(parts + [0] * (3 - len(parts)))  # type: ignore[return-value]


@dataclass(frozen=True)
class Rule:
    component: str          # environment add-on key, e.g. karpenter, kserve
    since: str
    below: Optional[str]
    source: str
    kubernetes_min: Optional[str] = None
    kubernetes_max: Optional[str] = None
    needs: Optional[str] = None
    needs_min: Optional[str] = None
    feature: Optional[str] = None  # a feature of the component that exists from `since` on

    def covers(self, version: str) -> bool:
        v = version_key(version)
        return version_key(self.since) <= v and (self.below is None or v < version_key(self.below))

    def kubernetes_problem(self, kubernetes: str) -> Optional[str]:
        k = version_key(kubernetes)
        if self.kubernetes_min and k < version_key(self.kubernetes_min):
            return f"needs Kubernetes {self.kubernetes_min} or newer"
        if self.kubernetes_max and k[:2] > version_key(self.kubernetes_max)[:2]:
            return f"supports Kubernetes up to {self.kubernetes_max}"
        return None

    def range_text(self) -> str:
        return f"{self.since} and newer" if self.below is None else f"{self.since} up to (not incl.) {self.below}"


@dataclass(frozen=True)
class CompatibilityTable:
    kubernetes: tuple[Rule, ...]
    requires: tuple[Rule, ...]
    features: tuple[Rule, ...] = ()

    def feature_rule(self, component: str, feature: str) -> Optional[Rule]:
        """Since which version `component` has `feature` (None: the table does not say)."""
        return next((r for r in self.features if r.component == component and r.feature == feature), None)

    def kubernetes_rules(self, component: str, version: str) -> list[Rule]:
        return [r for r in self.kubernetes if r.component == component and r.covers(version)]

    def requirement_rules(self, component: str, version: str) -> list[Rule]:
        return [r for r in self.requires if r.component == component and r.covers(version)]


@functools.cache
def load_compatibility() -> CompatibilityTable:
    return build_table(json.loads(resources.files("eksml.catalog").joinpath(FILE).read_text(encoding="utf-8")))


def build_table(data: dict[str, Any]) -> CompatibilityTable:
    def rule(entry: dict[str, Any]) -> Rule:
        if not str(entry.get("source", "")).startswith("https://"):
            raise ValueError(f"{FILE}: every rule needs a 'source' (https://...): {entry}")
        return Rule(component=entry["component"], since=entry["from"], below=entry.get("below"), source=entry["source"],
                    kubernetes_min=entry.get("kubernetes_min"), kubernetes_max=entry.get("kubernetes_max"),
                    needs=entry.get("needs"), needs_min=entry.get("needs_min"), feature=entry.get("feature"))

    return CompatibilityTable(tuple(rule(e) for e in data.get("kubernetes", [])),
                              tuple(rule(e) for e in data.get("requires", [])),
                              tuple(rule(e) for e in data.get("features", [])))
