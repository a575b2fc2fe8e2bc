"""What a validation rule is: a function of the environment and the catalog yielding (field path, message).

A rule declares the top-level sections it reads with `@needs`; the loader runs it only when those
sections validated, so a shape error elsewhere never hides it and partial data never crashes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from eksml.catalog import Catalog
from eksml.config.models import Environment

Finding = tuple[str, str]
Rule = Callable[[Environment, Catalog], Iterator[Finding]]


def needs(*sections: str) -> Callable[[Rule], Rule]:
    def mark(rule: Rule) -> Rule:
        unknown = set(sections) - set(Environment.model_fields)
        if unknown:
            raise ValueError(f"rule {rule.__name__} needs unknown sections {sorted(unknown)}")
        rule.needs = frozenset(sections)  # type: ignore[attr-defined]
        return rule

    return mark


def warning(rule: Rule) -> Rule:
    """A rule whose findings are warnings: printed and listed, but the file still validates (exit 0)."""
    rule.severity = "warning"  # type: ignore[attr-defined]
    return rule


def is_warning(rule: Rule) -> bool:
    return getattr(rule, "severity", "error") == "warning"


def runnable(rule: Rule, valid: frozenset[str]) -> bool:
    """A rule without `@needs` reads anything, so it runs only on a fully valid file."""
    return getattr(rule, "needs", frozenset(Environment.model_fields)) <= valid


def names(items: Iterable[str]) -> str:
    return ", ".join(sorted(items)) or "(none)"
