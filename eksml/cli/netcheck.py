"""`eksml netcheck ENV --from NS/NAME --to NS/SERVICE:PORT`: can one pod open a port on another?"""

from __future__ import annotations

import json

import click

from eksml.cli.common import env_argument, load, output_option, report_failures


@click.command()
@env_argument
@click.option("--from", "source", required=True, metavar="NS/NAME", help="A workload of the render, or NS/any in a team namespace.")
@click.option("--to", "target", required=True, metavar="NS/SERVICE:PORT", help="A Service and its port, or ADDRESS:PORT.")
@output_option
@report_failures
def netcheck(env: str, source: str, target: str, output_format: str) -> None:
    """Answer from ENV's rendered NetworkPolicies, naming the policy that decides each side."""
    from eksml.k8s.rendering.netcheck import network_answers
    from eksml.k8s.rendering.render import current_outputs

    environment = load(env)
    answers = network_answers(environment, current_outputs(environment), source, target)
    if output_format == "json":
        click.echo(json.dumps({"ok": True, "environment": environment.name,
                               "answers": [a.as_dict() for a in answers]}, indent=2))
        return
    for answer in answers:
        word = "allowed" if answer.verdict.allowed else "blocked"
        click.echo(f"{answer.source} -> {answer.target}:{answer.port}: {word}")
        click.echo(f"  egress:  {answer.verdict.egress.because}")
        click.echo(f"  ingress: {answer.verdict.ingress.because}")
