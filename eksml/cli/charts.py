"""`eksml charts pull ENV`: fill the chart cache ahead of time (before going offline, in CI)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import click

from eksml.cli.common import env_argument, load, output_option, report_failures
from eksml.errors import StageError

PARALLEL_DOWNLOADS = 4


@click.group()
def charts() -> None:
    """The Helm charts the platform installs: where they come from and the local cache."""


@charts.command()
@env_argument
@output_option
@report_failures
def pull(env: str, output_format: str) -> None:
    """Fetch every chart ENV installs into the cache (.eksml/charts), checking digests.

    Charts come from their publishers, or all from one mirror: `charts.mirror` in the environment
    file, or EKSML_CHART_MIRROR for one run. Cached charts are reused without network access.
    """
    from eksml.charts import ChartCache
    from eksml.charts.sources import chart_mirror, redact
    from eksml.k8s.model.chart_requests import wanted_charts
    from eksml.table import text_table

    environment = load(env)
    mirror = chart_mirror(environment)
    requests = wanted_charts(environment, mirror)
    cache = ChartCache()

    def fetch(request):
        try:
            return cache.get(request), None
        except StageError as exc:
            return None, exc

    with ThreadPoolExecutor(max_workers=PARALLEL_DOWNLOADS) as pool:
        results = list(pool.map(fetch, requests))
    failures = [error for _, error in results if error is not None]
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise _all_failures(failures, len(requests))
    cached = [entry for entry, _ in results]
    if output_format == "json":
        click.echo(json.dumps({
            "ok": True,
            "environment": environment.name,
            "mirror": redact(mirror) if mirror else None,
            "cache_dir": str(cache.root),
            "charts": [{
                "release": c.request.release, "chart": c.request.name, "version": c.request.version,
                "repository": redact(c.request.repository), "file": str(c.path), "fetched": c.fetched,
            } for c in cached],
        }, indent=2))
        return
    rows = [("release", "chart", "version", "", "from")]
    rows += [(c.request.release or "", c.request.name, c.request.version, "fetched" if c.fetched else "cached",
              redact(c.request.repository)) for c in cached]
    click.echo("\n".join(text_table(rows)))
    fetched = sum(c.fetched for c in cached)
    click.echo(f"\n{environment.name}: {len(cached)} charts in {cache.root} ({fetched} fetched, {len(cached) - fetched} "
               "already cached)")


def _all_failures(failures: list[StageError], wanted: int) -> StageError:
    """One line per cause: an unreachable mirror is said once, with the charts it held up."""
    by_cause: dict[str, list[str]] = {}
    for error in failures:
        request = getattr(error, "request", None)
        chart = f"{request.name} {request.version}" if request else ""
        by_cause.setdefault(getattr(error, "cause", error.message), []).append(chart)
    lines = [f"{cause} ({', '.join(filter(None, charts))})" for cause, charts in by_cause.items()]
    hint = next((error.hint for error in failures if error.hint), None)
    return StageError("charts", f"{len(failures)} of {wanted} charts could not be fetched:\n  " + "\n  ".join(lines),
                      hint=hint)
