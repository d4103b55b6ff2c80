"""``carewatch reprocess``: the click command; the work is carewatch.ops.reprocess."""

from __future__ import annotations

import dataclasses

import click

from carewatch.cli.progress import Progress
from carewatch.ops.reprocess import ReprocessResult
from carewatch.ops.reprocess import reprocess as run_reprocess


@click.command()
@click.option("--source", "source_id", metavar="ID", help="Only this source's articles.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_obj
def reprocess(state, source_id: str | None, as_json: bool) -> None:
    """Re-extract the stored articles from their raw responses (the WARC files under raw_dir) with
    the current code and config, and update those that come out different. No network."""
    import sys

    from carewatch.cli.main import _echo_json, _run

    with Progress("reprocess", "articles", state.config.settings.progress_seconds) as bar:

        def progress(r: ReprocessResult) -> None:
            bar.update(r.articles, r.total, f"{r.unchanged:,} unchanged, {r.changed:,} changed, {r.failed:,} failed")

        result = _run(run_reprocess, state.config, state.archive_path(), source_id, progress)
    if as_json:
        _echo_json(dataclasses.asdict(result))
    else:
        click.echo(
            f"Reprocessed {result.reprocessed} of {result.articles} articles from the raw responses in "
            f"{result.raw_dir}: {result.unchanged} unchanged, {result.changed} changed "
            f"({result.new_versions} with a new version of the text); "
            f"{result.missing} missing capture, {result.failed} failed"
            + (f", {result.skipped} skipped (newer capture stored meanwhile)" if result.skipped else "")
        )
        for e in result.errors:
            click.echo(f"  ! {e['url']}: {e['error']}", err=True)
    if result.failed:
        sys.exit(1)
