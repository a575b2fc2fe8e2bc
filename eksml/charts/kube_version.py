"""A chart's `kubeVersion` constraint against the environment's Kubernetes version.

Helm checks it when it templates; `helm lint` does not. For a chart Helm cannot template (a missing
subchart) eksml checks it itself, with the subset of Masterminds semver that charts use:
`>=1.22.0-0`, `>= 1.16.0-0 < 1.35`, `~1.2`, `^1.2.3`, `1.2.x`, joined by `,`/space (and) and `||` (or).
"""

from __future__ import annotations

import re
from typing import Optional

_TERM = re.compile(r"(\^|~>?|>=|<=|!=|=>|=<|=|>|<)?\s*v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-[0-9A-Za-z.-]+)?")
_WILD = {"x", "X", "*"}

Version = tuple[int, int, int]


def _parse(kube_version: str) -> Version:
    parts = [int(p) for p in re.findall(r"\d+", kube_version)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))  # type: ignore[return-value]


def _term_ok(op: str, raw: tuple[str, ...], v: Version) -> bool:
    given = [p for p in raw if p]
    wild_at = next((i for i, p in enumerate(given) if p in _WILD), len(given))
    numbers = [int(p) for p in given[:wild_at]]
    low = tuple(numbers + [0] * (3 - len(numbers)))
    if op in ("", "=") and wild_at < 3:  # 1.2, 1.2.x: the whole range
        op = "~" if numbers else ">="
    if op in ("~", "~>"):
        bump = 1 if len(numbers) >= 2 else 0  # ~1.2.3 / ~1.2 -> <1.3.0 ; ~1 -> <2.0.0
        high = list(low)
        high[bump] += 1
        high[bump + 1:] = [0] * (2 - bump)
        return low <= v < tuple(high)
    if op == "^":
        return low <= v < (low[0] + 1, 0, 0)
    return {
        ">=": v >= low, "=>": v >= low, ">": v > low, "<=": v <= low, "=<": v <= low, "<": v < low,
        "!=": v != low, "=": v == low, "": v == low,
    }[op]


def satisfies(kube_version: str, constraint: str) -> Optional[bool]:
    """True/False, or None when the constraint uses syntax this reader does not know."""
    v = _parse(kube_version)
    for group in constraint.split("||"):
        group = group.strip()
        terms = list(_TERM.finditer(group))
        if not terms or re.sub(r"[\s,]", "", _TERM.sub("", group)):
            return None
        if all(_term_ok(t.group(1) or "", t.groups()[1:], v) for t in terms):
            return True
    return False
