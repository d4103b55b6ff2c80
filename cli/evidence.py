"""``carewatch evidence``: the click command; the work is carewatch.ops.evidence."""

from __future__ import annotations

import os

import click

from carewatch.ops.evidence import make_pack, sha256_hex


@click.command()
@click.argument("article", metavar="ID_OR_URL")
@click.option("--out", "out", metavar="DIR_OR_ZIP", help="Write the pack here: a folder, or a .zip file "
              "(default: evidence-ID-TIMESTAMP in the current folder).")
@click.option("--force", is_flag=True, help="Replace an existing evidence pack at --out.")
@click.option("--json", "as_json", is_flag=True, help="Print where the pack is and what it holds as JSON.")
@click.pass_obj
def evidence(state, article: str, out: str | None, force: bool, as_json: bool) -> None:  # noqa: ANN001
    """Write a citable evidence pack about one article: its URLs, every version with its text and
    word diff, the raw captures from the WARC files with their sha256 (checked), when it was taken
    down if it was, and a manifest with the sha256 of every file."""
    import sys

    from carewatch.cli.main import _echo_json, _run
    from carewatch.scrapers.warc import raw_dir_for

    db_path = state.db_path()
    raw_dir = raw_dir_for(state.config.settings.raw_dir, db_path)
    sources = {s.id: {"name": s.name, "kind": s.kind, "url": s.url} for s in state.config.sources}
    db = state.db()
    try:
        path, ev, files = _run(make_pack, db, article, raw_dir, out, sources=sources, database=db_path, force=force)
    finally:
        db.close()
    bad = [c for c in ev.captures if not c.verified]
    manifest_sha = sha256_hex(files["manifest.json"])
    if as_json:
        _echo_json({"pack": os.fspath(path), "article_id": ev.article["article_id"], "title": ev.article["title"],
                    "versions": len(ev.versions), "captures": len(ev.captures), "verified": len(ev.captures) - len(bad),
                    "removed": bool(ev.removed), "removal": ev.removal_summary(), "files": len(files),
                    "manifest_sha256": manifest_sha,
                    **({"zip_sha256": sha256_hex(path.read_bytes())} if path.is_file() else {})})
    else:
        click.echo(f"Evidence pack for {ev.article['article_id']} ({ev.article['title']}) -> {path}")
        click.echo(f"  {len(ev.versions)} version(s), {len(ev.urls)} URL(s), {len(ev.captures)} raw capture(s) "
                   f"({len(ev.captures) - len(bad)} verified against their sha256), {len(ev.fetches)} fetch(es) logged")
        click.echo(f"  {ev.removal_summary()}")
        click.echo(f"  manifest.json sha256 {manifest_sha}" + (f"; {path.name} sha256 {sha256_hex(path.read_bytes())}"
                                                                 if path.is_file() else ""))
        for c in bad:
            click.echo(f"  ! capture {c.number} ({c.url}): {c.problem}", err=True)
    if bad:
        sys.exit(1)


__all__ = ["evidence"]
