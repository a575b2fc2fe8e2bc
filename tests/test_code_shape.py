"""Short functions and files: none over 60 lines unless it is data, no file over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(path for package in ("eksml", "stacks", "modules", "scripts") for path in (ROOT / package).rglob("*.py"))
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 400
# (file, function) -> why its length is data, not logic
DATA_FUNCTIONS = {
    ("modules/controller_policies.py", "karpenter"): "the controller's IAM statements, one per line as AWS documents them",
    ("modules/controller_policies.py", "aws_load_balancer_controller"): "the controller's published IAM policy, as data",
}


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.end_lineno - node.lineno + 1


def test_no_long_function_or_file():
    problems = []
    for path in SOURCES:
        relative = str(path.relative_to(ROOT))
        problems += [f"{relative}: {name} has {lines} lines" for name, lines in _functions(path)
                     if lines > MAX_FUNCTION_LINES and (relative, name) not in DATA_FUNCTIONS]
        if len(path.read_text().splitlines()) > MAX_FILE_LINES:
            problems.append(f"{relative} is over {MAX_FILE_LINES} lines")
    assert problems == []


def test_every_data_exception_still_exists():
    present = {(str(p.relative_to(ROOT)), name) for p in SOURCES for name, _ in _functions(p)}
    assert set(DATA_FUNCTIONS) <= present
