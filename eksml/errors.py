"""The two kinds of failure the CLI distinguishes: bad input (exit 2) and operational failure (exit 1)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Issue:
    """One problem in an input file, located precisely enough to fix without guessing."""

    file: str
    path: str  # dotted field path, e.g. node_pools.a100-mig.mig.layout[2]; "" for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)


class ConfigError(Exception):
    """Bad input: every problem found, not just the first. Nothing has been written or applied."""

    exit_code = 2

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


class StageError(Exception):
    """An operational failure in a named stage (synth, init, plan, apply, render, ...)."""

    exit_code = 1

    def __init__(self, stage: str, message: str, *, resource: str | None = None, hint: str | None = None):
        self.stage = stage
        self.resource = resource
        self.hint = hint
        text = f"stage '{stage}' failed"
        if resource:
            text += f" at {resource}"
        text += f": {message}"
        if hint:
            text += f"\n  hint: {hint}"
        super().__init__(text)
        self.message = message

    def with_hint(self, extra: str) -> "StageError":
        """The same failure with one more thing the user can do about it."""
        hint = f"{self.hint}\n  {extra}" if self.hint else extra
        return StageError(self.stage, self.message, resource=self.resource, hint=hint)


def first_line(exc: BaseException) -> str:
    """The line of an error worth showing in a one-line report (tools put the gist first)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
