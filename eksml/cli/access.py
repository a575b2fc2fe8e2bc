"""`eksml endpoints ENV` and `eksml port-forward ENV UI`: how to reach the platform's UIs."""

import json
import sys
from typing import Optional

import click

from eksml.cli.arguments import PORT
from eksml.components import uis
from eksml.cli.common import env_argument, load, output_option, report_failures


@click.command()
@env_argument
@output_option
@report_failures
def endpoints(env: str, output_format: str) -> None:
    """Each UI's URL through the shared ALB (when `access` exposes it) and the Service a port-forward uses."""
    from eksml.k8s.cluster.endpoints import endpoints as list_endpoints

    environment = load(env)
    found = list_endpoints(environment)
    if output_format == "json":
        click.echo(json.dumps({"environment": environment.name, "endpoints": [e.as_dict() for e in found]}, indent=2))
        return
    for endpoint in found:
        click.echo(f"{endpoint.target:<22} {endpoint.url or '(not exposed; make port-forward-…)':<55} {endpoint.service}")


@click.command("port-forward")
@env_argument
@click.argument("target", type=click.Choice(list(uis())))
@click.option("--context", help="kubeconfig context of the cluster (default: the current one).")
@click.option("--local-port", type=PORT, help="Local port (default: the UI's usual one).")
@report_failures
def port_forward(env: str, target: str, context: Optional[str], local_port: Optional[int]) -> None:
    """Forward a local port to a UI's Service; needs a reachable cluster (exit 1 without one)."""
    from eksml.k8s.cluster.endpoints import port_forward as forward

    load(env)
    sys.exit(forward(target, context, local_port, announce=lambda line: click.echo(line, err=True)))
