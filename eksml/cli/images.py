"""`eksml images ENV`: every container image of the platform, per release, with its tag or digest."""

from __future__ import annotations

import json

import click

from eksml.cli.common import env_argument, load, output_option, report_failures


@click.command()
@env_argument
@output_option
@report_failures
def images(env: str, output_format: str) -> None:
    """List every container image ENV runs, per release, as its charts render them (what to mirror)."""
    from eksml.charts.kube_yaml import ManifestObject
    from eksml.k8s.templating.chart_render import render_charts
    from eksml.k8s.checks.images import images_of
    from eksml.k8s.model.platform import build_platform
    from eksml.k8s.rendering.render import current_outputs

    environment = load(env)
    platform = build_platform(environment, current_outputs(environment))
    charts = render_charts(platform, environment)
    rendered = {r.name: r for r in charts.releases}
    per_release = []
    for component in platform.components:
        objects = list(rendered[component.name].objects) if component.name in rendered else []
        objects += [ManifestObject("eksml", m) for m in (*component.prerequisites, *component.objects)]
        found = images_of(component.name, objects)
        result = rendered[component.name].result if component.name in rendered else None
        status = None if result is None or result.rendered else result.status
        if found or status:
            per_release.append((component.name, found, status))
    if output_format == "json":
        click.echo(json.dumps({"ok": True, "environment": environment.name, "releases": [
            {"release": name, "rendered": status is None, "status": status,
             "images": [{"image": i.reference, "pinned_by": i.pinned_by, "used_by": i.used_by} for i in found]}
            for name, found, status in per_release]}, indent=2))
        return
    total = len({i.reference for _, found, _ in per_release for i in found})
    for name, found, status in per_release:
        click.echo(f"{name}:" + ("" if status is None else f" ({status}; images unknown)"))
        for image in found:
            click.echo(f"  {image.reference}    ({image.pinned_by}; {image.used_by})")
    click.echo(f"\n{environment.name}: {total} distinct images in {len(per_release)} releases")
