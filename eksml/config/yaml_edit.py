"""Change scalars inside a YAML text in place, so every byte the user did not ask to change stays.

Promotion used to load, edit and re-dump the whole document; a dumper re-indents (a 4-space file
came back with 2), drops CRLF and the byte order mark and normalises quoting. Here only the span of
the one scalar is replaced (its quoting style kept, or double quotes when the plain form would read
back as another type), and a missing key is inserted as one new line in the style of its mapping.
The result is read back with the strict reader and compared with what was asked for; anything else
is refused, never written.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from eksml.config.yaml_source import _StrictLoader, ambiguity, parse_yaml
from eksml.errors import ConfigError, Issue

# A key that, when missing, goes right after its sibling rather than at the end of its mapping.
_PLACE_AFTER = {"ami_release_version": "kubernetes_version"}


Scalar = str | int | float | bool


def set_scalars(text: str, values: dict[str, Scalar], shown: str) -> str:
    """`text` with each dotted field set to its value (text, number or boolean); ConfigError when that cannot be done in place."""
    expected = parse_yaml(text, shown)
    for field, value in values.items():
        text = _set_one(text, field, value, shown)
        _assign(expected, field, value)
    if parse_yaml(text, shown) != expected:
        raise ConfigError([Issue(shown, "", "could not be edited in place without changing other fields; "
                                 "edit the versions by hand")])
    return text


def render_scalar(value: Scalar, style: str | None = None) -> str:
    """The scalar in `style` ("'", '"' or plain); double quotes when the plain form would not read back as this text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style is None and _plain_is_text(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _plain_is_text(value: str) -> bool:
    """Plain only when YAML 1.1 and 1.2 both read it back as this exact text, in block and flow context."""
    if not value or value != value.strip() or "\n" in value or ambiguity(value) is not None:
        return False
    try:
        return (yaml.safe_load(f"k: {value}") == {"k": value}
                and yaml.safe_load(f"{{k: {value}}}") == {"k": value})
    except yaml.YAMLError:
        return False


def _set_one(text: str, field: str, value: Scalar, shown: str) -> str:
    node = _compose(text)
    keys = field.split(".")
    for depth, key in enumerate(keys):
        if not isinstance(node, MappingNode):
            raise ConfigError([Issue(shown, ".".join(keys[:depth]), "is not a mapping; cannot set "
                                     f"{field} in it")])
        child = _child(node, key)
        if child is None:
            return _insert(text, node, keys[depth:], value)
        node = child
    if not isinstance(node, ScalarNode):
        raise ConfigError([Issue(shown, field, "is a list or mapping, not a single value; cannot set it")])
    style = node.style if node.style in ("'", '"') else None
    if node.style in ("|", ">"):
        style = '"'
    return text[: node.start_mark.index] + render_scalar(value, style) + text[node.end_mark.index :]


def _insert(text: str, mapping: MappingNode, keys: list[str], value: Scalar) -> str:
    """One new `key: value` (nested keys as a flow mapping) in `mapping`, in its style."""
    entry = render_scalar(value)
    for key in reversed(keys[1:]):
        entry = f"{{{key}: {entry}}}"
    entry = f"{keys[0]}: {entry}"
    if mapping.flow_style:
        if mapping.value:
            at = mapping.value[-1][1].end_mark.index
            return text[:at] + ", " + entry + text[at:]
        at = text.rindex("}", 0, mapping.end_mark.index)
        return text[:at] + entry + text[at:]
    newline = "\r\n" if "\r\n" in text else "\n"
    sibling = _PLACE_AFTER.get(keys[0]) if len(keys) == 1 else None
    after = next((v for k, v in mapping.value if sibling is not None and k.value == sibling), mapping.value[-1][1])
    at = _line_end(text, _content_end(after))
    indent = " " * mapping.value[0][0].start_mark.column
    prefix = newline if at == len(text) and not text.endswith("\n") else ""
    return text[:at] + prefix + indent + entry + newline + text[at:]


def _content_end(node: Node) -> int:
    """Where a value's own text ends: a block collection ends with its last item, not at the next key."""
    if isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        return _content_end(last[1] if isinstance(node, MappingNode) else last)
    return node.end_mark.index


def _line_end(text: str, index: int) -> int:
    if index > 0 and text[index - 1] == "\n":  # a block scalar ends after its line break
        return index
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _child(mapping: MappingNode, key: str) -> Node | None:
    return next((value for k, value in mapping.value if isinstance(k, ScalarNode) and k.value == key), None)


def _compose(text: str) -> Node:
    loader = _StrictLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _assign(data: Any, field: str, value: Scalar) -> None:
    *parents, leaf = field.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[leaf] = value
