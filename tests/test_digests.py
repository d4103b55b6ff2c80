"""Digests as organisers receive them, through a real SMTP server (aiosmtpd on loopback) and a real
webhook: rules and schedules, the message itself (headers, both parts, topic sections, one entry
per story, highlighting, escaping, unsubscribe), delivery that survives a refusing, hanging-up or
absent mail server, other channels through apprise, the Atom feed and the preview."""

import dataclasses
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import feedparser
import pytest

from carewatch.alerts.match import match_new
from carewatch.alerts.outbox import send_alerts
from carewatch.alerts.rules import last_slot
from carewatch.config import load_config
from carewatch.config.schema import Alerts, Smtp, Subscriber
from carewatch.core.errors import ConfigError
from carewatch.core.items import Article, article_id_for
from carewatch.core.urls import url_key
from carewatch.demo.mailsink import MailSink
from carewatch.pipelines.tag import Tagger, tag
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from tests.conftest import ROOT, carewatch

BASE = load_config(ROOT / "config")
TAGGER = Tagger(BASE.topics, BASE.entities)
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)

ARTICLES = [  # (source, path, title, text, published)
    (
        "birmingham-post",
        "cuts",
        "Trust told to find £20m of cuts as Birmingham sets its budget",
        "Birmingham Children's Trust must find £20m of savings next year. The cuts to children's services budget "
        "include family support and early help. Councillors approved the budget under the section 114 notice, and "
        "the trust said the cuts would fall on services for children in care.",
        "2025-03-08T10:00:00+00:00",
    ),
    (
        "bbc-birmingham",
        "cuts-bbc",
        "Birmingham children's trust faces £20m budget cut",
        "Birmingham Children's Trust has been told to cut £20m from its budget. The trust, which runs children's "
        "services for Birmingham City Council, said family support and early help would be affected. Councillors "
        "approved the budget after the section 114 notice.",
        "2025-03-08T15:00:00+00:00",
    ),
    (
        "community-care",
        "ofsted",
        "Ofsted monitoring visit: Birmingham's progress on child protection",
        "Ofsted inspectors found Birmingham's child protection services were improving in a monitoring visit. "
        "The inspection judged leadership stronger and social workers' caseloads lower.",
        "2025-03-07T09:00:00+00:00",
    ),
    (
        "birmingham-post",
        "script",
        "<script>alert('x')</script> Birmingham children's services cuts <b>bold</b>",
        "A title full of markup. Birmingham children's services face cuts & closures; <img src=x onerror=alert(1)> "
        "the budget for children in care is cut again.",
        "2025-03-09T09:00:00+00:00",
    ),
    (
        "birmingham-post",
        "bins",
        "Bin strike goes on in Birmingham",
        "Refuse collectors in Birmingham stayed out on strike over pay; the council's budget was not discussed.",
        "2025-03-09T10:00:00+00:00",
    ),
]


def _config(port: int, *subs: Subscriber, tmp_feeds=None):
    settings = BASE.settings.model_copy(update={"smtp": Smtp(host="127.0.0.1", port=port, timeout=5)})
    return BASE.model_copy(update={"settings": settings, "alerts": Alerts(subscribers=subs)})


def _archive(path) -> dict[str, str]:
    db = open_db(path)
    ids = {}
    for source, slug, title, text, published in ARTICLES:
        url = f"https://{source}.test/{slug}"
        a = Article(
            source_id=source,
            url=url,
            canonical_url=url,
            url_key=url_key(url),
            title=title,
            text=text,
            published=published,
            fetched_at=published,
            content_hash=f"hash-{slug}",
        )
        save_article(db, tag(a, TAGGER))
        ids[slug] = article_id_for(url_key(url))
    db.close()
    return ids


ORGANISERS = Subscriber(
    id="organisers",
    name="Campaign organisers",
    email="organisers@example.org",
    frequency="immediate",
    topics=("funding", "ofsted"),
    rules=("cuts NEAR/5 budget*",),
)


@pytest.fixture
def sink(tmp_path):
    with MailSink(tmp_path / "mail") as s:
        yield s


def test_digest_has_headers_both_parts_sections_one_entry_per_story_highlights_and_escaping(tmp_path, sink):
    ids = _archive(tmp_path / "a.db")
    config = _config(sink.port, ORGANISERS)
    db = open_db(tmp_path / "a.db")
    [result] = send_alerts(config, db, now=NOW)
    assert result.status == "sent"
    [msg] = sink.messages
    [(sent_to, rcpts)] = [(f, r) for f, r in sink.envelopes]
    assert rcpts == ["organisers@example.org"]
    row = db.execute("SELECT message_id, articles, status FROM deliveries").fetchone()
    assert msg["Message-ID"] == row[0] and row[2] == "sent"
    assert msg["List-Unsubscribe"].strip() == "<mailto:carewatch@localhost?subject=unsubscribe%20organisers>"
    assert msg["Auto-Submitted"] == "auto-generated"
    # what is inside, in the subject: 4 articles (the count everywhere), by topic; the two budget
    # articles are one story, so 3 entries
    assert msg["Subject"].startswith("carewatch: 4 new (Funding 3, Ofsted inspections 1) — "), msg["Subject"]
    assert result.article_count == 4 and len(result.articles) == 3
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert set(json.loads(row[1])) == {ids["cuts"], ids["cuts-bbc"], ids["ofsted"], ids["script"]}
    assert ids["bins"] not in row[1]  # not relevant: never alerted
    # sections by topic, in the subscriber's order; the story's second outlet listed under its entry
    assert text.index("== Funding, budgets and cuts ==") < text.index("== Ofsted inspections and ratings ==")
    assert html.count('<div class="item"') == 3 and html.count('<h2 class="topic"') == 2
    assert text.count("Also covered by ") == 1 and "Also covered by" in html
    # matched words highlighted, and the reason given
    assert "<mark" in html and "*cuts*" in text
    assert "Matched: Funding, budgets and cuts (because: " in text
    # the article's markup is text, never markup
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    # the footer says why, and how to stop
    assert (
        "You get this because you subscribed to carewatch immediate alerts on: Funding, budgets and cuts; "
        "Ofsted inspections and ratings; cuts NEAR/5 budget*"
    ) in text
    assert 'class="unsubscribe" href="mailto:carewatch@localhost?subject=unsubscribe%20organisers"' in html
    # nothing twice
    assert send_alerts(config, db, now=NOW + timedelta(hours=1)) == []
    assert len(sink.messages) == 1


def test_rules_with_not_near_and_filters(tmp_path, sink):
    ids = _archive(tmp_path / "a.db")
    subs = (
        Subscriber(
            id="near",
            name="n",
            email="n@example.org",
            frequency="immediate",
            rules=('"early help" NEAR/3 "family support"',),
        ),
        Subscriber(
            id="not",
            name="n",
            email="n2@example.org",
            frequency="immediate",
            rules=("topic:funding AND NOT source:bbc-birmingham",),
        ),
        Subscriber(
            id="src",
            name="n",
            email="n3@example.org",
            frequency="immediate",
            topics=("ofsted", "funding"),
            sources=("community-care",),
        ),
        Subscriber(
            id="all",
            name="n",
            email="n4@example.org",
            frequency="immediate",
            rules=("strike",),
            include_irrelevant=True,
        ),
    )
    db = open_db(tmp_path / "a.db")
    match_new(db, _config(sink.port, *subs), NOW)
    got = {
        s: {r[0] for r in db.execute("SELECT article_id FROM alert_matches WHERE subscriber = ?", [s])}
        for s in ("near", "not", "src", "all")
    }
    assert got["near"] == {ids["cuts"], ids["cuts-bbc"]}
    assert ids["cuts"] in got["not"] and ids["cuts-bbc"] not in got["not"]
    assert got["src"] == {ids["ofsted"]}
    assert got["all"] == {ids["bins"]}
    # incremental: a second pass reads nothing new; a new article is matched on the next pass alone
    cursor = db.execute("SELECT max(last_rowid) FROM alert_cursor").fetchone()[0]
    assert cursor == db.execute("SELECT max(rowid) FROM articles").fetchone()[0]
    assert match_new(db, _config(sink.port, *subs), NOW) == 0


def test_alerts_test_shows_what_a_rule_would_match(tmp_path):
    ids = _archive(tmp_path / "a.db")
    result = carewatch(
        "--db", str(tmp_path / "a.db"), "alerts", "test", "budget* AND NOT topic:ofsted", "--days", "100000", "--json"
    )
    assert result.returncode == 0, result.stderr
    rows = {r["article_id"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {ids["cuts"], ids["cuts-bbc"], ids["script"], ids["bins"]}
    assert rows[ids["cuts"]]["terms"] == ["budget"] and rows[ids["bins"]]["relevant"] == 0
    bad = carewatch("--db", str(tmp_path / "a.db"), "alerts", "test", "(budget OR")
    assert bad.returncode == 2 and "unbalanced brackets" in bad.stderr


@pytest.mark.parametrize(
    "frequency, at, day, now, slot",
    [
        ("daily", "07:30", "monday", "2025-03-10T09:00:00+00:00", "2025-03-10T07:30:00+00:00"),  # GMT
        ("daily", "07:30", "monday", "2025-03-10T07:00:00+00:00", "2025-03-09T07:30:00+00:00"),  # before today's
        ("daily", "07:30", "monday", "2025-06-10T09:00:00+00:00", "2025-06-10T06:30:00+00:00"),  # BST: 07:30 London
        (
            "daily",
            "07:30",
            "monday",
            "2025-03-30T07:00:00+00:00",
            "2025-03-30T06:30:00+00:00",
        ),  # the day clocks go forward
        ("weekly", "08:00", "monday", "2025-03-12T12:00:00+00:00", "2025-03-10T08:00:00+00:00"),
        ("weekly", "08:00", "wednesday", "2025-03-12T07:00:00+00:00", "2025-03-05T08:00:00+00:00"),
    ],
)
def test_due_times_are_london_times(frequency, at, day, now, slot):
    sub = Subscriber(id="s", name="s", email="s@example.org", frequency=frequency, at=at, day=day, topics=("ofsted",))
    assert last_slot(sub, datetime.fromisoformat(now)) == datetime.fromisoformat(slot)


def test_a_daily_digest_waits_for_its_time_and_then_holds_everything_new(tmp_path, sink):
    _archive(tmp_path / "a.db")
    daily = ORGANISERS.model_copy(update={"frequency": "daily", "at": "07:30"})
    config = _config(sink.port, daily)
    db = open_db(tmp_path / "a.db")
    assert [r.status for r in send_alerts(config, db, now=NOW)] == ["sent"]  # first ever: due
    assert send_alerts(config, db, now=NOW + timedelta(hours=3)) == []  # sent after today's 07:30: not due
    assert send_alerts(config, db, now=NOW + timedelta(days=1)) == []  # due, but nothing new
    assert len(sink.messages) == 1


@pytest.mark.parametrize("fault", ["refuse", "tempfail", "drop", "down"])
def test_a_failing_mail_server_loses_nothing_and_the_digest_is_retried_and_shown(tmp_path, sink, fault):
    _archive(tmp_path / "a.db")
    config = _config(sink.port, ORGANISERS)
    db = open_db(tmp_path / "a.db")
    if fault == "down":
        sink.stop()
    else:
        sink.mode = fault
    [first] = send_alerts(config, db, now=NOW)
    assert first.status == "pending" and first.error
    row = db.execute(
        "SELECT status, attempts, last_error, next_attempt, articles, message_id FROM deliveries"
    ).fetchone()
    assert row[0] == "pending" and row[1] == 1 and row[3] > NOW.isoformat()
    status = carewatch("--db", str(tmp_path / "a.db"), "status")
    assert status.returncode == 1 and "Digests waiting to be delivered: 1" in status.stdout
    assert first.error.split(":")[0] in status.stdout
    # down for an hour: retried with growing waits, never before its time, never dropped
    t, waits = NOW, []
    for _ in range(4):
        assert send_alerts(config, db, now=t + timedelta(seconds=1)) == []  # not yet: backoff
        nxt = datetime.fromisoformat(db.execute("SELECT next_attempt FROM deliveries").fetchone()[0])
        waits.append(nxt - t)
        t = nxt
        [again] = send_alerts(config, db, now=t)
        assert again.status == "pending"
    assert waits == sorted(waits) and waits[-1] > waits[0]
    assert len(sink.messages) == 0
    # the server comes back: the same digest (same articles, same Message-ID) arrives once
    if fault == "down":
        sink.start()
    sink.mode = "accept"
    t = datetime.fromisoformat(db.execute("SELECT next_attempt FROM deliveries").fetchone()[0])
    [done] = send_alerts(config, db, now=t)
    assert done.status == "sent"
    [msg] = sink.messages
    assert msg["Message-ID"] == row[5]
    final = db.execute("SELECT status, articles FROM deliveries").fetchall()
    assert final == [("sent", row[4])]
    assert send_alerts(config, db, now=t + timedelta(days=1)) == []
    assert (
        carewatch("--db", str(tmp_path / "a.db"), "status").stdout.count("Digests waiting to be delivered: none") == 1
    )


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_other_channels_go_through_apprise_with_secrets_from_the_environment(tmp_path, sink, monkeypatch):
    _archive(tmp_path / "a.db")
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.received = []
    try:
        sub = ORGANISERS.model_copy(
            update={"email": None, "channels": (f"json://127.0.0.1:{server.server_port}/${{HOOK_PATH}}",)}
        )
        config = _config(sink.port, sub)
        db = open_db(tmp_path / "a.db")
        [missing] = send_alerts(config, db, now=NOW)
        assert missing.status == "pending" and "HOOK_PATH is not set" in missing.error
        monkeypatch.setenv("HOOK_PATH", "hooks/carewatch")
        t = datetime.fromisoformat(db.execute("SELECT next_attempt FROM deliveries").fetchone()[0])
        [sent] = send_alerts(config, db, now=t)
        assert sent.status == "sent" and sent.address == f"json://127.0.0.1:{server.server_port}/…"
        [payload] = _Hook.received
        assert payload["title"].startswith("carewatch: 4 new")
        assert "Trust told to find £20m of cuts" in payload["message"] and "== Funding" in payload["message"]
        assert sink.messages == []
    finally:
        server.shutdown()


def test_atom_feed_and_preview(tmp_path, sink):
    ids = _archive(tmp_path / "a.db")
    cfg_dir = tmp_path / "config"
    cfg_dir.mkdir()
    (cfg_dir / "sources.yaml").write_text((ROOT / "config" / "sources.yaml").read_text())
    (cfg_dir / "alerts.yaml").write_text(
        "subscribers:\n  - id: organisers\n    name: Campaign organisers\n    email: o@example.org\n"
        "    frequency: weekly\n    topics: [funding, ofsted]\n"
    )
    (cfg_dir / "settings.yaml").write_text("alert_max_age_days: 100000\n")  # the fixture articles are from 2025
    result = carewatch("--config", str(cfg_dir), "--db", str(tmp_path / "a.db"), "alerts", "feed", "organisers")
    assert result.returncode == 0, result.stderr
    feed = feedparser.parse(result.stdout)
    assert not feed.bozo and feed.feed.title == "carewatch — Campaign organisers"
    assert {e.link for e in feed.entries} == {
        f"https://{s}.test/{p}"
        for s, p in [
            ("birmingham-post", "cuts"),
            ("bbc-birmingham", "cuts-bbc"),
            ("community-care", "ofsted"),
            ("birmingham-post", "script"),
        ]
    }
    out = tmp_path / "next.html"
    result = carewatch(
        "--config", str(cfg_dir), "--db", str(tmp_path / "a.db"), "alerts", "preview", "organisers", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "Trust told to find £20m of cuts" in out.read_text() and "3 stories" in result.stdout
    db = open_db(tmp_path / "a.db")
    assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0  # nothing sent or recorded
    assert db.execute("SELECT count(*) FROM alerted").fetchone()[0] == 0
    assert ids


def test_bad_alert_rules_and_secrets_in_yaml_fail_config_check(tmp_path):
    cfg_dir = tmp_path / "config"
    cfg_dir.mkdir()
    (cfg_dir / "sources.yaml").write_text((ROOT / "config" / "sources.yaml").read_text())
    (cfg_dir / "alerts.yaml").write_text(
        "subscribers:\n  - id: a\n    name: A\n    email: a@example.org\n    rules:\n      - 'cuts AND (budget'\n"
    )
    result = carewatch("--config", str(cfg_dir), "config", "check")
    assert result.returncode == 2
    assert "alerts.yaml:6: subscribers.0.rules.0: unbalanced brackets" in result.stderr, result.stderr
    (cfg_dir / "alerts.yaml").write_text(
        "subscribers:\n  - id: a\n    name: A\n    email: a@example.org\n    rules: ['topic:fundin']\n"
    )
    result = carewatch("--config", str(cfg_dir), "config", "check")
    assert "alerts.yaml:5: subscribers.0.rules.0: unknown topic 'fundin'" in result.stderr, result.stderr
    (cfg_dir / "settings.yaml").write_text("smtp:\n  host: mail.example.org\n  password: hunter2\n")
    with pytest.raises(ConfigError, match=r"settings.yaml:3: smtp.password: passwords are never read from YAML"):
        load_config(cfg_dir)


def test_smtp_login_uses_the_password_from_the_environment(tmp_path, monkeypatch):
    _archive(tmp_path / "a.db")
    with MailSink(tmp_path / "mail", credentials=("carewatch", "s3cret")) as sink:
        smtp = Smtp(host="127.0.0.1", port=sink.port, timeout=5, username="carewatch", password_env="CW_TEST_PW")
        config = _config(sink.port, ORGANISERS)
        config = config.model_copy(update={"settings": config.settings.model_copy(update={"smtp": smtp})})
        db = open_db(tmp_path / "a.db")
        monkeypatch.delenv("CW_TEST_PW", raising=False)
        [r] = send_alerts(config, db, now=NOW)
        assert r.status == "pending" and "smtp.password_env: the environment variable CW_TEST_PW" in r.error
        monkeypatch.setenv("CW_TEST_PW", "wrong")
        t = datetime.fromisoformat(db.execute("SELECT next_attempt FROM deliveries").fetchone()[0])
        [r] = send_alerts(config, db, now=t)
        assert r.status == "pending" and "535" in r.error  # authentication refused, kept for retry
        monkeypatch.setenv("CW_TEST_PW", "s3cret")
        t = datetime.fromisoformat(db.execute("SELECT next_attempt FROM deliveries").fetchone()[0])
        [r] = send_alerts(config, db, now=t)
        assert r.status == "sent" and len(sink.messages) == 1


def test_a_page_read_at_last_is_matched_even_when_its_stub_was_the_newest_article(tmp_path):
    """A stub kept from the feed (page_pending) is written anew when its page is read, and matching
    goes by rowid. When the stub was the newest article, SQLite would give the new row the deleted
    row's own rowid, behind the matcher's cursor: the article would never be alerted."""
    _archive(tmp_path / "a.db")
    db = open_db(tmp_path / "a.db")
    url = "https://birmingham-post.test/pending"
    stub = Article(
        source_id="birmingham-post",
        url=url,
        canonical_url=url,
        url_key=url_key(url),
        title="Trust budget cuts: the full story",
        text="Stub from the feed: Birmingham Children's Trust budget cuts.",
        published="2025-03-09T11:00:00+00:00",
        fetched_at="2025-03-09T11:00:00+00:00",
        content_hash="hash-stub",
        page_pending=True,
    )
    save_article(db, tag(stub, TAGGER))
    aid = article_id_for(url_key(url))
    newest = db.execute("SELECT article_id FROM articles ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    assert newest == aid  # the case under test
    config = _config(25, ORGANISERS)
    match_new(db, config, NOW)
    matched = {r[0] for r in db.execute("SELECT article_id FROM alert_matches WHERE subscriber = 'organisers'")}
    assert aid not in matched  # pending: not matched
    page = dataclasses.replace(
        stub,
        text=ARTICLES[0][3] + " The full article, as the page has it.",
        content_hash="hash-page",
        page_pending=False,
        fetched_at="2025-03-09T12:00:00+00:00",
    )
    save_article(db, tag(page, TAGGER))
    match_new(db, config, NOW)
    matched = {r[0] for r in db.execute("SELECT article_id FROM alert_matches WHERE subscriber = 'organisers'")}
    assert aid in matched
    db.close()
