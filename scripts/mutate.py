"""Mutation testing of the gate's modules: does each guard have a test that fails without it?

Each mutant is one small change to one function (a comparison flipped or loosened, `and`/`or`
swapped, a `not` dropped, a number moved by one, a flag flipped, a `raise`, `yield`, `continue` or
call statement removed). It is written into a scratch copy of the project, never into the working
tree, and the tests that cover the module run against it: a failing test kills the mutant, a
passing run lets it survive. Tests that already fail on the unmutated copy are left out.

    python scripts/mutate.py                      # every mutant of every target (make mutate)
    python scripts/mutate.py --sample 20 --seed 1 # 20 random mutants per target
    python scripts/mutate.py --only protection    # targets whose path contains the word

Prints the kill rate per target and overall, and every survivor (file:line and the change).
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (module, the tests that cover it). Fast, focused subsets: each mutant runs them once.
TARGETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("eksml/aws/protection.py", ("tests/test_guards.py", "tests/test_deploy_parts.py")),
    ("eksml/k8s/checks/scheduling.py", ("tests/test_scheduling_operators.py", "tests/test_k8s_scheduling.py")),
    ("eksml/catalog/mig_layout.py", ("tests/test_catalog.py", "tests/test_k8s_gpu_sharing.py")),
    ("eksml/promote.py", ("tests/test_promote.py", "tests/test_promote_integrity.py")),
    ("eksml/config/yaml_edit.py", ("tests/test_promote_integrity.py", "tests/test_promote.py")),
    ("eksml/config/file_write.py", ("tests/test_promote_integrity.py", "tests/test_promote.py")),
    *((f"eksml/config/{name}.py", ("tests/test_bad_environments.py", "tests/test_validate.py",
                                   "tests/test_environment_input.py"))
      for name in ("rules", "rules_network", "rules_pools", "rules_facts", "rules_teams", "aws_names", "value_checks")),
)
COPIED = ("eksml", "stacks", "modules", "tests", "environments", "helm_values", "pyproject.toml", "cdktf.json")

_FLIP = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
         ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_LOOSEN = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}


@dataclass(frozen=True)
class Mutant:
    path: str
    node: int  # index in ast.walk order of a fresh parse
    op: str
    line: int
    text: str  # the mutated module

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.op}"


def _in_functions(tree: ast.Module) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            for statement in body:
                inside.update(id(n) for n in ast.walk(statement))
    return inside


def _mutations(node: ast.AST) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    if isinstance(node, ast.Compare):
        for j, op in enumerate(node.ops):
            if type(op) in _FLIP:
                found.append((f"{type(op).__name__} -> {_FLIP[type(op)].__name__}", ("cmp", j, _FLIP[type(op)])))
            if type(op) in _LOOSEN:
                found.append((f"{type(op).__name__} -> {_LOOSEN[type(op)].__name__}", ("cmp", j, _LOOSEN[type(op)])))
    elif isinstance(node, ast.BoolOp):
        found.append(("and <-> or", ("bool",)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        found.append(("drop not", ("not",)))
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        found.append((f"{node.value} -> {node.value + 1}", ("int",)))
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        found.append((f"{node.value} -> {not node.value}", ("flag",)))
    elif isinstance(node, (ast.Raise, ast.Continue)) or (
            isinstance(node, ast.Expr) and isinstance(node.value, (ast.Yield, ast.YieldFrom, ast.Call, ast.Await))):
        found.append((f"remove {ast.unparse(node).splitlines()[0][:60]}", ("stmt",)))
    return found


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, how: tuple):
        self.target, self.how = target, how

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if node is not self.target:
            return super().generic_visit(node)
        kind = self.how[0]
        if kind == "cmp":
            node.ops[self.how[1]] = self.how[2]()
        elif kind == "bool":
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif kind == "not":
            return node.operand
        elif kind == "int":
            node.value += 1
        elif kind == "flag":
            node.value = not node.value
        elif kind == "stmt":
            return ast.Pass()
        return node


def mutants_of(path: str) -> list[Mutant]:
    source = (ROOT / path).read_text()
    tree = ast.parse(source)
    original = ast.unparse(tree)
    inside = _in_functions(tree)
    result = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) not in inside:
            continue
        for label, how in _mutations(node):
            fresh = ast.parse(source)
            target = list(ast.walk(fresh))[index]
            mutated = ast.fix_missing_locations(_Replace(target, how).visit(fresh))
            text = ast.unparse(mutated)
            if text != original:
                result.append(Mutant(path, index, label, getattr(node, "lineno", 0), text))
    return result


def run_tests(tree: Path, tests: tuple[str, ...], deselect: list[str], timeout: float, first_failure: bool) -> tuple[int, str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-rf", *tests,
               *(f"--deselect={d}" for d in deselect)]
    if first_failure:
        command.append("-x")
    # The copy is not next to the team's shared folder: point the tests at the one this clone uses.
    shared = os.environ.get("EKSML_SHARED_DIR") or str(ROOT.parent / "shared")
    environment = {**os.environ, "EKSML_SHARED_DIR": shared, "EKSML_WORK_DIR": str(tree / ".eksml")}
    try:
        done = subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=timeout, env=environment)
    except subprocess.TimeoutExpired:
        return -1, "timeout"
    return done.returncode, done.stdout + done.stderr


def scratch_tree() -> Path:
    tree = Path(tempfile.mkdtemp(prefix="eksml-mutate-"))
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, tree / name)
    if (ROOT / ".tools").exists():
        (tree / ".tools").symlink_to(ROOT / ".tools")
    return tree


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=0, help="random mutants per target (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default="", help="targets whose path contains one of these words (comma-separated)")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the scratch copy is removed
    tree = scratch_tree()
    totals = [0, 0]
    survivors: list[Mutant] = []
    baselines: dict[tuple[str, ...], list[str] | None] = {}  # tests -> those failing unmutated (None: unusable)
    words = [w for w in args.only.split(",") if w] or [""]
    try:
        for path, tests in TARGETS:
            if not any(w in path for w in words) or not (ROOT / path).exists():
                continue
            tests = tuple(t for t in tests if (ROOT / t).exists())
            if tests not in baselines:
                code, output = run_tests(tree, tests, [], args.timeout, first_failure=False)
                failing = re.findall(r"^FAILED (\S+?)(?: - .*)?$", output, re.M) if code else []
                usable = not failing or run_tests(tree, tests, failing, args.timeout, first_failure=False)[0] == 0
                baselines[tests] = failing if usable else None
            deselect = baselines[tests]
            if deselect is None:
                print(f"{path}: its tests do not pass unmutated; skipped", flush=True)
                continue
            mutants = mutants_of(path)
            if args.sample and len(mutants) > args.sample:
                mutants = rng.sample(mutants, args.sample)
            killed = 0
            original = (tree / path).read_text()
            begun = time.monotonic()
            for mutant in mutants:
                (tree / path).write_text(mutant.text)
                code, _ = run_tests(tree, tests, deselect, args.timeout, first_failure=True)
                if code != 0:
                    killed += 1
                else:
                    survivors.append(mutant)
                    print(f"  survived: {mutant}", flush=True)
            (tree / path).write_text(original)
            totals[0] += killed
            totals[1] += len(mutants)
            note = f" ({len(deselect)} failing tests left out)" if deselect else ""
            print(f"{path}: {killed}/{len(mutants)} killed in {time.monotonic() - begun:.0f} s{note}", flush=True)
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    if totals[1]:
        print(f"\ntotal: {totals[0]}/{totals[1]} killed ({100 * totals[0] / totals[1]:.0f} %)")
    for mutant in survivors:
        print(f"survivor: {mutant}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
