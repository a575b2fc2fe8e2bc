"""Command-line values checked by their form before a command runs (click callbacks and types)."""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from eksml.config.loader import printable

PORT = click.IntRange(1, 65535)


def endpoint_url(value: str | None, example: str) -> str | None:
    """An http(s) URL with a host (and a port in range, when given); else click.BadParameter (exit 2)."""
    if value is None:
        return None
    shown = printable(value)[:200]
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise click.BadParameter(f"'{shown}' is not a URL ({exc}); expected e.g. {example}") from None
    problems = []
    if parts.scheme not in ("http", "https"):
        problems.append("it must start with http:// or https://")
    if not parts.hostname:
        problems.append("it names no host")
    if any(not ch.isprintable() or ch.isspace() for ch in value):
        problems.append("it holds spaces or control characters")
    if port == 0:
        problems.append("port 0 is not a port")
    if problems:
        raise click.BadParameter(f"'{shown}' is not a URL eksml can point at: {'; '.join(problems)}; expected e.g. {example}")
    return value
