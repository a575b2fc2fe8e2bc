"""Dependencies run one way, and nothing imports itself in a circle.

The layer order is stated once, in LAYERS. Every import counts: top-level, inside functions (lazy),
and under `if TYPE_CHECKING:`. A module may import its own package freely, and any module of a
lower layer; a module of the same layer in another package, or of a higher layer, is a violation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("eksml", "stacks", "modules")

# Highest first. Each entry is a module or package prefix; the longest matching prefix decides.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("eksml.__main__",),
    ("eksml.cli",),
    ("eksml.deploy", "eksml.doctor", "eksml.promote", "eksml.versions", "eksml.capacity"),
    ("eksml.aws", "eksml.k8s"),
    ("stacks",),
    ("modules",),
    ("eksml.terraform", "eksml.emulator", "eksml.charts"),
    ("eksml.gpu", "eksml.outputs"),
    ("eksml.config",),
    ("eksml.components",),
    ("eksml.catalog",),
    ("eksml.contract", "eksml.table", "eksml.toolchain", "eksml.provider_binding", "eksml.kube_tools", "eksml.workspace"),
    ("eksml.paths",),
    ("eksml.errors", "eksml"),
)

# Inside eksml.k8s, the flow from the model to the cluster, highest first. Each sub-package may
# import its own modules and those of a lower entry; `eksml.k8s` itself is the library's façade.
K8S_LAYERS: tuple[str, ...] = (
    "eksml.k8s.cluster", "eksml.k8s.rendering", "eksml.k8s.checks", "eksml.k8s.templating", "eksml.k8s.model",
)


def module_files() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


MODULES = module_files()


def _resolve(name: str) -> str | None:
    """The project module an import names (a submodule or the package it comes from)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            resolved = _resolve(target)
            if resolved and resolved != module and resolved.split(".")[0] in PACKAGES:
                found.add(resolved)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def layer_of(module: str) -> tuple[int, str]:
    """(layer index, the prefix that placed it) by the longest matching prefix."""
    best: tuple[int, str] | None = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[1])):
                best = (index, prefix)
    assert best is not None, f"{module} is in no layer; add it to LAYERS"
    return best


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, targets in graph.items():
        layer, unit = layer_of(module)
        for target in targets:
            target_layer, target_unit = layer_of(target)
            if target_unit == unit or target_unit.startswith(unit + ".") or unit.startswith(target_unit + "."):
                continue  # inside one package
            if target_layer < layer or (target_layer == layer and target_unit != unit):
                problems.append(f"{module} ({unit}) imports {target} ({target_unit}): against the layer order")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def package_of(module: str) -> str:
    """The package a module belongs to: eksml.<package> (or the top-level module), stacks, modules."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "eksml" and len(parts) > 1 else parts[0]


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        source = package_of(module)
        packages.setdefault(source, set()).update(package_of(t) for t in targets if package_of(t) != source)
    return packages


PACKAGES_OF_EKSML = sorted({package_of(m) for m in MODULES if m.startswith("eksml.")})


def test_no_import_cycles():
    assert cycles(GRAPH) == []


def test_no_package_cycles():
    assert cycles(package_graph(GRAPH)) == []


@pytest.mark.parametrize("package", PACKAGES_OF_EKSML + ["stacks", "modules"])
def test_every_package_is_named_in_exactly_one_layer(package):
    """A layer entry names a whole package: none is split across layers, none listed twice."""
    named = [prefix for prefixes in LAYERS for prefix in prefixes if prefix == package]
    assert len(named) == 1, f"{package} is named {len(named)} times in LAYERS"
    inside = [prefix for prefixes in LAYERS for prefix in prefixes if prefix.startswith(package + ".")]
    assert inside == [], f"{package} is split across layers by {inside}"


def test_imports_follow_the_layer_order():
    assert layer_violations(GRAPH) == []


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert cycles(graph) == expected


def test_a_package_cycle_is_found_where_no_module_cycle_is():
    """k8s.render -> aws.synth and aws.run -> k8s.platform: no module imports itself back, the packages do."""
    graph = {"eksml.k8s.rendering.render": {"eksml.aws.synth"}, "eksml.aws.synth": set(),
             "eksml.aws.run": {"eksml.k8s.model.platform"}, "eksml.k8s.model.platform": set()}
    assert cycles(graph) == []
    assert cycles(package_graph(graph)) == [["eksml.aws", "eksml.k8s"]]


def test_the_layer_check_catches_an_upward_and_a_sideways_import():
    graph = {
        "modules.network": {"stacks.base"},  # upward
        "eksml.aws.run": {"eksml.k8s.rendering.render"},  # sideways, same layer
        "stacks.base": {"modules.network", "eksml.emulator.target"},  # downward: fine
    }
    problems = layer_violations(graph)
    assert len(problems) == 2
    assert any(p.startswith("modules.network") for p in problems)
    assert any(p.startswith("eksml.aws.run") for p in problems)


def test_lazy_and_type_checking_imports_count(tmp_path, monkeypatch):
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from eksml.k8s.rendering import render\n"
        "def f():\n    import stacks.app\n"
    )
    path = ROOT / "eksml" / "aws" / "run.py"
    monkeypatch.setitem(MODULES, "eksml.aws.probe", tmp_path / "probe.py")
    (tmp_path / "probe.py").write_text(source)
    found = imports_of("eksml.aws.probe")
    assert {"eksml.k8s.rendering.render", "stacks.app"} <= found
    assert path.is_file()


def k8s_unit(module: str) -> str | None:
    """The sub-package of eksml.k8s a module belongs to; None for the façade and modules outside."""
    parts = module.split(".")
    return ".".join(parts[:3]) if parts[:2] == ["eksml", "k8s"] and len(parts) >= 3 else None


def k8s_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, targets in graph.items():
        if not module.startswith("eksml.k8s."):
            continue
        unit = k8s_unit(module)
        assert unit in K8S_LAYERS, f"{module} is in no sub-package of K8S_LAYERS"
        for target in targets:
            if target == "eksml.k8s":
                problems.append(f"{module} imports the façade eksml.k8s")
                continue
            target_unit = k8s_unit(target)
            if target_unit is None or target_unit == unit:
                continue
            if K8S_LAYERS.index(target_unit) < K8S_LAYERS.index(unit):
                problems.append(f"{module} ({unit}) imports {target} ({target_unit}): against the flow")
    return problems


def test_k8s_sub_packages_follow_the_flow():
    assert k8s_violations(GRAPH) == []


def test_every_k8s_module_is_in_a_sub_package():
    loose = [m for m in MODULES if m.startswith("eksml.k8s.") and k8s_unit(m) not in K8S_LAYERS]
    assert loose == []


@pytest.mark.parametrize("module, target", [
    ("eksml.k8s.model.pools", "eksml.k8s.checks.scheduling"),
    ("eksml.k8s.checks.scheduling", "eksml.k8s.rendering.render"),
    ("eksml.k8s.templating.chart_render", "eksml.k8s"),
])
def test_an_upward_import_inside_k8s_is_found(module, target):
    graph = {m: set(t) for m, t in GRAPH.items()}
    graph[module].add(target)
    assert len(k8s_violations(graph)) == 1
