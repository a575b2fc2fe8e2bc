"""The release catalog: one component per description in eksml/components, in that order (ties in
the dependency order keep it). A module of this package that subclasses DescribedComponent for a
description gives it behaviour; every other description is used as it is."""

from __future__ import annotations

import functools
import importlib
import pkgutil

from eksml.components import COMPONENTS
from eksml.k8s.model.components.base import Component, DescribedComponent


@functools.cache
def _behaviour() -> dict[str, type[DescribedComponent]]:
    found: dict[str, type[DescribedComponent]] = {}
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for value in vars(loaded).values():
            if isinstance(value, type) and issubclass(value, DescribedComponent) and "spec" in value.__dict__:
                if found.setdefault(value.spec.name, value) is not value:
                    raise TypeError(f"two classes describe component '{value.spec.name}'")
    return found


def catalog() -> tuple[Component, ...]:
    classes = _behaviour()
    return tuple(classes.get(spec.name, DescribedComponent.of(spec))() for spec in COMPONENTS)


__all__ = ["Component", "DescribedComponent", "catalog"]
