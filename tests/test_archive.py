"""The archive in Datasette as a visitor and as the operator meet it, on the demo archive (built by
the real `carewatch demo`): Datasette in this process, made as `carewatch serve` makes it
(archive.serve.datasette_app, from the same pieces as the command it runs) and asked through its
in-process client; and once the real `carewatch serve`, over HTTP, as a user starts it.

A visitor can search, facet, read, export and run the canned queries; cannot read a subscriber's
address or what anyone was sent (not by a page, a JSON export, a filter, a facet, nor raw SQL), and
cannot write anything (every attempt is refused and the file is unchanged). The operator, signed
in with the link `carewatch serve` prints, reads what each subscriber was sent. Every table and
column of the schema is described in the shipped metadata.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import html
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from http.cookiejar import CookieJar
from pathlib import Path

import feedparser
import pytest

from carewatch.archive.serve import (
    database_names,
    datasette_app,
    datasette_command,
    datasette_setup,
    metadata_for,
    public_url_settings,
)
from carewatch.config import load_config
from carewatch.core.items import parse_timestamp
from carewatch.demo.mailsink import free_port
from carewatch.demo.run import DEMO_CONFIG
from carewatch.store.db import open_db
from tests.conftest import ROOT, carewatch

PRIVATE_TABLES = [
    "deliveries",
    "alerted",
    "alert_matches",
    "alert_cursor",
    "operator_notices",
    "feed_tokens",
    "subscriptions",
    "subscription_events",
    "subscription_tokens",
    "signup_attempts",
    "calendar_alerted",
]
PUBLIC_QUERIES = [
    "this_week",
    "topics_over_time",
    "statement_versions",
    "ofsted_judgements",
    "source_health",
    "coming_up",
    "not_covered",
]
ADDRESSES = [s.email for s in load_config(DEMO_CONFIG).alerts.subscribers if s.email]


# -- shared with tests/test_archive_browser.py --------------------------------------------------
def demo_archive(tmp_path_factory) -> Path:
    """The demo archive the real `carewatch demo` builds, once per test session, with its digests
    delivered (so the private tables hold addresses); callers that change it work on a copy."""
    folder = tmp_path_factory.getbasetemp() / "archive-demo"
    db = folder / "carewatch.db"
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        result = carewatch("--db", str(db), "demo", "--out", str(folder / "mail"), timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
        (folder / "done").touch()
    return db


def copy_archive(src: Path, dest: Path) -> Path:
    """A consistent copy of an archive (SQLite's online backup)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)
    a.close()
    b.close()
    return dest


class Served:
    """`carewatch [--config DIR] --db DB serve --port N` running, as a user starts it (no --host:
    the default; no $CAREWATCH_PUBLIC_URL or $CAREWATCH_CONFIG from the environment)."""

    def __init__(self, db: Path, log_dir: Path, config: Path | None = None, port: int | None = None):
        self.db, self.port = db, port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.public, self.private = database_names(db)
        exe = Path(sys.executable).with_name("carewatch")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from carewatch.cli.main import cli; cli()"]
        self.stdout = log_dir / "serve.out"
        self.stderr = log_dir / "serve.err"
        env = {k: v for k, v in os.environ.items() if k not in ("CAREWATCH_PUBLIC_URL", "CAREWATCH_CONFIG")}
        configured = ["--config", str(config)] if config else []
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(
                [*cmd, *configured, "--db", str(db), "serve", "--port", str(self.port)],
                cwd=ROOT,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/-/versions.json", timeout=1).read()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"carewatch serve did not start: {self.stderr.read_text()}") from None
                time.sleep(0.1)

    def url(self, path: str) -> str:
        return self.base + path

    def get(self, path: str, opener=None) -> tuple[int, str]:
        try:
            with (opener or urllib.request.build_opener()).open(self.url(path), timeout=10) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def json(self, path: str, opener=None):
        status, body = self.get(path, opener)
        assert status == 200, (path, status, body[:500])
        return json.loads(body)

    def send(self, method: str, path: str, data: bytes = b"") -> tuple[int, str]:
        req = urllib.request.Request(
            self.url(path), data=data, method=method, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def sign_in_link(self) -> str:
        for line in self.stdout.read_text().splitlines():
            if "/-/auth-token?token=" in line:
                return line.strip()
        raise AssertionError(f"no sign-in link printed: {self.stdout.read_text()!r}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class InProcess:
    """The archive's Datasette in this process (archive.serve.datasette_app: what `carewatch serve`
    runs), asked through Datasette's in-process client. ``operator``: requests signed in as root,
    as the link `carewatch serve` prints signs the operator in."""

    def __init__(self, db: Path, public_url: str = "", config_dir: Path | None = None):
        self.db = db
        self.public, self.private = database_names(db)
        self.ds = datasette_app(str(db), public_url=public_url, config_dir=config_dir)
        self.operator = {"ds_actor": self.ds.sign({"a": {"id": "root"}}, "actor")}

    def url(self, path: str) -> str:
        return "http://localhost" + path  # the in-process client's host

    def get(self, path: str, cookies: dict | None = None) -> tuple[int, str]:
        response = asyncio.run(self.ds.client.get(path, cookies=cookies, follow_redirects=True))
        return response.status_code, response.text

    def response(self, path: str):
        return asyncio.run(self.ds.client.get(path, follow_redirects=False))

    def json(self, path: str, cookies: dict | None = None):
        status, body = self.get(path, cookies)
        assert status == 200, (path, status, body[:500])
        return json.loads(body)

    def send(self, method: str, path: str, data: bytes = b"") -> tuple[int, str]:
        response = asyncio.run(
            self.ds.client.request(
                method, path, content=data, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        )
        return response.status_code, response.text


def q(sql: str) -> str:
    return urllib.parse.urlencode({"sql": sql})


def as_json(url: str) -> str:
    """The JSON of a page Datasette linked to (a facet's toggle_url, say)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path if parts.path.endswith(".json") else parts.path + ".json"
    return f"{path}?{parts.query}"


def snapshot(db: Path) -> str:
    """Every row of every table, hashed: equal snapshots, an unchanged archive."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        for line in conn.iterdump():
            h.update(line.encode("utf-8"))
        return h.hexdigest()
    finally:
        conn.close()


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo archive in Datasette, in this process."""
    work = tmp_path_factory.mktemp("archive")
    return InProcess(copy_archive(demo_archive(tmp_path_factory), work / "carewatch.db"))


# -- the shipped metadata -----------------------------------------------------------------------
def test_every_table_and_column_is_described(tmp_path):
    db = open_db(tmp_path / "fresh.db")  # every migration applied
    schema = {
        name: [r[1] for r in db.execute(f"PRAGMA table_info([{name}])")]
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
    }
    db.close()
    meta = metadata_for(str(tmp_path / "fresh.db"))
    assert meta["title"] and meta["description_html"]
    tables = meta["databases"]["fresh"]["tables"]
    missing = []
    for table, columns in schema.items():
        described = tables.get(table, {})
        if not described.get("description"):
            missing.append(table)
        missing += [f"{table}.{c}" for c in columns if not (described.get("columns") or {}).get(c)]
    assert missing == [], f"not described in config/datasette.yaml: {missing}"
    assert set(tables) - set(schema) == set(), "described tables that do not exist"


def test_metadata_is_keyed_to_the_file_and_keeps_subscribers_private(tmp_path):
    meta = metadata_for(str(tmp_path / "my-archive.db"))
    public, private = meta["databases"]["my-archive"], meta["databases"]["my-archive_private"]
    settings = meta["plugins"]["carewatch-archive"]
    assert settings["public_database"] == "my-archive" and settings["private_database"] == "my-archive_private"
    assert sorted(settings["private_tables"]) == sorted(PRIVATE_TABLES)
    for table in PRIVATE_TABLES:
        assert public["tables"][table]["allow"] is False
        assert not private["tables"][table].get("hidden")
    assert private["allow"] == {"id": "root"}
    assert "subscriber_deliveries" in private["queries"] and "subscriber_deliveries" not in public["queries"]
    assert sorted(public["queries"]) == sorted(PUBLIC_QUERIES)
    assert all(query.get("write") is not True for db in (public, private) for query in db["queries"].values())
    assert 'href="my-archive/articles"' in meta["description_html"]
    assert public["tables"]["articles"]["sort_desc"] == "published"
    assert settings["labels"]["topic"]["ofsted"] and settings["labels"]["source_id"]["ofsted-news"]


def test_the_command_is_read_only_and_can_sit_behind_a_proxy(tmp_path):
    cmd = datasette_command(str(tmp_path / "a.db"), "127.0.0.1", 8001, public_url="")
    joined = " ".join(cmd)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert "allow_download off" in joined and "suggest_facets off" in joined and "sql_time_limit_ms 3000" in joined
    assert "--root" in cmd and "base_url" not in joined
    assert "--template-dir" in cmd and "--plugins-dir" in cmd
    # The command and the in-process Datasette are made of the same pieces.
    setup = datasette_setup(str(tmp_path / "a.db"), public_url="")
    assert cmd[cmd.index("--plugins-dir") + 1] == str(setup.plugins_dir)
    assert cmd[cmd.index("--template-dir") + 1] == str(setup.template_dir)
    assert json.loads(Path(cmd[cmd.index("--metadata") + 1]).read_text(encoding="utf-8")) == setup.metadata
    assert public_url_settings("https://example.org/archive") == {"base_url": "/archive/", "force_https_urls": True}
    assert public_url_settings("http://archive.example.org/") == {"base_url": "/"}
    behind = " ".join(datasette_command(str(tmp_path / "a.db"), "127.0.0.1", 8001, "https://example.org/archive"))
    assert "--setting base_url /archive/" in behind and "--setting force_https_urls on" in behind
    with pytest.raises(ValueError):
        public_url_settings("example.org/archive")


def test_carewatch_serve_as_a_user_starts_it(tmp_path_factory):
    """The one test of the real `carewatch serve` (the rest ask Datasette in this process): it binds
    to loopback, loads the plugin, refuses writes, and prints a sign-in link that signs the operator
    in, once, to read what each subscriber was sent, but never in the public database."""
    work = tmp_path_factory.mktemp("archive-serve")
    served = Served(copy_archive(demo_archive(tmp_path_factory), work / "carewatch.db"), work)
    try:
        assert f"Uvicorn running on http://127.0.0.1:{served.port}" in served.stderr.read_text()
        status, page = served.get(f"/{served.public}/articles?_search=voluntary+trust")
        assert status == 200 and "<mark>voluntary</mark>" in page and "/-/carewatch.css" in page
        assert served.send("POST", f"/{served.public}/this_week")[0] == 405

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        link = served.sign_in_link()
        assert link.startswith(served.url("/-/auth-token?token="))
        with opener.open(link, timeout=10) as r:
            assert r.status == 200
        sent = served.json(f"/{served.private}/subscriber_deliveries.json?_shape=array", opener)
        assert {r["address"] for r in sent} == set(ADDRESSES)
        status, _ = served.get(f"/{served.public}.json?{q('select address from deliveries')}", opener)
        assert status == 400
        status, _ = served.get(link.removeprefix(served.base))  # the link works once
        assert status == 403
    finally:
        served.stop()


# -- a visitor ----------------------------------------------------------------------------------
def test_full_text_search_with_facets_newest_first_and_exports(served):
    db = served.public
    data = served.json(f"/{db}/articles.json?_shape=objects&_search=voluntary+trust")
    titles = [r["title"] for r in data["rows"]]
    assert any("placed in a trust" in t for t in titles), titles
    facets = data["facet_results"]
    assert {"source_id", "topic", "entity", "published", "relevant"} <= set(facets), sorted(facets)
    assert all(f["type"] == t for f, t in ((facets["topic"], "through"), (facets["published"], "year")))

    # Newest first, whatever the search.
    everything = served.json(f"/{db}/articles.json?_shape=array&_size=max")
    dates = [r["published"] for r in everything if r["published"]]
    assert dates == sorted(dates, reverse=True) and len(everything) >= 20

    # The topic facet narrows the search to articles with that topic (Datasette's _through filter).
    privatisation = next(v for v in facets["topic"]["results"] if v["value"] == "privatisation")
    assert privatisation["label"] == "Privatisation and the Trust"
    narrowed = served.json(as_json(privatisation["toggle_url"]))
    assert narrowed["filtered_table_rows_count"] == privatisation["count"] >= 1
    assert all(any(t["topic"] == "privatisation" for t in json.loads(r["topics"])) for r in narrowed["rows"])
    selected = next(v for v in narrowed["facet_results"]["topic"]["results"] if v["value"] == "privatisation")
    assert selected["selected"]

    # The year facet selects with published__startswith.
    year = facets["published"]["results"][0]
    in_year = served.json(
        f"/{db}/articles.json?_shape=objects&_search=voluntary+trust&published__startswith={year['value']}"
    )
    assert in_year["filtered_table_rows_count"] == year["count"]
    assert all(r["published"].startswith(year["value"]) for r in in_year["rows"])

    # Entity and relevance facets.
    assert any(v["label"] == "Birmingham City Council" for v in facets["entity"]["results"])
    assert {v["value"] for v in facets["relevant"]["results"]} <= {0, 1}

    # Any search exports as CSV (all rows) and JSON.
    status, body = served.get(f"/{db}/articles.csv?_search=voluntary+trust&_size=max")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted(r["title"] for r in rows) == sorted(titles)
    status, body = served.get(f"/{db}/this_week.csv?days=100000")
    assert status == 200 and body.startswith("article_id,published,source_id,title")


def test_a_search_reads_one_page_of_rows_newest_first(served):
    """The search page's own SQL (as Datasette reports it) walks the (published, seq) index newest
    first and stops after a page: no sort of every matching row (store.migrations.m011). And the
    order is right: newest first, whatever the search; the source facet narrows like the others."""
    db = served.public
    data = served.json(f"/{db}/articles.json?_search=council")
    dates = [r[data["columns"].index("published")] for r in data["rows"]]
    assert len(dates) >= 3 and dates == sorted(dates, reverse=True)
    conn = sqlite3.connect(f"file:{served.db}?mode=ro", uri=True)
    try:
        assert conn.execute("SELECT count(*) FROM articles WHERE seq IS NOT rowid").fetchone()[0] == 0
        plan = " | ".join(
            r[3]
            for r in conn.execute(
                "EXPLAIN QUERY PLAN " + data["query"]["sql"].replace("escape_fts(:search)", ":search"),
                data["query"]["params"],
            )
        )
    finally:
        conn.close()
    assert "USING INDEX idx_articles_published_seq" in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan

    source = data["facet_results"]["source_id"]["results"][0]
    assert source["label"] != source["value"]  # the source's name from the config, not its id
    narrowed = served.json(as_json(source["toggle_url"]))
    assert narrowed["filtered_table_rows_count"] == source["count"] >= 1
    assert {r[narrowed["columns"].index("source_id")] for r in narrowed["rows"]} == {source["value"]}


def test_search_results_show_highlighted_snippets(served):
    status, page = served.get(f"/{served.public}/articles?_search=voluntary+trust")
    assert status == 200
    assert page.count('class="cw-result"') >= 2
    assert "<mark>voluntary</mark>" in page and "<mark>trust</mark>" in page
    status, table = served.get(f"/{served.public}/articles?_search=voluntary+trust&_layout=table")
    assert status == 200 and 'class="rows-and-columns"' in table


def test_canned_queries(served):
    db = served.public
    for name in PUBLIC_QUERIES:
        data = served.json(f"/{db}/{name}.json")
        assert data["ok"], (name, data.get("error"))
    week = served.json(f"/{db}/this_week.json?_shape=array&days=100000")
    assert len(week) >= 20
    topics = served.json(f"/{db}/topics_over_time.json?_shape=array")
    assert {"period", "topic", "articles"} == set(topics[0]) and all(len(r["period"]) == 4 for r in topics)
    assert all(len(r["period"]) == 7 for r in served.json(f"/{db}/topics_over_time.json?_shape=array&period=month"))
    versions = served.json(f"/{db}/statement_versions.json?_shape=array")
    assert versions, "the demo has an edited statement"
    earlier = [r for r in versions if r["state"] == "earlier"]
    assert earlier and all(r["diff"] for r in earlier)
    assert {r["state"] for r in versions} == {"earlier", "current"}
    ofsted = served.json(f"/{db}/ofsted_judgements.json?_shape=array")
    assert ofsted and all(r["judgement"] for r in ofsted)
    health = served.json(f"/{db}/source_health.json?_shape=array")
    failing = {r["source_id"] for r in health if r["last_index_fetch"] == "error"}
    assert {"birmingham-live-midlands", "birmingham-against-the-cuts-news"} <= failing
    assert {r["source_id"] for r in health[: len(failing)]} == failing  # the failing sources first


def test_article_page_links_to_versions_story_source_and_capture(served):
    db = served.public
    [edited] = {r["article_id"] for r in served.json(f"/{db}/statement_versions.json?_shape=array")}
    status, page = served.get(f"/{db}/articles/{edited}")
    assert status == 200
    assert f"/{db}/statement_versions?article_id={edited}" in page
    assert f"/{db}/article_versions?article_id={edited}" in page
    assert "/-/story/" in page and f'href="/-/evidence/{edited}.zip"' in page
    assert f"/{db}/articles?source_id=" in page and f"/{db}/source_health?source_id=" in page
    assert f"/{db}/captures/" in page and "SHA-256" in page
    assert "Cite this" in page and served.url(f"/{db}/articles/{edited}") in page
    assert "2 versions" in page
    for private in PRIVATE_TABLES:  # "links from other tables" do not lead into them
        assert f"/{db}/{private}" not in page


def test_a_visitor_cannot_read_subscribers_or_what_they_were_sent(served):
    db, private = served.public, served.private
    attempts = [f"/{db}/{t}{fmt}" for t in PRIVATE_TABLES for fmt in ("", ".json", ".csv")]
    attempts += [
        f"/{private}",
        f"/{private}.json",
        f"/{private}/deliveries.json",
        f"/{private}/alerted.json",
        f"/{private}/subscriber_deliveries",
        f"/{private}/subscriber_deliveries.json",
        f"/{private}/subscriber_deliveries.csv",
        f"/{private}.json?{q('select address from deliveries')}",
    ]
    for path in attempts:
        status, body = served.get(path)
        assert status == 403, (path, status)
        assert not any(a in body for a in ADDRESSES), path
    sneaky = [
        "select address from deliveries",
        "select * from deliveries",
        "select count(*) from deliveries",
        "select * from alerted",
        "select subscriber, rules from alert_matches",
        "select * from alert_cursor",
        "select * from operator_notices",
        "select token from feed_tokens",
        "with d as (select * from deliveries) select * from d",
        "select (select address from deliveries limit 1) as a",
        "select title from articles where article_id in (select article_id from alerted)",
        "select * from articles join alerted using (article_id)",
        "select * from sqlite_dbpage",
    ]
    for sql in sneaky:
        status, body = served.get(f"/{db}.json?{q(sql)}")
        assert status == 400, (sql, status, body[:300])
        assert json.loads(body)["ok"] is False and not json.loads(body)["rows"], sql
        assert not any(a in body for a in ADDRESSES), sql
    through = json.dumps({"table": "alerted", "column": "subscriber", "value": "organisers"})
    assert served.get(f"/{db}/articles.json?{urllib.parse.urlencode({'_through': through})}")[0] == 403
    facet = json.dumps({"table": "alerted", "column": "subscriber"})
    data = served.json(f"/{db}/articles.json?{urllib.parse.urlencode({'_facet_through': facet})}")
    assert "subscriber" not in data["facet_results"] and "organisers" not in json.dumps(data["facet_results"])
    # Nothing a visitor can reach names a subscriber or lists the private tables.
    for path in [
        "/",
        f"/{db}",
        "/-/databases.json",
        f"/{db}/articles?_search=trust",
        "/-/search?q=organisers",
        f"/{db}.json?{q('select name from sqlite_master')}",
        "/-/metadata.json",
    ]:
        status, body = served.get(path)
        assert not any(a in body for a in ADDRESSES), path
    index = served.json(f"/{db}.json")
    assert not set(PRIVATE_TABLES) & {t["name"] for t in index["tables"]}
    assert private not in served.get("/")[1]
    # A public table still works in raw SQL.
    assert served.json(f"/{db}.json?{q('select count(*) as n from articles')}&_shape=array")[0]["n"] >= 20


def test_a_visitor_cannot_write_anything(served):
    db, private = served.public, served.private
    before = snapshot(served.db)
    writes = [
        "insert into articles (article_id, url, url_key, source_id, first_seen) values ('x', 'x', 'x', 'x', 'x')",
        "update articles set title = 'pwned'",
        "delete from articles",
        "drop table articles",
        "attach database 'file:/tmp/carewatch-pwned.db' as pwned",
        "pragma query_only = 0",
        "select 1; delete from articles",
        "create table pwned (x)",
    ]
    for sql in writes:
        status, body = served.get(f"/{db}.json?{q(sql)}")
        assert status in (400, 403), (sql, status, body[:300])
    for method, path in [
        ("POST", f"/{db}/this_week"),
        ("POST", f"/{db}/statement_versions"),
        ("POST", f"/{db}.json"),
        ("POST", f"/{db}/articles"),
        ("PUT", f"/{db}/articles"),
        ("DELETE", f"/{db}/articles/x"),
        ("PATCH", f"/{db}/articles"),
        ("POST", f"/{private}/subscriber_deliveries"),
        ("POST", "/-/messages"),
    ]:
        status, _ = served.send(method, path, q("update articles set title = 'pwned'").encode())
        assert status == 405, (method, path, status)
    assert snapshot(served.db) == before
    assert not Path("/tmp/carewatch-pwned.db").exists()


def test_the_operator_reads_what_each_subscriber_was_sent(served):
    """Signed in (as the link `carewatch serve` prints signs in: the actor root; the link itself is
    tried in test_carewatch_serve_as_a_user_starts_it)."""
    sent = served.json(f"/{served.private}/subscriber_deliveries.json?_shape=array", served.operator)
    assert {r["address"] for r in sent} == set(ADDRESSES)
    assert all(r["title"] for r in sent)
    one = served.json(
        f"/{served.private}/subscriber_deliveries.json?_shape=array&subscriber=organisers", served.operator
    )
    assert one and {r["subscriber"] for r in one} == {"organisers"}
    # Even signed in, the public database never shows them: they are read in the private one.
    status, _ = served.get(f"/{served.public}.json?{q('select address from deliveries')}", served.operator)
    assert status == 400


def test_robots_may_read_articles_but_not_endless_searches(served):
    status, body = served.get("/robots.txt")
    assert status == 200
    assert "Disallow: /*?" in body and "Disallow: /*.json" in body and "Disallow: /*_private" in body


# -- for organisers: plain pages, stories, evidence packs, feeds ---------------------------------
def test_the_search_page_is_plain_results_first_sql_one_link_away(served):
    db = served.public
    status, page = served.get(f"/{db}/articles?_search=ofsted")
    assert status == 200
    for sql_thing in ("CREATE TABLE", "View and edit SQL", "_filter_column", '<dl class="column-descriptions"'):
        assert sql_thing not in page, sql_thing
    assert page.index('id="cw-count"') < page.index('class="cw-result"') < page.index('class="cw-for-sql')
    # the facets with plain names, relevance as yes / no, folded behind one control
    assert '<details class="cw-facets" id="cw-facets">' in page
    for label in (
        "Source",
        "Topic",
        "People and organisations",
        "Year",
        "About Birmingham&#39;s children&#39;s services",
    ):
        assert f"<strong>{label}</strong>" in page, label
    relevant = served.json(f"/{db}/articles.json?_search=ofsted")["facet_results"]["relevant"]["results"]
    assert {v["label"] for v in relevant} <= {"yes", "no"} and relevant
    assert "Topic: " not in page  # nothing chosen yet
    # one link away: Datasette's own page, with its SQL and the table's definition
    assert "_layout=table" in page
    status, table = served.get(f"/{db}/articles?_search=ofsted&_layout=table")
    assert status == 200 and "CREATE TABLE" in table and "View and edit SQL" in table
    # a chosen facet shows as a plain chip that removes it
    topic = next(v for v in served.json(f"/{db}/articles.json?_search=ofsted")["facet_results"]["topic"]["results"])
    parts = urllib.parse.urlsplit(topic["toggle_url"])
    status, narrowed = served.get(f"{parts.path.removesuffix('.json')}?{parts.query}")
    assert status == 200 and f"Topic: {html.escape(topic['label'])} " in narrowed and "cw-chip-chosen" in narrowed


def test_topic_ids_and_timestamps_read_as_words(served):
    db = served.public
    status, page = served.get(f"/{db}/article_topics?topic=child_deaths")
    assert status == 200 and '<span title="child_deaths">Child deaths and case reviews</span>' in page
    status, page = served.get(f"/{db}/fetches?_size=5")
    row = served.json(f"/{db}/fetches.json?_size=1&_shape=array")[0]
    assert f'<time datetime="{row["started"]}"' in page and not re.search(r">\d{4}-\d\d-\d\dT", page)


def test_a_story_has_a_title_and_its_coverage_in_time_order(served):
    db = served.public
    stories = served.json(
        f"/{db}.json?_shape=array&"
        + q("select story_id, count(*) as n from articles group by story_id having n > 1 order by n desc")
    )
    assert stories
    for story in stories:
        rows = served.json(f"/{db}/articles.json?_shape=array&_size=max&story_id={story['story_id']}")
        status, page = served.get(f"/-/story/{story['story_id']}")
        assert status == 200, story
        h1 = html.unescape(re.search(r"<h1>(.*?)</h1>", page, re.S).group(1))
        listed = re.findall(
            r'<time datetime="([^"]+)">.*?<h2 class="cw-result-title"><a href="[^"]+">(.*?)</a>', page, re.S
        )
        assert sorted(html.unescape(t) for _, t in listed) == sorted(r["title"] for r in rows)
        times = [parse_timestamp(w) for w, _ in listed]
        assert times == sorted(times)  # in time order, the first first
        assert times[0] == min(parse_timestamp(r["published"] or r["first_seen"]) for r in rows)
        assert h1 == html.unescape(listed[0][1])  # the story's title: the first article's headline
        assert page.count('class="cw-badge">First<') == 1 and "CREATE TABLE" not in page
    assert served.get("/-/story/no-such-story")[0] == 404


def test_an_article_page_downloads_its_evidence_pack(served):
    db = served.public
    [edited] = {r["article_id"] for r in served.json(f"/{db}/statement_versions.json?_shape=array")}
    r = served.response(f"/-/evidence/{edited}.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert re.match(
        rf'attachment; filename="evidence-{edited}-\d{{8}}T\d{{6}}Z\.zip"', r.headers["content-disposition"]
    )
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.testzip() is None
        [manifest] = [n for n in z.namelist() if n.endswith("/manifest.json")]
        assert json.loads(z.read(manifest))["article"]["article_id"] == edited
    assert served.response("/-/evidence/0000000000000000.zip").status_code == 404


def test_a_subscription_feed_is_served_behind_its_token(tmp_path_factory):
    work = tmp_path_factory.mktemp("archive-feed")
    db = copy_archive(demo_archive(tmp_path_factory), work / "carewatch.db")
    public_url = "https://example.org/archive/"
    made = carewatch(
        "--config", str(DEMO_CONFIG), "--db", str(db), "alerts", "feed-url", "organisers", "--public-url", public_url
    )
    assert made.returncode == 0, made.stderr
    url = made.stdout.strip()
    assert re.fullmatch(r"https://example\.org/archive/-/feeds/[A-Za-z0-9_-]{32}\.atom", url), url
    again = carewatch("--config", str(DEMO_CONFIG), "--db", str(db), "alerts", "feed-url", "organisers")
    assert again.stdout.strip() == url.removeprefix(public_url.rstrip("/"))  # the same token: a stable address
    token = url.rsplit("/", 1)[1].removesuffix(".atom")

    served = InProcess(db, public_url=public_url, config_dir=DEMO_CONFIG)
    r = served.response(f"/-/feeds/{token}.atom")  # the proxy strips /archive
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.bozo_exception
    assert [link.href for link in feed.feed.links if link.rel == "self"] == [url]
    assert feed.feed.title == "carewatch — Campaign organisers" and len(feed.entries) >= 5
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "organisers", "x" * 32):
        assert served.response(f"/-/feeds/{wrong}.atom").status_code == 404, wrong
    # the token is the feed's key: no page or query of the public archive shows it
    for path in [
        "/",
        f"/{served.public}",
        "/-/metadata.json",
        f"/{served.public}/feed_tokens.json",
        f"/{served.public}.json?{q('select token from feed_tokens')}",
    ]:
        assert token not in served.get(path)[1], path


def test_copies_found_at_other_addresses_are_at_other_addresses(served):
    """The edited statement was moved to its re-issue's URL, which is also recorded as an alias (so
    that URL finds it): that is its own address, not a copy found at another one. The Mail's
    syndicated appointment has one copy, at the Trust's address."""
    db = served.public
    [edited] = {r["article_id"] for r in served.json(f"/{db}/statement_versions.json?_shape=array")}
    own = served.json(f"/{db}/articles/{edited}.json?_shape=array")[0]
    aliases = served.json(f"/{db}/article_aliases.json?_shape=array&article_id={edited}")
    assert [a["url"] for a in aliases] == [own["canonical_url"]]  # the demo has this case: the test needs it
    status, page = served.get(f"/{db}/articles/{edited}")
    assert status == 200 and "cw-link-aliases" not in page  # no "1 copy found at other addresses"

    copied = [a for a in served.json(f"/{db}/article_aliases.json?_shape=array") if a["reason"] == "same text"]
    [article_id] = {a["article_id"] for a in copied}
    status, page = served.get(f"/{db}/articles/{article_id}")
    assert status == 200 and f"{len(copied)} cop{'y' if len(copied) == 1 else 'ies'} found at other addresses" in page
    listed = page.split('class="cw-link-aliases"><a href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    rows = served.json(as_json(listed) + "&_shape=array")
    assert sorted(r["url"] for r in rows) == sorted(a["url"] for a in copied)
