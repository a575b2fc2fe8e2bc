"""The one way eksml reads environment YAML: strict, bounded, and the same for every reader.

The loader, promote (before its round-trip edit) and the CI script all read through here, so two
readers can never see two different files. What is refused, and why:

- more than MAX_BYTES bytes, or mappings/lists nested deeper than MAX_DEPTH (an environment file
  needs about 6 levels; thousands would exhaust the parser's stack);
- anything but UTF-8 (a UTF-8 byte order mark is allowed); the first bad byte is named by offset;
- a key written twice in one mapping (YAML loaders silently keep the last one);
- anchors, aliases, merge keys and explicit tags: each value is written out where it is used;
- plain scalars that YAML 1.1 (PyYAML) and YAML 1.2 (ruamel, most other tools) read differently:
  yes/no/on/off/y/n, numbers with leading zeros, base prefixes, underscores or colons (`010`, `0x1f`,
  `1_000`, `1:30`), exponents without a dot (`1e3`), and dates. Quote them for text, or write the
  intended value as true/false or a plain decimal number.

Everything accepted reads the same in YAML 1.1 and 1.2: null, true/false, decimal integers and
floats, and strings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from eksml.errors import ConfigError, Issue

MAX_BYTES = 1024 * 1024  # 1 MiB; the shipped files are about 4 KiB
MAX_DEPTH = 32

_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"),
)
_YES_NO = {"y", "n", "yes", "no", "on", "off"}
_DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_CORE_12 = (
    ("null", re.compile(r"^(~|null|Null|NULL|)$")),
    ("bool", re.compile(r"^(true|True|TRUE|false|False|FALSE)$")),
    ("int", re.compile(r"^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")),
    ("float", re.compile(r"^([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")),
)
_RESOLVER_11 = Resolver()


def read_yaml_file(path: Path, shown: str) -> Any:
    """Read, decode and parse one file; ConfigError (exit 2) for every refusal."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError([Issue(shown, "", f"cannot be read: {exc.strerror or exc}")]) from None
    return parse_yaml(decode_utf8(data, shown), shown)


def decode_utf8(data: bytes, shown: str) -> str:
    """Strict UTF-8; a leading UTF-8 byte order mark is dropped."""
    if len(data) > MAX_BYTES:
        raise ConfigError([Issue(shown, "", f"is larger than {MAX_BYTES // 1024} KiB; an environment file is a few KiB")])
    for bom, encoding in _OTHER_BOMS:
        if data.startswith(bom):
            raise ConfigError([Issue(shown, "", f"is {encoding} (byte order mark at offset 0); save it as UTF-8")])
    start = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data[:offset].count(b"\n") + 1
        raise ConfigError([Issue(
            shown, "", f"is not UTF-8: byte 0x{data[offset]:02x} at offset {offset} (line {line}) is not valid UTF-8; "
            "save the file as UTF-8",
        )]) from None
    if "\x00" in text:
        offset = data.index(b"\x00")
        raise ConfigError([Issue(
            shown, "", f"holds a NUL byte at offset {offset}: it is binary or UTF-16 without a byte order mark; "
            "save it as UTF-8 text",
        )])
    return text


def parse_yaml(text: str, shown: str) -> Any:
    """Compose with limits, check every node, then construct plain Python data."""
    loader = None
    try:
        loader = _StrictLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        issues = list(_check_tree(node, shown))
        if issues:
            raise ConfigError(issues)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError([Issue(shown, "", f"not valid YAML: {_describe(exc)}")]) from None
    except UnicodeError:  # a lone surrogate, which no UTF-8 file holds: text built elsewhere
        raise ConfigError([Issue(shown, "", "holds characters that are not valid Unicode text")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def ambiguity(value: str) -> str | None:
    """Why a plain scalar reads differently in YAML 1.1 and 1.2, or None when it does not."""
    tag_11 = _RESOLVER_11.resolve(ScalarNode, value, (True, False)).rpartition(":")[2]
    tag_12 = next((tag for tag, pattern in _CORE_12 if pattern.match(value)), "str")
    if value.lower() in _YES_NO or (tag_11 == "bool" and tag_12 != "bool"):
        return "a boolean in YAML 1.1 but text in YAML 1.2; write true or false, or quote it for text"
    if tag_11 == "timestamp":
        return "a date in YAML 1.1 but text in YAML 1.2; quote it"
    if tag_11 == "int" and tag_12 == "int" and not _DECIMAL_INT.match(value):
        return "a number whose value depends on the YAML version (leading zero, octal or hex); write it in plain decimal, or quote it for text"
    if tag_11 != tag_12:
        return (f"read as {_KIND[tag_11]} by YAML 1.1 but as {_KIND[tag_12]} by YAML 1.2; "
                "write a plain decimal number, or quote it for text")
    return None


_KIND = {"null": "null", "bool": "a boolean", "int": "a number", "float": "a number", "str": "text",
         "timestamp": "a date", "value": "a special value", "merge": "a merge key"}


# libyaml scans and parses (most of the time a file takes); composing stays in Python, below, so each
# event is checked before a node exists. Without libyaml, PyYAML's pure-Python parser does the same.
class PythonEvents(Reader, Scanner, Parser):
    """PyYAML's own scanner and parser, where PyYAML was built without libyaml."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


def strict_loader(events: type) -> type:
    """A safe loader over `events` (a parser class) that bounds nesting and refuses anchors, aliases
    and tags while composing."""

    class Strict(_StrictComposer, SafeConstructor, Resolver, events):  # type: ignore[misc,valid-type]
        def __init__(self, stream: str) -> None:
            events.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._depth = 0

    return Strict


class _StrictComposer(Composer):
    _depth: int

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # noqa: D401 - PyYAML hook
        event = self.peek_event()
        mark = f"line {event.start_mark.line + 1}, column {event.start_mark.column + 1}"
        if self.check_event(AliasEvent):
            raise ComposerError(None, None, f"an alias (*{event.anchor}) at {mark}: anchors and aliases are not "
                                "allowed, write the value out where it is used", None)
        if getattr(event, "anchor", None):
            raise ComposerError(None, None, f"an anchor (&{event.anchor}) at {mark}: anchors and aliases are not "
                                "allowed, write the value out where it is used", None)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            raise ComposerError(None, None, f"an explicit tag ({tag}) at {mark}: tags are not allowed; "
                                "quote a value to make it text", None)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels at {mark}; "
                                "an environment file needs about 6", None)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


try:
    from yaml.cyaml import CParser as _LibyamlEvents
except ImportError:  # PyYAML built without libyaml
    _LibyamlEvents = PythonEvents
_StrictLoader = strict_loader(_LibyamlEvents)


def _check_tree(root: Node, shown: str):
    """Duplicate keys and ambiguous scalars, each with its field path; iterative (depth is bounded anyway)."""
    stack: list[tuple[Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, ScalarNode):
            reason = ambiguity(node.value) if not node.style else None
            if reason:
                yield Issue(shown, path, f"'{node.value}' (line {node.start_mark.line + 1}) is {reason}")
        elif isinstance(node, SequenceNode):
            stack += [(child, f"{path}[{i}]") for i, child in reversed(list(enumerate(node.value)))]
        elif isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            children = []
            for key, value in node.value:
                line = key.start_mark.line + 1
                if not isinstance(key, ScalarNode):
                    yield Issue(shown, path, f"a key at line {line} is a list or mapping; keys must be plain text")
                    continue
                child_path = f"{path}.{key.value}" if path else key.value
                if key.value == "<<" and not key.style:
                    yield Issue(shown, path, f"a merge key (<<) at line {line}: merge keys are not allowed, write the fields out")
                elif key.value in seen:
                    yield Issue(shown, child_path, f"'{key.value}' is written twice in one mapping (lines {seen[key.value]} "
                                f"and {line}); YAML would silently keep only the last; remove one")
                else:
                    seen[key.value] = line
                reason = ambiguity(key.value) if not key.style else None
                if reason:
                    yield Issue(shown, child_path, f"the key '{key.value}' (line {line}) is {reason}")
                children.append((value, child_path))
            stack += reversed(children)


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(exc, "problem", None)
    if problem and "maximum nesting depth" in problem:  # libyaml's own bound, met while scanning ahead
        at = f" at {where.rstrip(': ')}" if where else ""
        return f"nested deeper than {MAX_DEPTH} levels{at}; an environment file needs about 6"
    if problem is None and hasattr(exc, "position"):  # ReaderError: a character YAML does not allow
        return f"character {exc.character!r} at offset {exc.position} is not allowed in YAML"  # type: ignore[attr-defined]
    return f"{where}{problem or exc}"
