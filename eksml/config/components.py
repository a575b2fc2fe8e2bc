"""What the component descriptions mean for one environment: which components run, which namespaces
and role names they take. Validation and both layers ask here, so they cannot disagree."""

from __future__ import annotations

from typing import Any, Union

from eksml.components import COMPONENTS, component_namespaces, identities, uis
from eksml.components.spec import AnyGate, ComponentSpec, Gate
from eksml.contract.names import FIXED_ROLE_SUFFIXES, KUBERNETES_NAMESPACES


def _field(env: Any, path: str) -> Any:
    value = env
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def gate_open(env: Any, gate: Union[Gate, AnyGate]) -> bool:
    if isinstance(gate, AnyGate):
        return any(gate_open(env, option) for option in gate.options)
    value = _field(env, gate.path)
    return bool(value) if gate.equals is True else value == gate.equals


def component_enabled(env: Any, spec: ComponentSpec) -> bool:
    """On when its add-on is (if it has one) and every gate is open."""
    if spec.addon is not None and not getattr(env.addons, spec.addon.key).enabled:
        return False
    return all(gate_open(env, gate) for gate in spec.gates)


def enabled_components(env: Any) -> tuple[ComponentSpec, ...]:
    return tuple(spec for spec in COMPONENTS if component_enabled(env, spec))


def ui_installed(env: Any, ui_name: str) -> bool:
    return component_enabled(env, uis()[ui_name][0])


# Every namespace a release installs into, and those Kubernetes owns that a release uses: a team
# namespace must be none of them (it would take over the release's namespace and its quota).
PLATFORM_NAMESPACES: tuple[str, ...] = tuple(dict.fromkeys((*KUBERNETES_NAMESPACES, *component_namespaces())))

# Every IAM role name suffix: the AWS layer's own roles and one per IRSA identity.
ROLE_SUFFIXES: tuple[str, ...] = (*FIXED_ROLE_SUFFIXES, *(identity.key for _, identity in identities()))
