"""Property test of the validation gate: mutated shipped environment files exit 0 or 2, never a traceback.

Mutations: drop, duplicate and retype keys; extreme and boundary numbers; unicode and very long
strings; YAML 1.1 scalars, anchors and tags written into the text. `make fuzz` runs thousands
(EKSML_FUZZ_EXAMPLES); `make test` runs a few hundred.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksml.cli import cli
from shipped import SHIPPED, shipped_text

SHIPPED_TEXT = {name: shipped_text(name) for name in SHIPPED}
EXAMPLES = int(os.environ.get("EKSML_FUZZ_EXAMPLES", "300"))

ODD_VALUES = [
    None, True, False, 0, 1, -1, 2, 7, 35, 36, 450, 451, 2**31, 2**63, 10**40, 0.5, -1.5, float("inf"),
    "", " ", "\n", "x" * 5000, "ünïcødé ✓", "🚀", "a\nb", "yes", "on", "010", "1:30", "0x1f", "null",
    "0.0.0.0/0", "10.0.0.0/8", "arn:aws:iam::123456789012:role/*", "xn--bucket", "1.33", "v1.2.3",
    [], [None], ["x"] * 30, {}, {"a": 1}, {"aws:x": "y"},
]
TEXT_SCALARS = ["yes", "no", "on", "Off", "y", "010", "0o17", "0x1f", "1_000", "1:30", "1e3", "2026-07-14",
                "~", "!!str x", "&a x", "*a", "<<", ".inf", "=", "'unterminated", "[", "{a: 1", "\t"]


def leaf_paths(data, prefix=()):
    """Every key path of a parsed file, containers included."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield prefix + (key,)
            yield from leaf_paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield prefix + (index,)
            yield from leaf_paths(value, prefix + (index,))


@st.composite
def data_mutation(draw, data):
    paths = list(leaf_paths(data))
    path = draw(st.sampled_from(paths))
    *parents, leaf = path
    node = data
    for key in parents:
        node = node[key]
    action = draw(st.sampled_from(["retype", "drop", "number", "string"]))
    if action == "drop":
        del node[leaf]
    elif action == "retype":
        # A copy: a list or dict of ODD_VALUES put in the file is mutated by the next step, which would
        # change ODD_VALUES for later examples (or put a list inside itself).
        node[leaf] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
    elif action == "number":
        node[leaf] = draw(st.integers(min_value=-(10**20), max_value=10**20) | st.floats(allow_nan=False))
    else:
        node[leaf] = draw(st.text(max_size=300))


@st.composite
def mutated_file(draw):
    stem = draw(st.sampled_from(sorted(SHIPPED_TEXT)))
    text = SHIPPED_TEXT[stem]
    if draw(st.booleans()):
        data = yaml.safe_load(text)
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            draw(data_mutation(data))
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(st.sampled_from(["duplicate", "delete", "scalar", "insert"]))
        if action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "delete" and len(lines) > 1:
            del lines[index]
        elif action == "scalar" and ":" in lines[index]:
            head = lines[index].split(":", 1)[0]
            lines[index] = f"{head}: {draw(st.sampled_from(TEXT_SCALARS))}\n"
        elif action == "insert":
            lines.insert(index, draw(st.text(max_size=40)) + "\n")
    return stem, "".join(lines)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_file())
def test_validate_exits_0_or_2_and_never_shows_a_traceback(case):
    stem, text = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{stem}.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
