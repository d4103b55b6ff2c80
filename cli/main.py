"""The ``carewatch`` command. Each verb parses its flags, calls one Python function, and prints.

Exit codes: 0 ok, 1 some work failed (a source, a delivery), 2 bad config or usage.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click

from carewatch.core.items import explain as explain_evidence
from carewatch.core.errors import CarewatchError, ConfigError


class _State:
    def __init__(self, config_dir: str | None, db: str | None) -> None:
        self.config_dir = config_dir
        self.db_option = db
        self._config = None

    @property
    def config(self):  # noqa: ANN201
        if self._config is None:
            from carewatch.config import load_config

            try:
                self._config = load_config(self.config_dir)
            except ConfigError as e:
                raise _Fail(str(e), code=2) from e
        return self._config

    def db_path(self, default: str | None = None) -> str:
        if self.db_option:
            return self.db_option
        if os.environ.get("CAREWATCH_DB"):
            return os.environ["CAREWATCH_DB"]
        return default or self.config.settings.database

    def db(self):  # noqa: ANN201
        from carewatch.store.db import open_db

        return open_db(self.db_path())


class _Fail(click.ClickException):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = code


def _run(fn, *args, **kwargs):  # noqa: ANN001, ANN202
    """Call into the API, turning our errors into clean messages (never a traceback)."""
    try:
        return fn(*args, **kwargs)
    except ConfigError as e:
        raise _Fail(str(e), code=2) from e
    except CarewatchError as e:
        raise _Fail(str(e)) from e


def _echo_json(data) -> None:  # noqa: ANN001
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_dir", metavar="DIR", envvar="CAREWATCH_CONFIG",
              help="Config folder (default: ./config, or $CAREWATCH_CONFIG).")
@click.option("--db", metavar="PATH", help="SQLite archive (default: settings.yaml 'database', or $CAREWATCH_DB).")
@click.version_option(package_name="carewatch")
@click.pass_context
def cli(ctx: click.Context, config_dir: str | None, db: str | None) -> None:
    """carewatch: watch the news and official statements about Birmingham's children's social
    care, and tell campaigners what changed."""
    ctx.obj = _State(config_dir, db)


# -- demo ------------------------------------------------------------------------------------
@cli.command()
@click.option("--out", "out_dir", metavar="DIR", help="Where the local mail sink saves .eml files "
              "(default: demo-mail/ beside the database).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def demo(state: _State, out_dir: str | None, as_json: bool) -> None:
    """Run the whole path on the bundled demo sites: crawl, store, alert. No internet needed."""
    from carewatch.demo.run import run_demo

    db_path = Path(state.db_option or os.environ.get("CAREWATCH_DB") or "carewatch-demo.db")
    mail_dir = Path(out_dir) if out_dir else db_path.resolve().parent / "demo-mail"
    summary = _run(run_demo, db_path, mail_dir)
    counts = summary.crawl.counts
    if as_json:
        _echo_json(asdict(summary))
        return
    sent = [d for d in summary.deliveries if d.status == "sent"]
    click.echo("carewatch demo: the bundled demo sites, crawled, stored and alerted\n")
    broken = [f for f in summary.failing if f["role"] == "index"]
    click.echo(f"Sources crawled:     {summary.sources} ({len(broken)} failing, "
               f"{len(summary.failing) - len(broken)} with failed pages; all recorded in 'fetches')")
    for f in summary.failing:
        what = "failing" if f["role"] == "index" else "page failed"
        click.echo(f"  ! {f['source_id']} ({what}): {f['error']}\n      {f['url']}")
    click.echo(f"Pages fetched:       {counts.get('fetches', 0)} ({counts.get('fetch_errors', 0)} failed)")
    click.echo(f"Articles stored:     {counts.get('new', 0)} new, {counts.get('updated', 0)} updated, "
               f"{counts.get('unchanged', 0)} unchanged; {summary.articles_total} in the archive")
    click.echo(f"Duplicates dropped:  {counts.get('alias', 0)} copies or edited versions of stored articles "
               f"(kept as aliases), {counts.get('unchanged', 0)} pages already stored")
    click.echo("Articles per topic:  " + (", ".join(f"{t} {n}" for t, n in summary.topics.items()) or "none"))
    click.echo(f"Digests delivered:   {len(sent)}")
    for d in summary.deliveries:
        click.echo(f"  {d.status:7} {d.address}: {len(d.articles)} article(s) — {d.subject}"
                   + (f" [{d.error}]" if d.error else ""))
    click.echo(f"\nDatabase:    {Path(summary.db_path).resolve()}")
    click.echo(f"Mail (.eml): {Path(summary.mail_dir).resolve()} ({len(summary.eml_files)} new file(s))")
    click.echo(f"Browse it:   carewatch --db {summary.db_path} serve")
    click.echo(f"Health:      carewatch --config demo/config --db {summary.db_path} status")


# -- crawl -----------------------------------------------------------------------------------
@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--since", metavar="DATE", help="Back-fill: walk the sources' archives back to DATE (YYYY-MM-DD); "
              "an interrupted back-fill to the same date resumes where it stopped.")
@click.option("--log-level", default="WARNING", show_default=True, help="Scrapy's log level.")
@click.pass_obj
def crawl(state: _State, sources: tuple[str, ...], as_json: bool, since: str | None, log_level: str) -> None:
    """Fetch SOURCES (default: every enabled source) through the pipelines into the archive.

    Only what is new or changed is fetched: unchanged feeds and pages answer 304, stored pages
    are not fetched again."""
    from carewatch.ops.crawl import run_crawl

    if since:
        try:
            since = datetime.strptime(since, "%Y-%m-%d").date().isoformat()
        except ValueError as e:
            raise _Fail(f"--since {since!r}: expected a date as YYYY-MM-DD", code=2) from e
    report = _run(run_crawl, state.config, state.db_path(), list(sources) or None, since=since,
                  log_level=log_level)
    if as_json:
        _echo_json(asdict(report))
    else:
        c = report.counts
        click.echo(f"{len(report.sources)} source(s): {c.get('new', 0)} new, {c.get('updated', 0)} updated, "
                   f"{c.get('unchanged', 0)} unchanged, {c.get('alias', 0)} duplicate(s); "
                   f"{c.get('fetches', 0)} fetches, {len(report.errors)} failed")
        for e in report.errors:
            click.echo(f"  ! {e['source_id']}: {e['error']} ({e['url']})", err=True)
        if c.get("store_errors"):
            click.echo(f"  ! {c['store_errors']} write(s) to the database failed (disk full? see the errors above)",
                       err=True)
    if not report.ok:
        sys.exit(1)


# -- inspect ---------------------------------------------------------------------------------
@cli.command()
@click.argument("target", metavar="FILE_OR_URL")
@click.option("--source", "source_id", help="Treat the page as coming from this source.")
@click.option("--json", "as_json", is_flag=True, help="Print the item as JSON.")
@click.pass_obj
def inspect(state: _State, target: str, source_id: str | None, as_json: bool) -> None:
    """Run the pipelines on one page or PDF without storing it, and show the item."""
    from carewatch.ops.inspect import inspect_target

    item = _run(inspect_target, state.config, target, source_id)
    if as_json:
        _echo_json(item)
        return
    paths = item.get("extraction") or {}
    via = {"author": paths.get("authors"), "published": paths.get("date"), "title": paths.get("title")}
    for key in ("canonical_url", "title", "author", "published", "kind", "relevant", "relevance"):
        click.echo(f"{key:14} {item[key]}" + (f"   [from {via[key]}]" if via.get(key) else ""))
    click.echo(f"{'text':14} {len(item['text'])} characters   [from {paths.get('text', '?')}]")
    for key, value in (item.get("report") or {}).items():
        click.echo(f"{key:14} {value}   [from the Ofsted report]")
    for t in item["topics"]:
        click.echo(f"{'topic':14} {t['topic']} ({t['score']:g}) because: {explain_evidence(t['evidence'])}")
    click.echo("\n" + item["text"][:1500])


# -- alerts ----------------------------------------------------------------------------------
@cli.group()
def alerts() -> None:
    """Keyword-alert digests."""


@alerts.command("send")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.option("--subscriber", "subscribers", multiple=True, help="Only this subscriber (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_obj
def alerts_send(state: _State, dry_run: bool, subscribers: tuple[str, ...], as_json: bool) -> None:
    """Send the digests that are due (and retry unsent ones)."""
    from carewatch.alerts.outbox import send_alerts

    results = _run(send_alerts, state.config, state.db(), dry_run=dry_run, subscribers=list(subscribers) or None)
    if as_json:
        _echo_json([asdict(r) for r in results])
    else:
        if not results:
            click.echo("No digest is due: nothing new matches any subscriber.")
        for r in results:
            click.echo(f"{r.status:8} {r.address}: {len(r.articles)} article(s) — {r.subject}"
                       + (f" [{r.error}]" if r.error else ""))
    if any(r.status == "pending" for r in results):
        sys.exit(1)


def _subscriber(state: _State, sid: str):  # noqa: ANN202
    for sub in state.config.alerts.subscribers:
        if sub.id == sid:
            return sub
    known = ", ".join(s.id for s in state.config.alerts.subscribers)
    raise _Fail(f"no subscriber {sid!r} in alerts.yaml (there are: {known})", code=2)


@alerts.command("preview")
@click.argument("subscriber")
@click.option("--out", "out_file", metavar="FILE", help="Write the digest here (default: SUBSCRIBER-preview.html); "
              "a .txt name writes the plain-text part, .eml the whole message.")
@click.pass_obj
def alerts_preview(state: _State, subscriber: str, out_file: str | None) -> None:
    """Render the subscriber's next digest to a file without sending or recording it."""
    from carewatch.alerts.outbox import _aliases, next_digest
    from carewatch.alerts.render import entries, render_message
    from carewatch.core.items import utcnow

    sub = _subscriber(state, subscriber)
    db = state.db()
    now = utcnow()
    matches = _run(next_digest, state.config, db, sub, now)
    if not matches:
        click.echo(f"Nothing new matches {sub.id}'s rules: the next digest would not be sent.")
        return
    items = entries(state.config, matches, _aliases(db, [m.article["article_id"] for m in matches]), sub)
    msg = render_message(state.config, sub, items, now)
    path = Path(out_file or f"{sub.id}-preview.html")
    if path.suffix == ".eml":
        path.write_bytes(bytes(msg))
    else:
        part = msg.get_body(("plain",) if path.suffix == ".txt" else ("html",))
        path.write_text(part.get_content(), encoding="utf-8")
    click.echo(f"{msg['Subject']}\n{len(items)} stor{'ies' if len(items) != 1 else 'y'} -> {path}")


@alerts.command("test")
@click.argument("query")
@click.option("--days", default=30, show_default=True, help="Look at the articles first seen in the last N days.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def alerts_test(state: _State, query: str, days: int, limit: int, as_json: bool) -> None:
    """What a rule would have matched in the archive (relevant or not), with the words that fired."""
    from carewatch.alerts.match import test_query
    from carewatch.core.query import QueryError

    try:
        rows = test_query(state.db(), query, days, limit=limit)
    except QueryError as e:
        raise _Fail(f"bad query {query!r}: {e}", code=2) from None
    if as_json:
        _echo_json([{k: r[k] for k in ("article_id", "title", "canonical_url", "source_id", "published", "relevant",
                                       "terms")} for r in rows])
        return
    click.echo(f"{len(rows)} article(s) in the last {days} days match {query}")
    for r in rows:
        flag = "" if r["relevant"] else "  (not relevant: never alerted)"
        click.echo(f"- {(r['published'] or r['first_seen'] or '')[:10]} {r['title']}  [{r['source_id']}]{flag}")
        click.echo(f"    matched: {', '.join(r['terms']) or '(filters only)'}")


@alerts.command("feed")
@click.argument("subscriber")
@click.option("--out", "out_file", metavar="FILE", help="Write the Atom feed here (default: standard output).")
@click.pass_obj
def alerts_feed(state: _State, subscriber: str, out_file: str | None) -> None:
    """The subscription as an Atom feed a feed reader can follow."""
    from carewatch.alerts.feed import atom_feed
    from carewatch.alerts.match import match_new

    sub = _subscriber(state, subscriber)
    db = state.db()
    _run(match_new, db, state.config)
    data = atom_feed(state.config, db, sub)
    if out_file:
        Path(out_file).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


@alerts.command("list")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def alerts_list(state: _State, limit: int, as_json: bool) -> None:
    """The latest digests and whether they were delivered."""
    rows = list(state.db()["deliveries"].rows_where(order_by="id desc", limit=limit))
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['id']:4} {r['created']} {r['status']:8} {r['address']}: {r['article_count']} article(s)"
                   + (f" [{r['last_error']}]" if r["last_error"] else ""))


# -- dedup -----------------------------------------------------------------------------------
@cli.group()
def dedup() -> None:
    """De-duplication: copies, versions and why."""


@dedup.command("explain")
@click.argument("first", metavar="ID_OR_URL")
@click.argument("second", metavar="[ID_OR_URL]", required=False)
@click.pass_obj
def dedup_explain(state: _State, first: str, second: str | None) -> None:
    """Why an article has the copies and versions it has, or why two were merged or kept apart."""
    from carewatch.ops.explain import explain

    for line in _run(explain, state.config, state.db(), first, second):
        click.echo(line)


# -- tag -------------------------------------------------------------------------------------
@cli.command("tag")
@click.option("--explain", "explain_id", metavar="ID_OR_URL", help="Show the evidence behind one article's tags.")
@click.option("--retag", is_flag=True, help="Re-tag the whole archive with the current topics.yaml and entities.yaml "
              "(in batches; an interrupted run resumes).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def tag_command(state: _State, explain_id: str | None, retag: bool, as_json: bool) -> None:
    """Topic, entity and relevance tags: explain one article's, or re-tag the archive."""
    from carewatch.ops.retag import explain, retag as run_retag

    if not explain_id and not retag:
        raise click.UsageError("give --explain ID or --retag")
    if explain_id:
        try:
            info = _run(explain, state.db(), state.config, explain_id)
        except KeyError:
            raise _Fail(f"no stored article {explain_id!r}") from None
        if as_json:
            _echo_json(info)
            return
        click.echo(f"{info['article_id']}  {info['title']}  [{info['source_id']}]")
        verdict = "RELEVANT" if info["relevant"] else "NOT RELEVANT (stored, never alerted)"
        click.echo(f"relevance: {verdict}, subject score {info['relevance']:g}"
                   + (" (local source: the place counts as named)" if info["local_source"] else ""))
        click.echo("  because: " + explain_evidence(info["relevance_evidence"]))
        for t in info["topics"]:
            click.echo(f"topic {t['topic']} ({t['label']}), score {t['score']:g}: {explain_evidence(t['evidence'])}")
        if not info["topics"]:
            click.echo("no topic reached its min_score")
        for e in info["entities"]:
            click.echo(f"entity {e['name']} ×{e['count']}: {explain_evidence(e['evidence'])}")
        if sorted(t["topic"] for t in info["topics"]) != info["stored_topics"] or info["relevant"] != info["stored_relevant"]:
            click.echo(f"stored tags differ (topics {info['stored_topics']}, relevant {info['stored_relevant']}): "
                       "run `carewatch tag --retag`")
    if retag:
        def progress(done: int, total: int) -> None:
            if not as_json:
                click.echo(f"  re-tagged {done}/{total}", err=True)

        result = _run(run_retag, state.db(), state.config, progress)
        if as_json:
            _echo_json(dataclasses.asdict(result))
            return
        click.echo(f"Re-tagged {result.articles} articles ({result.changed} changed tags"
                   + (f"; resumed after row {result.resumed_from}" if result.resumed_from else "") + ")")


# -- search ----------------------------------------------------------------------------------
@cli.command()
@click.argument("query")
@click.option("--limit", default=20, show_default=True)
@click.option("--since", metavar="DATE", help="Only articles published or first seen since DATE.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def search(state: _State, query: str, limit: int, since: str | None, as_json: bool) -> None:
    """Full-text search of the archive."""
    from carewatch.store.search import search as search_archive

    rows = _run(search_archive, state.db(), query, limit=limit, since=since)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("No article matches.")
    for r in rows:
        click.echo(f"{(r['published'] or '')[:10]:10}  {r['title']}\n            {r['canonical_url']}")


# -- status ----------------------------------------------------------------------------------
@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def status(state: _State, as_json: bool) -> None:
    """Health of every source, failing ones first, with their last error; digests waiting to go out."""
    from carewatch.alerts.health import outbox
    from carewatch.store.db import database_size
    from carewatch.store.fetches import source_health

    db = state.db()
    health = source_health(db, state.config)
    waiting = outbox(db)
    if as_json:
        _echo_json({"sources": [asdict(h) for h in health], "outbox": [asdict(w) for w in waiting]})
        if any(h.state in ("failing", "erroring") for h in health) or any(w.attempts for w in waiting):
            sys.exit(1)
        return
    click.echo(f"{'source':28} {'state':8} {'articles':>8}  last fetch / last error")
    for h in health:
        click.echo(f"{h.source_id:28} {h.state:8} {h.articles:>8}  {h.last_fetch or 'never'}")
        if h.state in ("failing", "erroring"):
            retry = f"; next try {h.next_retry}" if h.next_retry else ""
            click.echo(f"{'':28} {'':8} {'':>8}  ! {h.last_error} ({h.consecutive_failures} failure(s) in a row{retry})")
        elif h.state == "silent":
            click.echo(f"{'':28} {'':8} {'':>8}  ! {h.last_error}")
        elif h.state == "warning":
            click.echo(f"{'':28} {'':8} {'':>8}  ! {h.failed_pages} page(s) failed, last: {h.last_error}")
    jobs = db.execute("SELECT job, max(started), status FROM job_runs GROUP BY job ORDER BY job").fetchall()
    size = database_size(state.db_path())
    click.echo(f"\nDatabase: {state.db_path()} ({size / 1e6:.1f} MB)")
    if jobs:
        running = [j for j, _, st in jobs if st == "running"]
        click.echo(f"Daemon runs: {len(jobs)} job(s), last {max(j[1] for j in jobs)}"
                   + (f"; running now: {', '.join(running)}" if running else ""))
    if waiting:
        click.echo(f"\nDigests waiting to be delivered: {len(waiting)}")
        for w in waiting:
            flag = "STUCK " if w.stuck else ""
            click.echo(f"  {flag}#{w.delivery_id} {w.subscriber} via {w.address} (queued {w.created}, "
                       f"{w.attempts} attempt(s){'; next try ' + w.next_attempt if w.next_attempt else ''})"
                       + (f"\n    ! {w.last_error}" if w.last_error else ""))
    else:
        click.echo("\nDigests waiting to be delivered: none")
    if any(h.state in ("failing", "erroring") for h in health) or any(w.attempts for w in waiting):
        sys.exit(1)


# -- backup / restore --------------------------------------------------------------------------
@cli.command()
@click.argument("dest", metavar="FILE_OR_DIR")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def backup(state: _State, dest: str, as_json: bool) -> None:
    """Copy the archive while it is in use (SQLite's online backup), checked."""
    from carewatch.store.backup import backup as do_backup

    result = _run(do_backup, state.db_path(), dest)
    _echo_json(result) if as_json else click.echo(f"Backed up {result['articles']} articles to {result['backup']} "
                                                  f"({result['bytes'] / 1e6:.1f} MB)")


@cli.command()
@click.argument("backup_file", metavar="FILE")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def restore(state: _State, backup_file: str, yes: bool) -> None:
    """Replace the archive with a backup (stop the daemon first; the current one is kept aside)."""
    from carewatch.store.backup import restore as do_restore

    if not yes:
        click.confirm(f"Replace {state.db_path()} with {backup_file}?", abort=True)
    result = _run(do_restore, backup_file, state.db_path())
    click.echo(f"Restored {result['articles']} articles into {result['restored']}"
               + (f"; the previous database is kept as {result['previous']}" if result["previous"] else ""))


# -- serve -----------------------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.option("--public-url", metavar="URL", envvar="CAREWATCH_PUBLIC_URL",
              help="Where a reverse proxy publishes the archive (e.g. https://example.org/archive/); see docs/archive.md.")
@click.pass_obj
def serve(state: _State, host: str, port: int, public_url: str | None) -> None:
    """Browse and search the archive in Datasette: read-only, subscribers' data private (docs/archive.md)."""
    from carewatch.archive.serve import datasette_command

    path = state.db_path()
    state.db().close()  # create and migrate it if needed
    click.echo(f"Serving {path} at http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    try:
        command = datasette_command(path, host, port, public_url=public_url)
    except ValueError as e:
        raise _Fail(str(e), code=2) from None
    os.execv(sys.executable, command)


# -- run -------------------------------------------------------------------------------------
@cli.command()
@click.pass_obj
def run(state: _State) -> None:
    """Run as a daemon: crawl each source on its schedule, send digests as they fall due, keep house.
    SIGTERM/SIGINT stop it cleanly; SIGHUP re-reads the config (an invalid one is rejected)."""
    from carewatch.daemon.service import run_daemon

    sys.exit(_run(run_daemon, state.config, state.db_path()))


# -- config ----------------------------------------------------------------------------------
@cli.group("config")
def config_group() -> None:
    """Configuration."""


@config_group.command("check")
@click.pass_obj
def config_check(state: _State) -> None:
    """Validate every config file; name the file, line and field of any error."""
    c = state.config
    click.echo(f"{c.directory}: ok — {len(c.sources)} sources, {len(c.topics.topics)} topics, "
               f"{len(c.alerts.subscribers)} subscribers")


def main() -> None:  # pragma: no cover
    cli()


# -- reprocess (cli/reprocess.py) ------------------------------------------------------------
from carewatch.cli.evidence import evidence  # noqa: E402
from carewatch.cli.reprocess import reprocess  # noqa: E402

cli.add_command(reprocess)
cli.add_command(evidence)
