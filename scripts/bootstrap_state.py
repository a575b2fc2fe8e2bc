#!/usr/bin/env python3
"""Create the Terraform state bucket of an environment (versioned, encrypted, private). Idempotent.

Usage: python scripts/bootstrap_state.py ENV [--endpoint-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eksml.cli.common import env_argument, load, report_failures  # noqa: E402
from eksml.aws.state_bucket import ensure_state_bucket  # noqa: E402


@click.command()
@env_argument
@click.option("--endpoint-url", default=None, help="S3 endpoint, e.g. the local emulator's http://127.0.0.1:PORT.")
@report_failures
def main(env: str, endpoint_url: str | None) -> None:
    """Create (or check) the state bucket named in ENV's `state.bucket`."""
    environment = load(env)
    bucket = ensure_state_bucket(environment, endpoint_url=endpoint_url)
    verb = "created" if bucket.created else "already exists; settings enforced"
    click.echo(f"state bucket {bucket.name} ({bucket.region}): {verb}")


if __name__ == "__main__":
    main()
