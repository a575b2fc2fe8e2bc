"""Environment files are scanned by libyaml where PyYAML has it (five times faster) and by PyYAML's own
parser where it does not; eksml's composer checks every event either way. Both must read the same
data and refuse the same constructs."""

from __future__ import annotations

import pytest

from eksml.config import yaml_source
from eksml.errors import ConfigError
from shipped import SHIPPED, shipped_text

HOSTILE = {
    "alias": ("a: &x 1\nb: *x\n", "anchors and aliases are not allowed"),
    "tag": ("a: !!python/object 1\n", "tags are not allowed"),
    "deep block": ("".join(f"{'  ' * i}k{i}:\n" for i in range(40)) + "  " * 40 + "v: 1\n", "nested deeper than 32"),
    "deep flow": ("a: " + "[" * 2000 + "]" * 2000 + "\n", "nested deeper than 32"),
    "duplicate": ("a: 1\na: 2\n", "written twice"),
    "ambiguous": ("a: yes\n", "a boolean in YAML 1.1"),
    "merge": ("a: {b: 1}\nc:\n  <<: {d: 2}\n", "merge keys are not allowed"),
    "control": ("\x07: 1\n", "not allowed in YAML"),
}


@pytest.fixture(params=["libyaml", "python"])
def parser(request, monkeypatch):
    if request.param == "python":
        monkeypatch.setattr(yaml_source, "_StrictLoader", yaml_source.strict_loader(yaml_source.PythonEvents))
    elif yaml_source._LibyamlEvents is yaml_source.PythonEvents:
        pytest.skip("PyYAML here has no libyaml")
    return request.param


@pytest.mark.parametrize("name", SHIPPED)
def test_both_parsers_read_the_shipped_files_alike(name):
    text = shipped_text(name)
    fast = yaml_source.parse_yaml(text, name)
    python = yaml_source.strict_loader(yaml_source.PythonEvents)
    loader = python(text)
    try:
        assert loader.construct_document(loader.get_single_node()) == fast
    finally:
        loader.dispose()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_both_parsers_refuse_the_same_constructs(parser, case):
    text, words = HOSTILE[case]
    with pytest.raises(ConfigError) as refused:
        yaml_source.parse_yaml(text, "f.yaml")
    assert words in str(refused.value), str(refused.value)
