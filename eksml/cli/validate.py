import json

import click

from eksml.cli.common import env_argument, load, output_option, report_failures
from eksml.config import environment_warnings, resolve_environment_file
from eksml.errors import ConfigError


@click.command()
@env_argument
@output_option
@report_failures
def validate(env: str, output_format: str) -> None:
    """Check an environment file; report every problem with its field path (exit 2).

    Warnings (e.g. a Kubernetes version in EKS extended support) are printed but do not fail;
    EKSML_TODAY=YYYY-MM-DD judges the support calendar as of that date.
    """
    environment = load(env)
    from eksml.charts.cache import default_cache_dir

    if any(default_cache_dir().glob("*.tgz")):  # charts' own kubeVersion, only from the cache: no download
        from eksml.versions.chart_constraints import cached_chart_issues

        chart_issues = cached_chart_issues(environment, str(resolve_environment_file(env)))
        if chart_issues:
            raise ConfigError(chart_issues)
    from eksml.capacity import check_capacity

    check_capacity(environment, str(resolve_environment_file(env)))  # a pod that fits not even at max size
    warnings = environment_warnings(env, environment)
    if output_format == "json":
        click.echo(json.dumps({"ok": True, "environment": environment.name, "issues": [],
                               "warnings": [w.as_dict() for w in warnings]}))
        return
    for item in warnings:
        click.echo(f"warning: {item}", err=True)
    pools = ", ".join(f"{name} ({pool.kind.value})" for name, pool in environment.node_pools.items())
    click.echo(f"{environment.name}: valid. cluster {environment.cluster.name} in {environment.region}; pools: {pools}")
