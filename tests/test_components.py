"""The component descriptions are the one place a component is spelled, and everything derived from
them agrees with them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from eksml.components import COMPONENTS, addon_switches, identities, uis
from eksml.components.spec import ControllerPolicy
from eksml.config.models import Addons
from modules.irsa_policies import CONTROLLER_POLICIES

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTIONS = ROOT / "eksml" / "components"

# Strings that are spelled like a component but name something else, each with the reason.
NOT_A_COMPONENT: dict[tuple[str, str], str] = {
    ("eksml/promote.py", "karpenter"): "the environment file's `karpenter:` section, listed as not promoted",
    ("eksml/k8s/model/components/mesh_cni.py", "linkerd"): "the `linkerd` section of the CNI plugin's config",
    ("eksml/promote.py", "access"): "the environment file's `access:` section, listed as not promoted",
    ("eksml/config/rules_serving.py", "karpenter"): "a rule's `@needs` field of the environment file",
    ("eksml/config/rules_serving.py", "access"): "a rule's `@needs` field of the environment file",
    ("eksml/config/rules_pools.py", "karpenter"): "a rule's `@needs` field of the environment file",
    ("eksml/config/rules_operations.py", "karpenter"): "a rule's `@needs` field of the environment file",
    ("eksml/config/rules_operations.py", "access"): "a rule's `@needs` field of the environment file",
    ("eksml/config/rules_training.py", "karpenter"): "a rule's `@needs` field of the environment file",
    ("eksml/config/rules_reservations.py", "karpenter"): "a rule's `@needs` field of the environment file",
    ("eksml/k8s/model/records.py", "karpenter"): "a pool's source: a Karpenter NodePool rather than a node group",
    ("eksml/k8s/model/pools.py", "karpenter"): "a pool's source: a Karpenter NodePool rather than a node group",
    ("eksml/k8s/model/dashboards.py", "karpenter"): "a pool's source: a Karpenter NodePool rather than a node group",
    ("eksml/contract/names.py", "karpenter"): "the Karpenter stack's name (AWS layer)",
    ("eksml/contract/names.py", "mlflow"): "the MLflow database's name and user in PostgreSQL",
    ("eksml/contract/names.py", "kube-system"): "the namespace Kubernetes owns, defined in the contract",
    ("eksml/k8s/model/components/monitoring.py", "grafana"): "the Grafana subchart's key in kube-prometheus-stack's values",
    ("eksml/k8s/checks/object_checks.py", "kube-system"): "the namespaces every EKS cluster has before any install",
    ("stacks/karpenter.py", "karpenter"): "a construct id in the Karpenter stack",
    ("eksml/k8s/model/components/kserve.py", "kserve"): "the kserve charts' top-level values key",
    ("eksml/k8s/model/components/chatqna.py", "monitoring"): "the chatqna chart's global.monitoring switch",
    ("eksml/k8s/model/components/chatqna.py", "chatqna-ui"): "the chatqna chart's UI subchart key",
    ("eksml/k8s/model/components/chatqna_patches.py", "chatqna-ui"): "the UI subchart's container (its alias)",
}


def _spellings() -> dict[str, str]:
    found: dict[str, str] = {}
    for spec in COMPONENTS:
        found.setdefault(spec.name, f"component {spec.name}")
        if spec.namespace:
            found.setdefault(spec.namespace, f"namespace of {spec.name}")
    for key in addon_switches():
        found.setdefault(key, f"add-on key {key}")
    for name in uis():
        found.setdefault(name, f"UI {name}")
    return found


def _string_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_no_component_is_spelled_outside_its_description():
    spellings = _spellings()
    found = []
    for package in ("eksml", "stacks", "modules"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if DESCRIPTIONS in path.parents:
                continue
            relative = path.relative_to(ROOT).as_posix()
            for line, value in _string_literals(path):
                if value in spellings and (relative, value) not in NOT_A_COMPONENT:
                    found.append(f"{relative}:{line} spells '{value}' ({spellings[value]})")
    assert found == [], "refer to the description in eksml/components instead:\n" + "\n".join(found)


def test_the_addons_model_has_one_field_per_addon_key():
    assert list(Addons.model_fields) == list(addon_switches())


def test_names_namespaces_identities_and_uis_are_unique():
    names = [spec.name for spec in COMPONENTS]
    assert len(names) == len(set(names))
    keys = [identity.key for _, identity in identities()]
    assert len(keys) == len(set(keys))
    ports = [ui.local_port for _, ui in uis().values()]
    assert len(ports) == len(set(ports)), "two UIs would port-forward to the same local port"


@pytest.mark.parametrize("spec", COMPONENTS, ids=lambda spec: spec.name)
def test_dependencies_are_registered_components(spec):
    for dependency in spec.depends_on:
        assert dependency in COMPONENTS, f"{spec.name} depends on {dependency.name}, which is not in COMPONENTS"


def test_every_controller_policy_has_its_statements():
    named = {spec.name for spec, identity in identities() for grant in identity.grants
             if isinstance(grant, ControllerPolicy)}
    assert named and named <= set(CONTROLLER_POLICIES)
