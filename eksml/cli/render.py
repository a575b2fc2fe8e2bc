"""`eksml render ENV`: every release rendered by its real chart, checked as a whole, written as files."""

import json
from pathlib import Path
from typing import Optional

import click

from eksml.cli.common import env_argument, load, output_option, report_failures


@click.command()
@env_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to write to (default: .eksml/<env>/render).")
@click.option("--gitops", "gitops_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the platform as an Argo CD app-of-apps to this folder (to commit to Git) instead.")
@click.option("--force", is_flag=True,
              help="Write into a folder that holds files eksml did not write (they are kept; same-named ones are overwritten).")
@output_option
@report_failures
def render(env: str, out_dir: Optional[Path], output_format: str, gitops_dir: Optional[Path] = None,
           force: bool = False) -> None:
    """Render every Helm release with its real chart (the full manifest Helm would install) plus every
    object eksml applies, without a cluster.

    Uses the last apply's outputs when there are any, else names predicted from the environment.
    Every object is checked against its schema or CRD and every pod placed on a pool; any problem
    stops the render (exit 2, nothing written).
    """
    from eksml.k8s.model.pod_security_levels import EXCEPTIONS, exception_lines
    from eksml.k8s.rendering.render import current_outputs, render_platform

    environment = load(env)
    if gitops_dir is not None:
        from eksml.cli.gitops import write_app_of_apps

        write_app_of_apps(environment, current_outputs(environment), gitops_dir, output_format, force=force)
        return
    result = render_platform(environment, current_outputs(environment), out_dir, with_charts=True, force=force)
    releases = result.charts.releases if result.charts else ()
    if output_format == "json":
        click.echo(json.dumps({
            "ok": True,
            "environment": environment.name,
            "kubernetes_version": environment.cluster.kubernetes_version,
            "out_dir": str(result.out_dir),
            "index": str(result.index),
            "predicted_outputs": result.predicted,
            "releases": [{
                "release": r.name, "chart": r.result.chart, "version": r.result.version,
                "namespace": r.component.namespace, "rendered": r.result.rendered,
                "not_rendered": r.result.not_rendered,
                "without_subcharts": list(r.result.without_subcharts),
                "manifest": str(result.out_dir / f"manifests/{r.name}.yaml") if r.result.rendered else None,
                "objects": len(r.objects),
                "owned_objects": len(r.component.prerequisites) + len(r.component.objects),
                "values": str(result.out_dir / f"{r.name}.values.yaml"),
            } for r in releases],
            "files": [str(p) for p in result.files],
            "pod_security_exceptions": [{"namespace": e.namespace, "enforce": e.level, "reason": e.reason}
                                        for e in EXCEPTIONS],
        }, indent=2))
        return
    source = "predicted outputs" if result.predicted else "outputs of the last apply"
    objects = sum(len(r.objects) for r in releases)
    click.echo(f"{environment.name}: rendered {len(releases)} releases ({objects} objects from their charts, "
               f"Kubernetes {environment.cluster.kubernetes_version}, {source}) to {result.out_dir}")
    for r in releases:
        if not r.result.rendered or r.result.without_subcharts:
            click.echo(f"  {r.name}: {r.result.status}")
    if result.charts is not None:
        from eksml.k8s.checks.platform_checks import platform_pss_summary

        summary = platform_pss_summary(result.components, result.charts, environment.cluster.kubernetes_version)
        click.echo(f"Pod Security: {summary}")
    click.echo("Pod Security: every namespace enforces restricted, except:")
    for line in exception_lines():
        click.echo(f"  {line}")
    click.echo(f"index: {result.index}")
