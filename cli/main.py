"""The ``carewatch`` command. Each verb parses its flags, calls one Python function, and prints.

Exit codes: 0 ok, 1 some work failed (a source, a delivery), 2 bad config or usage.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from carewatch.cli.evidence import evidence
from carewatch.cli.progress import Progress
from carewatch.cli.reprocess import reprocess
from carewatch.core.errors import CarewatchError, ConfigError
from carewatch.core.items import explain as explain_evidence


class _State:
    def __init__(self, config_dir: str | None, db: str | None) -> None:
        self.config_dir = config_dir
        self.db_option = db
        self._config = None

    @property
    def config(self):
        if self._config is None:
            from carewatch.config import load_config

            try:
                self._config = load_config(self.config_dir)
            except ConfigError as e:
                raise _Fail(str(e), code=2) from e
        return self._config

    def db_path(self) -> str:
        """--db, else the settings' database ($CAREWATCH_DB over settings.yaml: config.environment)."""
        return self.db_option or self.config.settings.database

    def archive_path(self) -> str:
        """db_path() of an archive that exists: the verbs that read (and those that only change what
        is there) never create one, and say where they looked and why there."""
        from carewatch.config.environment import DATABASE

        path = self.db_path()
        if not Path(path).exists():
            if self.db_option:
                origin = "given with --db"
            elif DATABASE.value():
                origin = f"from ${DATABASE.variable}"
            else:
                origin = f"'database' in {self.config.directory}/settings.yaml, or its default"
            raise _Fail(
                f"no archive at {Path(path).resolve()} ({origin}); nothing was created. "
                "Give --db PATH, or make one with `carewatch crawl` or `carewatch demo`."
            )
        return path

    def db(self):
        """The existing archive (archive_path()), opened."""
        from carewatch.ops.database import open_archive

        return _run(open_archive, self.archive_path())


class _Fail(click.ClickException):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = code


def _run(fn, *args, **kwargs):
    """Call into the API, turning our errors into clean messages (never a traceback)."""
    try:
        return fn(*args, **kwargs)
    except ConfigError as e:
        raise _Fail(str(e), code=2) from e
    except CarewatchError as e:
        raise _Fail(str(e)) from e


def _echo_json(data) -> None:
    """A typed result as JSON: nested values are JSON values (ops.jsondata, the one rendering)."""
    from carewatch.ops.jsondata import json_data

    click.echo(json.dumps(json_data(data), indent=2, ensure_ascii=False, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_dir", metavar="DIR", help="Config folder (default: $CAREWATCH_CONFIG, or ./config).")
@click.option("--db", metavar="PATH", help="SQLite archive (default: $CAREWATCH_DB, else settings.yaml 'database').")
@click.version_option(package_name="carewatch")
@click.pass_context
def cli(ctx: click.Context, config_dir: str | None, db: str | None) -> None:
    """carewatch: watch the news and official statements about Birmingham's children's social
    care, and tell campaigners what changed."""
    ctx.obj = _State(config_dir, db)


def _command_as_run() -> str:
    """The command as the user ran it (``.venv/bin/carewatch`` from a clone), for lines to paste."""
    exe = sys.argv[0] if Path(sys.argv[0]).name == "carewatch" else "carewatch"
    if os.sep not in exe:  # found on the PATH
        return exe
    shown = _shown(Path(exe))
    return shown if os.sep in shown else f".{os.sep}{shown}"


def _shown(path: Path) -> str:
    """A path as short as it can be pasted from here: relative below the current folder (links
    not followed: the venv's script is shown as the venv's)."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


# -- demo ------------------------------------------------------------------------------------
@cli.command()
@click.option(
    "--out",
    "out_dir",
    metavar="DIR",
    help="Where the local mail sink saves .eml files (default: demo-mail/ beside the database).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def demo(state: _State, out_dir: str | None, as_json: bool) -> None:
    """Run the whole path on the bundled demo sites: crawl, store, alert. No internet needed."""
    from carewatch.config.environment import DATABASE
    from carewatch.demo.run import DEMO_CONFIG, run_demo

    db_path = Path(state.db_option or DATABASE.value() or "carewatch-demo.db")
    mail_dir = Path(out_dir) if out_dir else db_path.resolve().parent / "demo-mail"
    summary = _run(run_demo, db_path, mail_dir)
    counts = summary.crawl.counts
    if as_json:
        _echo_json(summary)
        return
    sent = [d for d in summary.deliveries if d.status == "sent"]
    click.echo("carewatch demo: the bundled demo sites, crawled, stored and alerted\n")
    broken = [f for f in summary.failing if f["role"] == "index"]
    click.echo(
        f"Sources crawled:     {summary.sources} ({len(broken)} failing, "
        f"{len(summary.failing) - len(broken)} with failed pages; all recorded in 'fetches')"
    )
    for f in summary.failing:
        what = "failing" if f["role"] == "index" else "page failed"
        click.echo(f"  ! {f['source_id']} ({what}): {f['error']}\n      {f['url']}")
    click.echo(f"Pages fetched:       {counts.get('fetches', 0)} ({counts.get('fetch_errors', 0)} failed)")
    click.echo(
        f"Articles stored:     {counts.get('new', 0)} new, {counts.get('updated', 0)} updated, "
        f"{counts.get('unchanged', 0)} unchanged; {summary.articles_total} in the archive"
    )
    click.echo(
        f"Duplicates dropped:  {counts.get('alias', 0)} copies or edited versions of stored articles "
        f"(kept as aliases), {counts.get('unchanged', 0)} pages already stored"
    )
    click.echo("Articles per topic:  " + (", ".join(f"{t} {n}" for t, n in summary.topics.items()) or "none"))
    cal = summary.calendar
    click.echo(
        f"Council meetings:    {cal.get('meetings', 0)} ({cal.get('agenda_items', 0)} agenda items, "
        f"{cal.get('meeting_documents', 0)} papers; {cal.get('article_links', 0)} links from press articles)"
    )
    click.echo(f"Digests delivered:   {len(sent)}")
    for d in summary.deliveries:
        click.echo(
            f"  {d.status:7} {d.address}: {d.article_count} article(s) in {len(d.articles)} stories — {d.subject}"
            + (f" [{d.error}]" if d.error else "")
        )
    click.echo(f"\nDatabase:    {Path(summary.db_path).resolve()}")
    click.echo(f"Mail (.eml): {Path(summary.mail_dir).resolve()} ({len(summary.eml_files)} new file(s))")
    exe = _command_as_run()
    click.echo(f"Browse it:   {exe} --config {_shown(DEMO_CONFIG)} --db {summary.db_path} serve")
    click.echo(f"Health:      {exe} --config {_shown(DEMO_CONFIG)} --db {summary.db_path} status")


# -- crawl -----------------------------------------------------------------------------------
@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--since",
    metavar="DATE",
    help="Back-fill: walk the sources' archives back to DATE (YYYY-MM-DD); "
    "an interrupted back-fill to the same date resumes where it stopped.",
)
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    help="Scrapy's log level. INFO or DEBUG print Scrapy's log as the crawl runs; otherwise its "
    "warnings are summarised after the crawl's summary (errors are printed as they come).",
)
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
    config = state.config
    with Progress("crawl", "days of archive" if since else "fetches", config.settings.progress_seconds) as bar:

        def progress(p) -> None:
            note = f"{p.stored:,} new articles, {p.failed:,} failed"
            if since:
                note = f"{p.fetches:,} fetches, {note}"  # how far back the back-fill has walked, of the way to --since
                today = datetime.now().date()
                walked = (today - datetime.fromisoformat(p.oldest[:10]).date()).days if p.oldest else 0
                total = max((today - datetime.fromisoformat(since).date()).days, 1)
                bar.update(min(max(walked, 0), total), total, note)
            else:
                bar.update(p.fetches, None, note)

        report = _run(
            run_crawl,
            config,
            state.db_path(),
            list(sources) or None,
            since=since,
            log_level=log_level,
            progress=progress,
        )
    if as_json:
        _echo_json(report)
    else:
        c = report.counts
        click.echo(
            f"{len(report.sources)} source(s): {c.get('new', 0)} new, {c.get('updated', 0)} updated, "
            f"{c.get('unchanged', 0)} unchanged, {c.get('alias', 0)} duplicate(s); "
            f"{c.get('fetches', 0)} fetches, {len(report.errors)} failed"
        )
        for e in report.errors:
            click.echo(f"  ! {e['source_id']}: {e['error']} ({e['url']})", err=True)
        if c.get("store_errors"):
            click.echo(
                f"  ! {c['store_errors']} write(s) to the database failed (disk full? see the errors above)", err=True
            )
        if report.log_lines:  # Scrapy's own warnings, after the summary rather than above it
            kinds = sorted({r["message"].splitlines()[0][:200] for r in report.log})
            click.echo(f"  {report.log_lines} message(s) in Scrapy's log, e.g.:", err=True)
            for message in kinds[:3]:
                click.echo(f"    {message}", err=True)
            click.echo("  (carewatch crawl --log-level INFO prints Scrapy's log as the crawl runs)", err=True)
    if not report.ok:
        sys.exit(1)


# -- inspect ---------------------------------------------------------------------------------
@cli.command()
@click.argument("target", metavar="FILE_OR_URL")
@click.option("--source", "source_id", help="Treat the page as coming from this source.")
@click.option("--json", "as_json", is_flag=True, help="Print the item as JSON.")
@click.pass_obj
def inspect(state: _State, target: str, source_id: str | None, as_json: bool) -> None:
    """Run the pipelines on one page or PDF as a crawl would (de-duplicated against the archive, if
    there is one), without storing it, and show the item."""
    from carewatch.ops.inspect import inspect_target

    item = _run(inspect_target, state.config, target, source_id, state.db_path())
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
    if item["duplicate_of"]:
        click.echo(
            f"{'copy of':14} {item['duplicate_of']}   [{item['duplicate_reason']}: a crawl would keep it as an alias]"
        )
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
    from carewatch.ops.alerts import send_alerts

    results = _run(send_alerts, state.config, state.db(), dry_run=dry_run, subscribers=list(subscribers) or None)
    if as_json:
        _echo_json(results)
    else:
        if not results:
            click.echo("No digest is due: nothing new matches any subscriber.")
        for r in results:
            click.echo(
                f"{r.status:8} {r.address}: {r.article_count} article(s) in {len(r.articles)} stories — {r.subject}"
                + (f" [{r.error}]" if r.error else "")
            )
    if any(r.status == "pending" for r in results):
        sys.exit(1)


def _subscriber(state: _State, sid: str):
    from carewatch.ops.alerts import find_subscriber

    return _run(find_subscriber, state.config, sid, state.db())


@alerts.command("preview")
@click.argument("subscriber")
@click.option(
    "--out",
    "out_file",
    metavar="FILE",
    help="Write the digest here (default: SUBSCRIBER-preview.html); "
    "a .txt name writes the plain-text part, .eml the whole message.",
)
@click.pass_obj
def alerts_preview(state: _State, subscriber: str, out_file: str | None) -> None:
    """Render the subscriber's next digest to a file without sending or recording it."""
    from carewatch.ops.alerts import preview_digest

    sub = _subscriber(state, subscriber)
    preview = _run(preview_digest, state.config, state.db(), sub)
    if preview is None:
        click.echo(f"Nothing new matches {sub.id}'s rules: the next digest would not be sent.")
        return
    msg, items = preview.message, preview.items
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
    from carewatch.core.query import QueryError
    from carewatch.ops.alerts import try_rule

    try:
        hits = try_rule(state.config, state.db(), query, days, limit=limit)
    except QueryError as e:
        raise _Fail(f"bad query: {e.about(query)}", code=2) from None
    if as_json:
        _echo_json(
            [
                {
                    k: getattr(h, k)
                    for k in ("article_id", "title", "canonical_url", "source_id", "published", "relevant", "terms")
                }
                for h in hits
            ]
        )
        return
    click.echo(f"{len(hits)} article(s) in the last {days} days match {query}")
    for h in hits:
        flag = "" if h.relevant else "  (not relevant: never alerted)"
        click.echo(f"- {(h.published or h.first_seen or '')[:10]} {h.title}  [{h.source_id}]{flag}")
        click.echo(f"    matched: {', '.join(h.terms) or '(filters only)'}")


@alerts.command("feed")
@click.argument("subscriber")
@click.option("--out", "out_file", metavar="FILE", help="Write the Atom feed here (default: standard output).")
@click.option(
    "--public-url",
    metavar="URL",
    help="Where `carewatch serve` is published (default: $CAREWATCH_PUBLIC_URL): the feed's self link.",
)
@click.pass_obj
def alerts_feed(state: _State, subscriber: str, out_file: str | None, public_url: str | None) -> None:
    """The subscription as an Atom feed a feed reader can follow."""
    from carewatch.config.environment import PUBLIC_URL
    from carewatch.ops.alerts import subscription_feed

    sub = _subscriber(state, subscriber)
    data = _run(subscription_feed, state.config, state.db(), sub, public_url or PUBLIC_URL.value())
    if out_file:
        Path(out_file).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


@alerts.command("feed-url")
@click.argument("subscriber")
@click.option(
    "--public-url",
    metavar="URL",
    help="Where `carewatch serve` is published (default: $CAREWATCH_PUBLIC_URL).",
)
@click.pass_obj
def alerts_feed_url(state: _State, subscriber: str, public_url: str | None) -> None:
    """Where `carewatch serve` serves the subscription's Atom feed: a stable address with a secret
    token in it (made the first time; give it only to the subscriber)."""
    from carewatch.config.environment import PUBLIC_URL
    from carewatch.ops.alerts import feed_address

    sub = _subscriber(state, subscriber)
    click.echo(_run(feed_address, state.db(), sub, public_url or PUBLIC_URL.value()))


@alerts.command("list")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def alerts_list(state: _State, limit: int, as_json: bool) -> None:
    """The latest digests and whether they were delivered."""
    from carewatch.ops.alerts import latest_deliveries

    rows = _run(latest_deliveries, state.db(), limit)
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r.id:4} {r.created} {r.status:8} {r.address}: {r.article_count} article(s)"
            + (f" [{r.last_error}]" if r.last_error else "")
        )


# -- subscribers -----------------------------------------------------------------------------
@cli.group()
def subscribers() -> None:
    """Subscribers: alerts.yaml's and those who signed up on /subscribe (README, "Subscribers")."""


@subscribers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def subscribers_list(state: _State, as_json: bool) -> None:
    """Every subscriber, its status (sign-ups awaiting confirmation or approval too) and what it follows."""
    from carewatch.ops.subscriptions import list_subscribers

    rows = _run(list_subscribers, state.config, state.db())
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r.subscriber:16} {r.status:21} {r.managed_by:11} {r.frequency:9} {r.email} ({r.name}): "
            + "; ".join(r.interests)
        )


@subscribers.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--topic", "topics", multiple=True, help="A topic id of topics.yaml (repeatable).")
@click.option("--keyword", "keywords", multiple=True, help="A word or phrase (repeatable).")
@click.option("--rule", default="", help="A rule in the rule language.")
@click.option("--frequency", type=click.Choice(["immediate", "daily", "weekly"]), default="daily", show_default=True)
@click.option("--at", "at", default="08:00", show_default=True, help="Daily and weekly: HH:MM, Europe/London.")
@click.option("--day", default="monday", show_default=True, help="Weekly: the day.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def subscribers_add(state: _State, email, name, topics, keywords, rule, frequency, at, day, as_json: bool) -> None:
    """Add a subscriber, active at once (you vouch for its consent; it is recorded as yours)."""
    from carewatch.ops.subscriptions import SubscriptionForm, add_subscriber

    form = SubscriptionForm(email, name, tuple(topics), "\n".join(keywords), rule, frequency, at, day)
    row = _run(add_subscriber, state.config, state.db(), form)
    if as_json:
        _echo_json(row)
        return
    click.echo(f"added {row.subscriber}: {row.email}, {row.frequency}: " + "; ".join(row.interests))


@subscribers.command("approve")
@click.argument("subscriber_id")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def subscribers_approve(state: _State, subscriber_id: str, as_json: bool) -> None:
    """Approve a confirmed sign-up (settings.yaml signup: approval): its digests start."""
    from carewatch.ops.subscriptions import approve

    row = _run(approve, state.config, state.db(), subscriber_id)
    if as_json:
        _echo_json(row)
        return
    click.echo(f"approved {row.subscriber}: {row.email}")


@subscribers.command("remove")
@click.argument("subscriber_id")
@click.pass_obj
def subscribers_remove(state: _State, subscriber_id: str) -> None:
    """Delete a subscriber kept in the database, with its personal data (README says what is kept)."""
    from carewatch.ops.subscriptions import remove

    _run(remove, state.config, state.db(), subscriber_id)
    click.echo(f"removed {subscriber_id}")


@subscribers.command("export")
@click.argument("subscriber_id", required=False)
@click.pass_obj
def subscribers_export(state: _State, subscriber_id: str | None) -> None:
    """Everything kept about a subscriber (or all of them), as JSON: what "download my data" gives."""
    from carewatch.ops.subscriptions import export

    _echo_json(_run(export, state.config, state.db(), subscriber_id))


# -- dedup -----------------------------------------------------------------------------------
@cli.group()
def dedup() -> None:
    """De-duplication: copies, versions and why."""


@dedup.command("explain")
@click.argument("first", metavar="ID_OR_URL")
@click.argument("second", metavar="[ID_OR_URL]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.pass_obj
def dedup_explain(state: _State, first: str, second: str | None, as_json: bool) -> None:
    """Why an article has the copies and versions it has, or why two were merged or kept apart."""
    from carewatch.ops.explain import explain

    explanation = _run(explain, state.config, state.db(), first, second)
    if as_json:
        _echo_json(explanation)
        return
    for line in explanation.lines:
        click.echo(line)


# -- tag -------------------------------------------------------------------------------------
@cli.command("tag")
@click.option("--explain", "explain_id", metavar="ID_OR_URL", help="Show the evidence behind one article's tags.")
@click.option(
    "--retag",
    is_flag=True,
    help="Re-tag the whole archive with the current topics.yaml and entities.yaml "
    "(in batches; an interrupted run resumes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def tag_command(state: _State, explain_id: str | None, retag: bool, as_json: bool) -> None:
    """Topic, entity and relevance tags: explain one article's, or re-tag the archive."""
    from carewatch.ops.retag import explain
    from carewatch.ops.retag import retag as run_retag

    if not explain_id and not retag:
        raise click.UsageError("give --explain ID or --retag")
    if explain_id:
        info = _run(explain, state.db(), state.config, explain_id)
        if as_json:
            _echo_json(info)
            return
        click.echo(f"{info['article_id']}  {info['title']}  [{info['source_id']}]")
        verdict = "RELEVANT" if info["relevant"] else "NOT RELEVANT (stored, never alerted)"
        click.echo(
            f"relevance: {verdict}, subject score {info['relevance']:g}"
            + (" (local source: the place counts as named)" if info["local_source"] else "")
        )
        click.echo("  because: " + explain_evidence(info["relevance_evidence"]))
        for t in info["topics"]:
            click.echo(f"topic {t['topic']} ({t['label']}), score {t['score']:g}: {explain_evidence(t['evidence'])}")
        if not info["topics"]:
            click.echo("no topic reached its min_score")
        for e in info["entities"]:
            click.echo(f"entity {e['name']} ×{e['count']}: {explain_evidence(e['evidence'])}")
        if (
            sorted(t["topic"] for t in info["topics"]) != info["stored_topics"]
            or info["relevant"] != info["stored_relevant"]
        ):
            click.echo(
                f"stored tags differ (topics {info['stored_topics']}, relevant {info['stored_relevant']}): "
                "run `carewatch tag --retag`"
            )
    if retag:
        with Progress("re-tag", "articles", state.config.settings.progress_seconds) as bar:
            result = _run(run_retag, state.db(), state.config, lambda done, total: bar.update(done, total))
        if as_json:
            _echo_json(result)
            return
        click.echo(
            f"Re-tagged {result.articles} articles ({result.changed} changed tags"
            + (f"; resumed after row {result.resumed_from}" if result.resumed_from else "")
            + ")"
        )


# -- search ----------------------------------------------------------------------------------
@cli.command()
@click.argument("query")
@click.option("--limit", default=20, show_default=True)
@click.option("--since", metavar="DATE", help="Only articles published or first seen since DATE.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def search(state: _State, query: str, limit: int, since: str | None, as_json: bool) -> None:
    """Search the archive with the alert rule language (words, "phrases", prefix*, AND/OR/NOT,
    NEAR/n, topic:, source:, entity:, relevant:): what `alerts test` and the alerts match."""
    from carewatch.core.query import QueryError
    from carewatch.ops.search import search as search_archive

    try:
        rows = _run(search_archive, state.config, state.db(), query, limit=limit, since=since)
    except QueryError as e:
        raise _Fail(f"bad query: {e.about(query)}", code=2) from None
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("No article matches.")
    for r in rows:
        click.echo(f"{(r.published or '')[:10]:10}  {r.title}\n            {r.canonical_url}")


# -- status ----------------------------------------------------------------------------------
@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def status(state: _State, as_json: bool) -> None:
    """Health of every source, failing ones first, with their last error; digests waiting to go out."""
    from carewatch.ops.status import status as status_report

    report = _run(status_report, state.config, state.db(), state.archive_path())
    if as_json:
        _echo_json(
            {
                "healthy": report.healthy,
                "problems": report.problems,
                "sources": report.sources,
                "outbox": report.outbox,
                "subscribers": report.subscribers,
            }
        )
        if not report.healthy:
            sys.exit(1)
        return
    click.echo(f"{'source':28} {'state':8} {'articles':>8}  last fetch / last error")
    for h in report.sources:
        click.echo(f"{h.source_id:28} {h.state:8} {h.articles:>8}  {h.last_fetch or 'never'}")
        if h.state in ("failing", "erroring"):
            retry = f"; next try {h.next_retry}" if h.next_retry else ""
            click.echo(
                f"{'':28} {'':8} {'':>8}  ! {h.last_error} ({h.consecutive_failures} failure(s) in a row{retry})"
            )
        elif h.state == "silent":
            click.echo(f"{'':28} {'':8} {'':>8}  ! {h.last_error}")
        elif h.state == "warning":
            click.echo(f"{'':28} {'':8} {'':>8}  ! {h.failed_pages} page(s) failed, last: {h.last_error}")
    click.echo(f"\nDatabase: {report.db_path} ({report.database_bytes / 1e6:.1f} MB)")
    click.echo("Subscribers: " + ", ".join(f"{n} {what}" for what, n in report.subscribers.items()))
    if report.jobs:
        running = [j.job for j in report.jobs if j.status == "running"]
        click.echo(
            f"Daemon runs: {len(report.jobs)} job(s), last {max(j.last_started for j in report.jobs)}"
            + (f"; running now: {', '.join(running)}" if running else "")
        )
    if report.outbox:
        click.echo(f"\nDigests waiting to be delivered: {len(report.outbox)}")
        for w in report.outbox:
            flag = "STUCK " if w.stuck else ""
            click.echo(
                f"  {flag}#{w.delivery_id} {w.subscriber} via {w.address} (queued {w.created}, "
                f"{w.attempts} attempt(s){'; next try ' + w.next_attempt if w.next_attempt else ''})"
                + (f"\n    ! {w.last_error}" if w.last_error else "")
            )
    else:
        click.echo("\nDigests waiting to be delivered: none")
    click.echo(f"\nVerdict: {'ok' if report.healthy else f'needs attention ({len(report.problems)} problem(s))'}")
    if not report.healthy:
        sys.exit(1)


# -- backup / restore --------------------------------------------------------------------------
@cli.command()
@click.argument("dest", metavar="FILE_OR_DIR")
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    metavar="N",
    help="Into a folder: keep the newest N backups (default: backup_keep).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def backup(state: _State, dest: str, keep: int | None, as_json: bool) -> None:
    """Back up the archive and its raw captures while in use (SQLite's online backup, checked): to
    FILE (captures in FILE-raw/), or into DIR as a dated pair, incrementally, pruning old ones."""
    from carewatch.ops.backup import backup as do_backup

    result = _run(do_backup, state.config, state.archive_path(), dest, keep=keep)
    if as_json:
        _echo_json(result)
        return
    click.echo(f"Backed up {result.articles} articles to {result.backup} ({result.bytes / 1e6:.1f} MB)")
    c = result.captures
    if c:
        click.echo(
            f"Raw captures: {c.files} file(s) in {c.folder} ({c.copied} copied, {c.linked} linked from the last backup)"
        )
    else:
        click.echo("Raw captures: none (the archive has no raw_dir folder yet)")
    for p in result.pruned:
        click.echo(f"Deleted the old backup {p} (backup_keep)")


@cli.command()
@click.argument("backup_file", metavar="FILE")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def restore(state: _State, backup_file: str, yes: bool, as_json: bool) -> None:
    """Replace the archive with a backup and add its raw captures (refused while the daemon runs;
    the current database is kept aside)."""
    from carewatch.ops.backup import restore as do_restore

    if not yes:  # asked on stderr: standard output is the result (--json)
        click.confirm(f"Replace {state.db_path()} with {backup_file}?", abort=True, err=True)
    result = _run(do_restore, state.config, backup_file, state.db_path())
    if as_json:
        _echo_json(result)
        return
    click.echo(
        f"Restored {result.articles} articles into {result.restored}"
        + (f"; the previous database is kept as {result.previous}" if result.previous else "")
    )
    c = result.captures
    if c:
        click.echo(f"Raw captures: {c.files} file(s) in the backup, {c.copied} copied into {c.folder}")
    else:
        click.echo(
            f"! The backup has no raw captures beside it ({backup_file}-raw/): evidence packs will not "
            "find the pages' captures",
            err=True,
        )


# -- serve -----------------------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.option(
    "--public-url",
    metavar="URL",
    help="Where a reverse proxy publishes the archive (e.g. https://example.org/archive/; default: "
    "$CAREWATCH_PUBLIC_URL); see docs/archive.md.",
)
@click.pass_obj
def serve(state: _State, host: str, port: int, public_url: str | None) -> None:
    """Browse and search the archive in Datasette: read-only, subscribers' data private (docs/archive.md)."""
    from carewatch.archive.serve import datasette_command

    path = state.archive_path()
    state.db().close()  # migrate it if need be (Datasette opens it read-only)
    click.echo(f"Serving {path} at http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    try:
        command = datasette_command(
            path, host, port, public_url=public_url or state.config.settings.public_url, config_dir=state.config_dir
        )
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
@click.option("--json", "as_json", is_flag=True, help="Print what the config holds as JSON.")
@click.pass_obj
def config_check(state: _State, as_json: bool) -> None:
    """Validate every config file; name the file, line and field of any error."""
    from carewatch.ops.configcheck import check_config

    if as_json:
        _echo_json(_run(check_config, state.config))
        return
    c = state.config
    click.echo(
        f"{c.directory}: ok — {len(c.sources)} sources, {len(c.topics.topics)} topics, "
        f"{len(c.alerts.subscribers)} subscribers"
    )


def main() -> None:  # pragma: no cover
    cli()


cli.add_command(reprocess)  # cli/reprocess.py
cli.add_command(evidence)  # cli/evidence.py


def _late_global_option(attribute: str):
    def fill(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is not None:  # given after the verb: it counts as if given before it
            setattr(ctx.ensure_object(_State), attribute, value)

    return fill


def _accept_global_options_after_verbs(group: click.Group) -> None:
    """``carewatch status --db X`` works as ``carewatch --db X status``: every command (and group)
    also takes the group's --config and --db, filling the same state; added here, once, so that a
    new verb cannot forget them."""
    for command in group.commands.values():
        command.params += [
            click.Option(
                ["--config", "config_dir"],
                metavar="DIR",
                expose_value=False,
                callback=_late_global_option("config_dir"),
                help="Config folder (as --config before the verb).",
            ),
            click.Option(
                ["--db"],
                metavar="PATH",
                expose_value=False,
                callback=_late_global_option("db_option"),
                help="SQLite archive (as --db before the verb).",
            ),
        ]
        if isinstance(command, click.Group):
            _accept_global_options_after_verbs(command)


_accept_global_options_after_verbs(cli)
