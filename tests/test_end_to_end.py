"""The whole path on the demo sites: real spiders over loopback (through the demo server as
HTTP proxy), the real pipelines, a real SQLite file, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from carewatch.alerts.outbox import send_alerts
from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import demo_config
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db
from tests.conftest import ROOT, carewatch

TRUST = "http://www.birminghamchildrenstrust.co.uk.test/news/article"
SEED_004 = "birmingham-councils-failing-childrens-social-care-to-be-placed-in-a-trust"
OFF_TOPIC = "Commonwealth Games transport"


@pytest.fixture(scope="module")
def run(tmp_path_factory, demo_server):
    """One crawl and one alert run, then a second of each, shared by the tests below."""
    tmp = tmp_path_factory.mktemp("e2e")
    db_path = tmp / "archive.db"
    with MailSink(tmp / "mail") as sink:
        config = demo_config(demo_server.proxy_url, sink.port)
        log_start = len(demo_server.requests)
        first = run_crawl(config, db_path)
        requests = demo_server.requests[log_start:]
        db = open_db(db_path)
        sent = send_alerts(config, db)
        messages = list(sink.messages)
        envelopes = list(sink.envelopes)
        second = run_crawl(config, db_path)
        sent_again = send_alerts(config, db)
        messages_after = list(sink.messages)
    return SimpleNamespace(
        db_path=db_path,
        db=db,
        config=config,
        first=first,
        second=second,
        sent=sent,
        requests=requests,
        sent_again=sent_again,
        messages=messages,
        envelopes=envelopes,
        messages_after=messages_after,
    )


def _articles(run, where="1", params=()):
    cur = run.db.execute(f"SELECT * FROM articles WHERE {where}", params)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _seed_sentence(n: str) -> str:
    text = next((ROOT.parent / "shared" / "seeds").glob(f"{n}_*.txt")).read_text(encoding="utf-8")
    return "Birmingham city council’s troubled children’s social services are to be taken over" if n == "004" else text


def test_every_working_source_stored_articles(run):
    rows = _articles(run)
    assert len(rows) >= 20
    by_source = {r["source_id"] for r in rows}
    working = {s.id for s in run.config.sources} - {
        "birmingham-live-midlands",
        "birmingham-against-the-cuts-news",
        "chamberlain-files-childrens-services",
    }
    assert working <= by_source, working - by_source
    for r in rows:
        assert r["title"] and len(r["text"]) > 200 and r["published"], r["url"]


def test_article_text_is_the_story_without_site_boilerplate(run):
    [row] = _articles(run, "url_key LIKE ?", (f"%{SEED_004}",))
    assert "Birmingham city council’s troubled children’s social services are to be taken over" in row["text"]
    assert "Similar Articles" not in row["text"] and "Andy Street" not in row["text"]
    assert row["title"] == "Birmingham council’s failing children’s social care to be placed in a trust"
    assert row["published"].startswith("2016-05-24")
    topics = {t["topic"]: t for t in json.loads(row["topics"])}
    assert "privatisation" in topics
    assert "voluntary trust" in [term for term, count, positions in topics["privatisation"]["evidence"]]


def test_same_article_at_two_urls_is_stored_once(run):
    rows = _articles(run, "url_key LIKE ?", (f"%{SEED_004}%",))
    assert len(rows) == 1
    assert "utm_" not in rows[0]["canonical_url"] and rows[0]["canonical_url"].endswith(f"{SEED_004}/")
    assert not _articles(run, "canonical_url LIKE '%utm_%'")


def test_syndicated_copy_is_not_stored_twice(run):
    trust = f"{TRUST}/165/birmingham_childrens_trust_appoints_new_chief_executive"
    mail = "http://www.birminghammail.co.uk.test/news/midlands-news/birmingham-childrens-trust-names-new-2684417"
    stored = _articles(run, "canonical_url IN (?, ?)", (trust, mail))
    assert len(stored) == 1
    [alias] = run.db.execute(
        "SELECT url, article_id, reason FROM article_aliases WHERE url IN (?, ?)", [trust, mail]
    ).fetchall()
    # Word for word once the pages are cleanly extracted; a near copy otherwise. Either way, one article.
    assert alias[1] == stored[0]["article_id"] and alias[2].startswith(("same text", "near copy"))


def test_edited_statement_is_one_article_with_its_versions(run):
    rows = _articles(run, "url_key LIKE ?", ("%/news/article/16_/media_statement%",))
    assert len(rows) == 1
    assert rows[0]["title"].endswith("(updated 26 May 2023)")  # the newer edition is current
    old = run.db.execute("SELECT title FROM article_versions WHERE article_id = ?", [rows[0]["article_id"]]).fetchall()
    assert [t for (t,) in old] and not old[0][0].endswith("(updated 26 May 2023)")
    [reason] = run.db.execute(
        "SELECT reason FROM article_aliases WHERE article_id = ?", [rows[0]["article_id"]]
    ).fetchone()
    assert reason.startswith("edited version")


def test_inspection_report_pdf_is_extracted(run):
    [pdf] = _articles(run, "url = ?", ("http://reports.ofsted.gov.uk.test/v1/file/50214110",))
    assert pdf["kind"] == "pdf"
    assert pdf["title"] == "Inspection of Birmingham City Council local authority children’s services"
    assert pdf["published"] == "2023-04-18"
    assert "Overall effectiveness" in pdf["text"]


def test_off_topic_article_is_stored_but_not_alerted(run):
    [row] = _articles(run, "title LIKE ?", (f"{OFF_TOPIC}%",))
    assert row["relevant"] == 0
    assert all(OFF_TOPIC not in m.get_body(("plain",)).get_content() for m in run.messages)


def test_digests_arrive_by_smtp_with_the_right_articles(run):
    assert [r.status for r in run.sent] == ["sent", "sent"]
    assert sorted(rcpt for _, rcpts in run.envelopes for rcpt in rcpts) == [
        "ofsted-watch@example.org",
        "organisers@example.org",
    ]
    for msg in run.messages:
        assert msg["Subject"].startswith("carewatch: ") and msg["Message-ID"]
        text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        html = msg.get_body(("html",)).get_content()
        [delivery] = run.db.execute(
            "SELECT articles, status, message_id FROM deliveries WHERE address = ?", [str(msg["To"])]
        ).fetchall()
        ids = json.loads(delivery[0])
        assert delivery[1] == "sent" and delivery[2] == msg["Message-ID"]
        rows = [run.db["articles"].get(i) for i in ids]
        stories = {r["story_id"] or r["article_id"] for r in rows}
        # the count is of articles (a story with its coverage), one entry per story
        assert msg["Subject"].startswith(f"carewatch: {len(ids)} new (")
        assert f"{len(ids)} new articles in {len(stories)} stories for " in text
        for r in rows:  # every article is there once: as a story's entry, or as its coverage
            title = r["title"]
            as_entry = text.count(f"* {title}\n")
            as_coverage = text.count(f": {title} — ")
            assert as_entry + as_coverage == 1, title
        assert len(set(ids)) == len(ids)
        assert len(re.findall(r'<div class="item"', html)) == len(stories)
    organisers = next(m for m in run.messages if m["To"] == "organisers@example.org")
    body = organisers.get_body(("plain",)).get_content()
    assert "Birmingham council’s failing children’s social care to be placed in a trust" in body
    assert re.search(r"Also at \S+ \(copy\): http://", body)  # the syndicated copy is named, not repeated


def test_broken_sources_are_recorded_and_do_not_stop_the_others(run):
    errors = {e["source_id"]: e for e in run.first.errors if e["role"] == "index"}
    assert set(errors) == {"birmingham-live-midlands", "birmingham-against-the-cuts-news"}
    assert errors["birmingham-live-midlands"]["error"].startswith("malformed feed")
    assert errors["birmingham-against-the-cuts-news"]["error"] == "HTTP 500"
    rows = run.db.execute("SELECT source_id, status, error FROM fetches WHERE role = 'index' AND status = 'error'")
    assert {r[0] for r in rows} == set(errors)
    assert run.db.execute("SELECT count(DISTINCT source_id) FROM articles").fetchone()[0] >= 8


def test_second_run_stores_nothing_new_and_sends_nothing(run):
    assert run.first.counts["new"] >= 20
    assert run.second.counts.get("new", 0) == 0 and run.second.counts.get("updated", 0) == 0
    assert run.second.counts.get("alias", 0) == 0
    assert run.sent_again == []
    assert len(run.messages_after) == len(run.messages) == 2


def test_status_shows_failing_sources_first_with_their_error(run):
    result = carewatch("--config", str(ROOT / "demo" / "config"), "--db", str(run.db_path), "status")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    first_two = [tuple(line.split()[:2]) for line in lines[1:] if line and not line.startswith(" ")][:2]
    assert {sid for sid, _ in first_two} == {"birmingham-against-the-cuts-news", "birmingham-live-midlands"}
    assert {st for _, st in first_two} == {"erroring"}  # 2 failed crawls: below failing_after (3)
    assert "HTTP 500" in result.stdout and "malformed feed" in result.stdout
    data = json.loads(
        carewatch("--config", str(ROOT / "demo" / "config"), "--db", str(run.db_path), "status", "--json").stdout
    )["sources"]
    assert [h["state"] for h in data[:2]] == ["erroring", "erroring"]
    assert all(h["last_error"] and h["consecutive_failures"] == 2 for h in data[:2])
    assert {h["source_id"]: h["state"] for h in data}["ofsted-reports"] == "warning"
    assert {h["source_id"]: h["state"] for h in data}["chamberlain-files"] == "ok"


def test_search_finds_articles(run):
    result = carewatch(
        "--config", str(ROOT / "demo" / "config"), "--db", str(run.db_path), "search", "voluntary trust", "--json"
    )
    assert result.returncode == 0, result.stderr
    titles = [r["title"] for r in json.loads(result.stdout)]
    assert "Birmingham council’s failing children’s social care to be placed in a trust" in titles


def test_per_source_filters_keep_only_what_matches(run):
    wdtk = _articles(run, "source_id = 'wdtk-birmingham-city-council'")
    assert wdtk and all("children" in (r["title"] + r["text"]).lower() for r in wdtk)
    assert not _articles(run, "canonical_url LIKE '%penalty_charge_notices%'")  # include_keywords
    assert not _articles(run, "canonical_url LIKE '%birminghamsocialistparty.com.test/about/%'")  # url_pattern
    assert _articles(run, "source_id = 'birmingham-socialist-party-sitemap'")


def test_requests_name_carewatch_and_obey_robots(run):
    agents = {r.headers.get("User-Agent") for r in run.requests}
    assert agents == {run.config.settings.user_agent} and "mailto:" in run.config.settings.user_agent
    hosts = {r.host for r in run.requests}
    robots = {r.host for r in run.requests if r.path == "/robots.txt"}
    assert robots == hosts  # every site's robots.txt is read before its pages
