"""The namespaces validation reserves are exactly the ones the platform's components install into."""

from __future__ import annotations

from eksml.config.components import PLATFORM_NAMESPACES
from eksml.k8s.model.components import catalog
from eksml.k8s.model.components.baseline import UNOWNED_NAMESPACES


def test_the_reserved_namespaces_are_the_components_namespaces():
    used = {component.namespace for component in catalog() if component.namespace}
    assert set(PLATFORM_NAMESPACES) == used | set(UNOWNED_NAMESPACES)
    assert len(PLATFORM_NAMESPACES) == len(set(PLATFORM_NAMESPACES))
