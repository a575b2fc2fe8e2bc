"""Loads an environment file into a trusted `Environment`, or raises ConfigError with every problem."""

from __future__ import annotations

import types
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from eksml.config.models import Environment
from eksml.config.rules import check_environment
from eksml.errors import ConfigError, Issue
from eksml.paths import ENVIRONMENTS_DIR


def resolve_environment_file(ref: str | Path, environments_dir: Path = ENVIRONMENTS_DIR) -> Path:
    """ENV is a name under environments/ or a path to a file."""
    candidate = Path(ref)
    if candidate.suffix in (".yaml", ".yml") or candidate.parent != Path("."):
        return candidate
    return environments_dir / f"{ref}.yaml"


def known_environments(environments_dir: Path = ENVIRONMENTS_DIR) -> list[str]:
    return sorted(path.stem for path in environments_dir.glob("*.yaml"))


def load_environment(ref: str | Path, environments_dir: Path = ENVIRONMENTS_DIR) -> Environment:
    path = resolve_environment_file(ref, environments_dir)
    shown = _display(path)
    if not path.is_file():
        raise ConfigError(
            [Issue(shown, "", f"no such environment file; known environments: {', '.join(known_environments(environments_dir)) or '(none)'}")]
        )
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([Issue(shown, "", f"not valid YAML: {where}{getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(raw, dict):
        raise ConfigError([Issue(shown, "", "must be a YAML mapping of fields (name, region, cluster, ...)")])
    try:
        env = Environment.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError([_issue_from_pydantic(shown, error) for error in exc.errors()]) from None
    issues = []
    if env.name != path.stem:
        issues.append(Issue(shown, "name", f"'{env.name}' must equal the file name '{path.stem}'"))
    issues += [Issue(shown, field_path, message) for field_path, message in check_environment(env)]
    if issues:
        raise ConfigError(issues)
    return env


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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


def _issue_from_pydantic(file: str, error: dict) -> Issue:
    loc = tuple(error["loc"])
    kind = error["type"]
    message = error["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        parent = _model_at(Environment, loc[:-1])
        allowed = ", ".join(parent.model_fields) if parent else "see environments/dev.yaml"
        message = f"unknown field '{loc[-1]}'; allowed here: {allowed}"
    elif kind == "missing":
        message = "required field is missing"
    elif kind in ("literal_error", "enum"):
        message = f"{error.get('input')!r} is not allowed; {message[0].lower()}{message[1:]}"
    return Issue(file, format_location(loc), message)


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
