"""Loads an environment file into a trusted `Environment`, or raises ConfigError with every problem.

Shape errors (pydantic) and rule errors are reported together: when some top-level sections do not
validate, the others are validated on their own and every rule whose sections are all valid still runs.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from eksml.config.models import Environment
from eksml.config.pydantic_issues import issue_parts
from eksml.config.rules import check_environment, warn_environment
from eksml.config.yaml_source import MAX_BYTES, read_yaml_file
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
    check_environment_path(path, shown, environments_dir)
    try:
        raw = read_yaml_file(path, shown)
    except ConfigError as exc:
        raise ConfigError(_printable_issues(exc.issues)) from None
    if not isinstance(raw, dict):
        raise ConfigError([Issue(shown, "", "must be a YAML mapping of fields (name, region, cluster, ...)")])
    env, valid, issues = validate_sections(raw, shown)
    if "name" in valid and env.name != path.stem:
        issues.append(Issue(shown, "name", f"'{env.name}' must equal the file name '{path.stem}'"))
    issues += [Issue(shown, field_path, message) for field_path, message in check_environment(env, valid=valid)]
    if issues:
        raise ConfigError(_printable_issues(issues))
    return env


def environment_warnings(ref: str | Path, env: Environment, environments_dir: Path = ENVIRONMENTS_DIR) -> list[Issue]:
    """The warnings of an environment load_environment accepted, located like its issues."""
    shown = _display(resolve_environment_file(ref, environments_dir))
    return _printable_issues([Issue(shown, field_path, message) for field_path, message in warn_environment(env)])


def _printable_issues(issues: list[Issue]) -> list[Issue]:
    return [Issue(i.file, printable(i.path), printable(i.message)) for i in issues]


def printable(text: str) -> str:
    """One line per issue: control characters from the file (newlines, escapes) are shown escaped."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def check_environment_path(path: Path, shown: str, environments_dir: Path = ENVIRONMENTS_DIR) -> None:
    """ENV must name a readable regular file; anything else is said in words, not as 'no such file'."""
    try:
        info = os.stat(path)
    except ValueError:  # a NUL byte in the name
        raise ConfigError([Issue(shown, "", "the name holds a NUL character; name a file")]) from None
    except OSError as exc:
        raise ConfigError([Issue(shown, "", _stat_problem(exc, path, environments_dir))]) from None
    mode = info.st_mode
    kind = next((words for test, words in _NOT_FILES if test(mode)), None)
    if kind:
        raise ConfigError([Issue(shown, "", f"is {kind}, not an environment file; name a .yaml file")])
    if info.st_size > MAX_BYTES:
        raise ConfigError([Issue(shown, "", f"is {info.st_size} bytes; an environment file may be at most {MAX_BYTES // 1024} KiB")])
    if not os.access(path, os.R_OK):
        raise ConfigError([Issue(shown, "", "cannot be read: permission denied (check the file's permissions)")])


_NOT_FILES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _stat_problem(exc: OSError, path: Path, environments_dir: Path) -> str:
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return "is a symbolic link to a file that does not exist"
        return f"no such environment file; known environments: {', '.join(known_environments(environments_dir)) or '(none)'}"
    if exc.errno == errno.ELOOP:
        return "is a symbolic link loop (the links point at each other); point it at a real file"
    if exc.errno == errno.ENAMETOOLONG:
        return f"the name is longer than the file system allows ({len(path.name)} characters in the last part)"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a directory"
    if exc.errno == errno.EACCES:
        return "cannot be read: permission denied on a directory of the path"
    return f"cannot be read: {exc.strerror or exc}"


def validate_sections(raw: dict[str, Any], shown: str) -> tuple[Environment, frozenset[str], list[Issue]]:
    """The environment, the top-level fields that validated, and the shape issues.

    When the whole file validates the environment is complete. Otherwise it is a partial one
    (model_construct) holding only the sections that validated on their own; rules that need a
    missing section are not run, so they cannot crash on it.
    """
    try:
        return Environment.model_validate(raw), frozenset(Environment.model_fields), []
    except ValidationError as exc:
        errors = exc.errors()
    issues = [Issue(shown, *issue_parts(error, Environment)) for error in errors]
    failed = {error["loc"][0] for error in errors if error["loc"]}
    env = Environment.model_construct()
    valid: set[str] = set()
    for field, info in Environment.model_fields.items():
        if field in failed:
            continue
        if field not in raw:
            if not info.is_required():
                valid.add(field)
            continue
        try:
            Environment.__pydantic_validator__.validate_assignment(env, field, raw[field])
        except ValidationError:
            continue  # already reported as part of the whole-file errors
        valid.add(field)
    return env, frozenset(valid), issues


def _display(path: Path) -> str:
    """The file's name in messages, control characters escaped (a raw one could name another file)."""
    try:
        return printable(str(Path(os.path.abspath(path)).relative_to(Path.cwd())))
    except (ValueError, OSError):
        return printable(str(path))
