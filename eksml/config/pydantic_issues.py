"""Turns pydantic's validation errors into Issues a platform engineer can act on: field path, words, no regex."""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel

# Field patterns, said in words (pydantic would print the regex).
PATTERN_WORDS = {
    r"^\d{12}$": "an AWS account ID: exactly 12 digits, quoted (\"123456789012\")",
    r"^1\.\d{2}$": "a Kubernetes minor version such as \"1.33\", quoted",
    r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$": "lowercase letters, digits, '.' and '-', starting and ending with a letter or digit",
    r"^[A-Za-z0-9._/-]+$": "letters, digits, '.', '_', '/' and '-' only",
    r"^db\.[a-z0-9]+\.[a-z0-9]+$": "an RDS instance class such as db.t4g.medium",
    r"^\d+[smh]$": "a duration: a whole number followed by s, m or h (e.g. 30s, 5m, 1h)",
}


def issue_parts(error: dict, root: type[BaseModel]) -> tuple[str, str]:
    """(field path, message) for one pydantic error dict."""
    loc = tuple(error["loc"])
    kind = error["type"]
    message = error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        allowed = ", ".join(parent.model_fields) if parent else "see environments/dev.yaml"
        name = str(loc[-1])
        message = f"unknown field '{name if len(name) <= 60 else name[:57] + '...'}'; allowed here: {allowed}"
    elif kind == "missing":
        message = "required field is missing"
    elif kind in ("literal_error", "enum"):
        message = f"{_short(given)} is not allowed; {message[0].lower()}{message[1:]}"
    elif kind == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern", "")
        message = f"{_short(given)} is not {PATTERN_WORDS.get(pattern, 'in the allowed form')}"
    elif kind == "string_type" and isinstance(given, (bool, int, float)):
        message = (f"expected text, got {'the boolean' if isinstance(given, bool) else 'the number'} {given!r}: "
                   "YAML reads unquoted values like 1.30 or true as numbers and booleans; quote it")
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        message = f"expected a whole number, got {_kind(given)}; write it unquoted in decimal (e.g. 3)"
    elif kind == "bool_type":
        message = f"expected true or false, got {_short(given)}"
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        message = f"expected a mapping of fields, got {_kind(given)}"
    elif kind == "list_type":
        message = f"expected a list, got {_kind(given)}"
    return format_location(loc), message


def format_location(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            text += " (key)"
        else:
            text += f".{part}" if text else str(part)
    return text


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(value: object) -> str:
    if isinstance(value, (bool, int, float, str)):
        return f"{type(value).__name__ if not isinstance(value, str) else 'text'} {_short(value)}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {_short(value)}"


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """Walk field annotations along an error location to name the fields allowed there."""
    current: object = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            continue
        origin = typing.get_origin(current)
        if origin in (dict, list):
            current = typing.get_args(current)[-1]
            continue
        return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: object) -> object:
    """Optional[X] -> X, Annotated[X, ...] -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
