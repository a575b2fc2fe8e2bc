"""cdktf is archived upstream (0.21.0 is final): its imports stay behind the construct layer
(stacks/, modules/) and the one synthesis module, so a switch to a fork touches only those."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CDKTF_PACKAGES = ("cdktf", "cdktf_cdktf_provider_aws", "constructs")
ALLOWED = {"eksml/aws/synth.py"}


def imported_roots(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_construct_layer_and_synthesis_import_cdktf():
    offenders = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "eksml").rglob("*.py")
        if str(path.relative_to(ROOT)) not in ALLOWED and imported_roots(path) & set(CDKTF_PACKAGES)
    )
    assert offenders == [], f"cdktf imported outside stacks/, modules/ and eksml/aws/synth.py: {offenders}"
