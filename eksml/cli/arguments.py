"""Command-line values checked by their form before a command runs (click callbacks and types)."""

from __future__ import annotations

import click

from eksml.emulator.target import endpoint_problem

PORT = click.IntRange(1, 65535)


def endpoint_url(value: str | None, example: str) -> str | None:
    """An http(s) URL with a host (and a port in range, when given); else click.BadParameter (exit 2)."""
    problem = endpoint_problem(value, example) if value is not None else None
    if problem:
        raise click.BadParameter(problem)
    return value
