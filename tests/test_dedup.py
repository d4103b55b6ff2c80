"""One story, one alert: copies, two-URL articles and edited statements on the demo site, and an
in-place edit caught on a later crawl and alerted with what changed."""

from __future__ import annotations

import json

import pytest

from carewatch.alerts.outbox import send_alerts
from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import demo_config
from carewatch.demo.server import DemoServer, Route
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db

COUNCIL = "www.birmingham.gov.uk.test"
STATEMENT = "/news/article/1571/statement_on_the_child_safeguarding_practice_review_for_child_l"


@pytest.fixture
def world(tmp_path):
    with DemoServer() as server, MailSink(tmp_path / "mail") as sink:
        yield server, sink, demo_config(server.proxy_url, sink.port), tmp_path / "d.db"


def _sent_ids(db, subscriber):
    ids = []
    for (articles,) in db.execute(
        "SELECT articles FROM deliveries WHERE subscriber = ? AND status = 'sent'", [subscriber]
    ):
        ids += json.loads(articles)
    return ids


def test_each_story_is_alerted_once_and_an_in_place_edit_is_alerted_with_its_diff(world):
    server, sink, config, db_path = world
    run_crawl(config, db_path)
    db = open_db(db_path)
    send_alerts(config, db)
    for sub in ("organisers", "ofsted-watch"):
        ids = _sent_ids(db, sub)
        assert len(ids) == len(set(ids))
    # The syndicated appointment, the statement and its edited re-issue, the two-URL post: one each.
    for like in (
        "%appoints_new_chief_executive",
        "%names-new-2684417",
        "%/article/16_/media_statement%",
        "%to-be-placed-in-a-trust%",
    ):
        rows = db.execute("SELECT count(*) FROM articles WHERE url_key LIKE ?", [like]).fetchone()[0]
        aliases = db.execute("SELECT count(*) FROM article_aliases WHERE url_key LIKE ?", [like]).fetchone()[0]
        assert rows + aliases >= 1 and rows <= 1, like
    [(statement_id, version)] = db.execute(
        "SELECT article_id, version FROM articles WHERE url_key LIKE '%/article/166/%'"
    ).fetchall()
    [(diff, changed)] = db.execute(
        "SELECT diff, changed FROM article_versions WHERE article_id = ?", [statement_id]
    ).fetchall()
    assert version == 2 and changed > 0 and diff.startswith(("-", "+"))
    # A different article on the same subject (the council's own statement on the same review) is
    # not merged: it stays an article of its own (in the same story, below).
    assert db.execute("SELECT count(*) FROM articles WHERE url_key LIKE ?", [f"%{STATEMENT}"]).fetchone()[0] == 1

    # Stories: coverage of one event by different outlets is grouped, other events are not.
    def story(like):
        return db.execute("SELECT story_id FROM articles WHERE url_key LIKE ?", [like]).fetchone()[0]

    good = story("%judged-good-by-ofsted")
    assert story("%/article/164/%") == good == story("%/v1/file/50214110")
    assert story("%ofsted-annual-report-202223%") != good  # Ofsted again, another event
    assert story(f"%{STATEMENT}") == story("%/article/166/%")
    body = next(m for m in sink.messages if m["To"] == "ofsted-watch@example.org")
    assert "Also covered by" in body.get_body(("plain",)).get_content()
    mails_before = len(sink.messages)

    # The council quietly edits its statement; the next crawl revisits the page and sees it.
    route = server.sites.find(COUNCIL, STATEMENT)
    edited = route.body.replace(
        b'<div class="editor">',
        b'<div class="editor"><p>The council has apologised '
        b"to Child L\xe2\x80\x99s family and will publish an action plan within six weeks, "
        b"with progress reported to the scrutiny committee every quarter.</p>",
        1,
    )
    assert edited != route.body
    server.sites.hosts[COUNCIL][STATEMENT] = Route(200, route.content_type, edited, '"edited-1"')
    second = run_crawl(config, db_path)
    assert second.counts.get("updated") == 1 and second.counts.get("new", 0) == 0
    [(article_id, version, edited_at)] = db.execute(
        "SELECT article_id, version, edited FROM articles WHERE url_key LIKE ?", [f"%{STATEMENT}"]
    ).fetchall()
    assert version == 2 and edited_at
    results = send_alerts(config, db)
    got_it = [s for s in ("organisers", "ofsted-watch") if article_id in _sent_ids(db, s)]
    assert got_it and all(r.status == "sent" for r in results)
    new_mails = sink.messages[mails_before:]
    assert len(new_mails) == len({r.subscriber for r in results}) >= 1
    body = new_mails[0].get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "EDITED since you were sent it" in body and "+ The council has apologised" in body

    # Crawling and alerting again changes nothing: no new rows, no new mail.
    counts = {t: db[t].count for t in ("articles", "article_versions", "article_aliases", "deliveries")}
    third = run_crawl(config, db_path)
    assert third.counts.get("new", 0) == third.counts.get("updated", 0) == third.counts.get("alias", 0) == 0
    assert send_alerts(config, db) == []
    assert counts == {t: db[t].count for t in counts}
    assert len(sink.messages) == mails_before + len(new_mails)


def test_dedup_explain_says_why(world):
    from tests.conftest import ROOT, carewatch

    server, sink, config, db_path = world
    run_crawl(config, db_path)
    base = ["--config", str(ROOT / "demo" / "config"), "--db", str(db_path), "dedup", "explain"]
    copy = "http://www.birminghamchildrenstrust.co.uk.test/news/article/165/birmingham_childrens_trust_appoints_new_chief_executive"
    mail = "http://www.birminghammail.co.uk.test/news/midlands-news/birmingham-childrens-trust-names-new-2684417"
    out = carewatch(*base, copy, mail)
    assert out.returncode == 0 and "one article" in out.stdout
    one = carewatch(
        *base,
        "http://www.birminghamchildrenstrust.co.uk.test/news/article/166/media_statement_child_safeguarding_practice_review_child_l",
    )
    assert "edited version" in one.stdout and "of words changed" in one.stdout
    # The re-issue the statement now stands at is its own address, not a copy "also at" it.
    reissue = (
        "http://www.birminghamchildrenstrust.co.uk.test/news/article/167/"
        "media_statement_child_safeguarding_practice_review_child_l_updated"
    )
    assert f"({reissue})" in one.stdout.splitlines()[0]
    assert f"also at {reissue}" not in one.stdout and f"now at {reissue}, its own address" in one.stdout
    assert "also at" in carewatch(*base, mail).stdout  # the Mail's article has a copy elsewhere
    at_reissue = carewatch(*base, reissue, "--json")
    assert at_reissue.returncode == 0, at_reissue.stderr
    explained = json.loads(at_reissue.stdout)
    assert explained["first"]["canonical_url"] == reissue and explained["found_via"] == "copy"
    assert [(c["url"], c["current"]) for c in explained["copies"]] == [(reissue, True)]
    assert not [line for line in explained["lines"] if "not stored as an article of its own" in line]
    apart = carewatch(
        *base,
        f"http://{COUNCIL}{STATEMENT}",
        "http://www.birminghamchildrenstrust.co.uk.test/news/article/166/media_statement_child_safeguarding_practice_review_child_l",
    )
    assert "kept apart" in apart.stdout and "similarity" in apart.stdout
    missing = carewatch(*base, "http://nowhere.test/x")
    assert missing.returncode == 1 and "no stored article" in missing.stderr and "Traceback" not in missing.stderr
