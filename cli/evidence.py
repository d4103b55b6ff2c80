"""``carewatch evidence``: the click command; the work is carewatch.ops.evidence."""

from __future__ import annotations

from pathlib import Path

import click

from carewatch.ops.evidence import evidence_pack


@click.command()
@click.argument("article", metavar="ID_OR_URL")
@click.option(
    "--out",
    "out",
    metavar="DIR_OR_ZIP",
    help="Write the pack here: a folder, or a .zip file (default: evidence-ID-TIMESTAMP in the current folder).",
)
@click.option("--force", is_flag=True, help="Replace an existing evidence pack at --out.")
@click.option("--json", "as_json", is_flag=True, help="Print where the pack is and what it holds as JSON.")
@click.pass_obj
def evidence(state, article: str, out: str | None, force: bool, as_json: bool) -> None:
    """Write a citable evidence pack about one article: its URLs, every version with its text and
    word diff, the raw captures from the WARC files with their sha256 (checked), when it was taken
    down if it was, and a manifest with the sha256 of every file."""
    import sys

    from carewatch.cli.main import _echo_json, _run

    pack = _run(evidence_pack, state.config, state.archive_path(), article, out, force=force)
    if as_json:
        _echo_json(
            {
                "pack": pack.pack,
                "article_id": pack.article_id,
                "title": pack.title,
                "versions": pack.versions,
                "captures": pack.captures,
                "verified": pack.verified,
                "removed": pack.removed,
                "removal": pack.removal,
                "files": pack.files,
                "manifest_sha256": pack.manifest_sha256,
                **({"zip_sha256": pack.zip_sha256} if pack.zip_sha256 else {}),
            }
        )
    else:
        click.echo(f"Evidence pack for {pack.article_id} ({pack.title}) -> {pack.pack}")
        click.echo(
            f"  {pack.versions} version(s), {pack.urls} URL(s), {pack.captures} raw capture(s) "
            f"({pack.verified} verified against their sha256), {pack.fetches} fetch(es) logged"
        )
        click.echo(f"  {pack.removal}")
        click.echo(
            f"  manifest.json sha256 {pack.manifest_sha256}"
            + (f"; {Path(pack.pack).name} sha256 {pack.zip_sha256}" if pack.zip_sha256 else "")
        )
        for c in pack.bad_captures:
            click.echo(f"  ! capture {c.number} ({c.url}): {c.problem}", err=True)
    if pack.bad_captures:
        sys.exit(1)


__all__ = ["evidence"]
