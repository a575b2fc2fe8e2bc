"""Terraform's error diagnostics turned into one StageError that names the stage and the resource."""

from __future__ import annotations

import re
from dataclasses import dataclass

from eksml.errors import StageError


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # error | warning
    summary: str
    detail: str = ""
    address: str | None = None  # the resource the error belongs to, when terraform knows it

    @classmethod
    def from_json(cls, diagnostic: dict) -> "Diagnostic":
        return cls(
            severity=diagnostic.get("severity", "error"),
            summary=diagnostic.get("summary", "").strip(),
            detail=diagnostic.get("detail", "").strip(),
            address=diagnostic.get("address") or _address_from_snippet(diagnostic.get("snippet")),
        )

    @property
    def text(self) -> str:
        return f"{self.summary}: {self.detail}" if self.detail else self.summary


def _address_from_snippet(snippet: dict | None) -> str | None:
    # A configuration error inside a resource block has no address, but its context names the block.
    context = (snippet or {}).get("context") or ""
    match = re.match(r"^resource\.([A-Za-z0-9_]+\.[A-Za-z0-9_-]+)", context)
    return match.group(1) if match else None


@dataclass(frozen=True)
class LockInfo:
    """What terraform prints about the holder of a state lock."""

    id: str
    path: str = ""
    operation: str = ""
    who: str = ""
    version: str = ""
    created: str = ""
    info: str = ""


_LOCK_FIELDS = {"ID": "id", "Path": "path", "Operation": "operation", "Who": "who",
                "Version": "version", "Created": "created", "Info": "info"}


def parse_lock_info(text: str) -> LockInfo | None:
    """The `Lock Info:` block of an "Error acquiring the state lock" message, if it has one."""
    _, found, block = text.partition("Lock Info:")
    if not found:
        return None
    values: dict[str, str] = {}
    for line in block.splitlines():
        match = re.match(r"^\s+([A-Za-z]+):\s*(.*?)\s*$", line)
        if match and match.group(1) in _LOCK_FIELDS:
            values[_LOCK_FIELDS[match.group(1)]] = match.group(2)
        elif values and line.strip() == "":
            break
    return LockInfo(**values) if values.get("id") else None


class StateLocked(StageError):
    """Another run holds the stack's state lock; the message says who and how to release a stale one."""

    def __init__(self, stage: str, stack: str, lock: LockInfo | None, unlock_command: str):
        self.stack = stack
        self.lock = lock
        if lock is None:
            message = f"the state of stack '{stack}' is locked by another run (terraform printed no lock details)"
            hint = "wait for the other run to finish; if none is running, find the lock ID in the .tflock object"
        else:
            holder = f"{lock.who or 'someone'} since {lock.created or 'an unknown time'}"
            message = (
                f"the state of stack '{stack}' is locked by {holder} "
                f"(lock ID {lock.id}, operation {lock.operation or 'unknown'}, path {lock.path or 'unknown'})"
            )
            hint = (
                "wait for that run to finish; if it is gone (crashed or killed), release the stale lock with: "
                + unlock_command.replace("<ID>", lock.id)
            )
        super().__init__(stage, message, hint=hint)


_STAGE_HINTS = (
    ("Backend configuration changed", "the stack's state location changed; move the state with "
     "`terraform init -migrate-state` in the stack directory, or restore the previous state settings"),
    ("No valid credential sources found", "set AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID/"
     "AWS_SECRET_ACCESS_KEY) for the environment's account"),
    ("Failed to get existing workspaces", "the state bucket is missing or unreachable; create it with "
     "`python scripts/bootstrap_state.py ENV`"),
    ("NoSuchBucket", "the state bucket is missing; create it with `python scripts/bootstrap_state.py ENV`"),
    ("Failed to query available provider packages", "the provider could not be installed offline; "
     "check EKSML_PROVIDER_MIRROR"),
)


def stage_error(stage: str, stack: str, diagnostics: list[Diagnostic], stderr: str, unlock_command: str) -> StageError:
    """The error to raise for a failed terraform command: the first error, its resource, and a hint."""
    errors = [d for d in diagnostics if d.severity == "error"]
    for diagnostic in errors:
        if "state lock" in diagnostic.summary.lower() and "acquir" in diagnostic.summary.lower():
            return StateLocked(stage, stack, parse_lock_info(diagnostic.detail), unlock_command)
    if not errors and "Error acquiring the state lock" in stderr:
        return StateLocked(stage, stack, parse_lock_info(_plain(stderr)), unlock_command)
    if errors:
        first = errors[0]
        message = _shorten(first.text)
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
        resource = first.address
        text = "\n".join(d.text for d in errors)
    else:
        text = _plain(stderr) or "terraform failed without an error message"
        error_lines = [line for line in text.splitlines() if line.startswith("Error:")]
        message = _shorten(error_lines[0] if error_lines else text.splitlines()[-1])
        resource = _address_from_text(text)
    hint = next((hint for needle, hint in _STAGE_HINTS if needle in text), None)
    return StageError(stage, f"[{stack}] {message}", resource=resource, hint=hint)


def _plain(text: str) -> str:
    """Terraform's text output without colour codes and the box drawing around diagnostics."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return "\n".join(re.sub(r"^[│╷╵]\s?", "", line).rstrip() for line in text.splitlines()).strip()


def _address_from_text(text: str) -> str | None:
    match = re.search(r"^\s*with ([A-Za-z0-9_.\[\]\"-]+),\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def _shorten(text: str, limit: int = 1200) -> str:
    text = re.sub(r"\n{2,}", "\n", text.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."
