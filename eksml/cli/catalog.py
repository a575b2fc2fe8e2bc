import json

import click

from eksml.catalog import load_catalog
from eksml.catalog.kubernetes_calendar import load_kubernetes_calendar
from eksml.catalog.prices import load_price_table
from eksml.catalog.report import describe_instance_type, format_catalog, format_instance_type, format_prices
from eksml.cli.common import output_option


@click.command()
@click.argument("instance_type", required=False)
@output_option
def catalog(instance_type: str | None, output_format: str) -> None:
    """Show the GPU hardware catalog, or one INSTANCE_TYPE with its MIG profiles."""
    hardware = load_catalog()
    if instance_type is None:
        if output_format == "json":
            click.echo(json.dumps([describe_instance_type(it, hardware) for it in hardware.instance_types()], indent=2))
        else:
            calendar = load_kubernetes_calendar()
            click.echo(format_catalog(hardware))
            click.echo("\n" + format_prices(load_price_table(), calendar.price_per_hour, calendar.pricing_source))
        return
    found = hardware.instance_type(instance_type)
    if found is None:
        known = ", ".join(it.name for it in hardware.instance_types())
        click.echo(f"error: unknown instance type '{instance_type}'; the catalog knows: {known}", err=True)
        raise SystemExit(2)
    if output_format == "json":
        click.echo(json.dumps(describe_instance_type(found, hardware), indent=2))
    else:
        click.echo(format_instance_type(found, hardware))
