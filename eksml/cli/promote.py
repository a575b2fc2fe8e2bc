import json

import click

from eksml.cli.common import output_option, report_failures
from eksml.promote import plan_promotion, promotion_lock, summary_json, summary_markdown, write_promotion


@click.command()
@click.argument("source", metavar="SOURCE")
@click.argument("target", metavar="TARGET")
@click.option("--force", is_flag=True, help="Allow skipping a stage, going backwards, or promoting to/from local.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@output_option
@report_failures
def promote(source: str, target: str, force: bool, dry_run: bool, output_format: str) -> None:
    """Copy the versions SOURCE runs into TARGET's file (dev → staging → prod); sizing, network and access stay.

    Prints a Markdown summary for the pull request: the first line is its title.
    """
    from eksml.config.target_file import check_writable_environment_file

    if not dry_run:
        check_writable_environment_file(target)  # before the lock opens it: a FIFO would block forever
    if dry_run:
        promotion, written = plan_promotion(source, target, force=force), False
    else:
        with promotion_lock(target):  # a second promote into the same file waits, then reads the new file
            promotion = plan_promotion(source, target, force=force)
            written = write_promotion(promotion)
    if output_format == "json":
        click.echo(json.dumps(summary_json(promotion, written=written, dry_run=dry_run), indent=2))
    else:
        click.echo(summary_markdown(promotion, written=written, dry_run=dry_run))
