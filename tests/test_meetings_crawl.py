"""Council meetings crawled through the real spiders and pipelines into a real SQLite file, from the
demo's CMIS and ModernGov sites (demo/meetings.py, modelled on the real markup: a cancelled
meeting, a moved one, a republished agenda, a document that answers HTTP 500): every meeting, item
and document stored once; a second crawl changes nothing; a meeting moved, one cancelled and an
agenda republished between crawls are recorded as changes; the failing document is recorded in the
fetch log and everything else is stored."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from carewatch.demo import meetings as demo
from carewatch.demo.run import demo_config
from carewatch.demo.server import DemoServer
from carewatch.ops.crawl import run_crawl
from carewatch.scrapers.meetings import months
from carewatch.store.db import open_db
from carewatch.store.meeting_pages import changes_seen
from carewatch.store.meetings import counts, documents_of, items_of, meeting

SOURCES = ["bcc-meetings", "solihull-meetings"]


@pytest.fixture
def sites():
    demo.reset()
    with DemoServer() as server:
        yield server
    demo.reset()


def crawl(server, db_path):
    config = demo_config(server.proxy_url, 2525)
    config = config.model_copy(update={"sources": tuple(s for s in config.sources if s.id in SOURCES)})
    report = run_crawl(config, db_path, log_level="CRITICAL")
    return report


def expected(today: date) -> dict[str, demo.Meeting]:
    """The fixture's meetings of the followed committees within the months the sources read."""
    read = set(months(today, 1, 3))
    return {
        f"{'bcc-meetings' if m.system == 'cmis' else 'solihull-meetings'}:{m.id}": m
        for m in demo.meetings(today)
        if "Licensing" not in m.committee and (m.day.year, m.day.month) in read
    }


def test_meetings_items_and_documents_stored_once_changes_recorded_failure_kept(sites, tmp_path):
    db_path = tmp_path / "m.db"
    first = crawl(sites, db_path)
    db = open_db(db_path)
    wanted = expected(date.today())
    stored = {r[0] for r in db.execute("SELECT meeting_id FROM meetings").fetchall()}
    assert stored == set(wanted), stored ^ set(wanted)
    for mid, m in wanted.items():
        row = meeting(db, mid)
        assert row.committee == m.committee, mid
        assert [i.title.lower() for i in items_of(db, mid)] == [i.title.lower() for i in m.items], mid
    cancelled = [mid for mid, m in wanted.items() if m.status.lower().startswith("cancel")]
    assert first.returncode == 0
    assert cancelled and all(meeting(db, mid).status == "cancelled" for mid in cancelled)
    assert {mid.split(":")[0] for mid in cancelled} == set(SOURCES)  # on CMIS and on ModernGov
    moved = [mid for mid, m in wanted.items() if m.status.lower().startswith(("moved", "resched"))]
    assert moved and all(meeting(db, mid).status == "moved" for mid in moved)
    assert {mid.split(":")[0] for mid in moved} == set(SOURCES)
    # every document stored once, as an archive entry of kind document, but the one that fails
    docs = [d for mid in wanted for d in documents_of(db, mid)]
    failed = [d for d in docs if d.article_id is None]
    assert len(failed) == 1 and "Appendix 2" in (failed[0].title or ""), [(d.title, d.article_id) for d in failed]
    (error,) = db.execute(
        "SELECT http_status, url FROM fetches WHERE source_id = 'bcc-meetings' AND status = 'error'"
    ).fetchall()
    assert error[0] == 500 and error[1] == failed[0].url
    kinds = db.execute("SELECT DISTINCT kind FROM articles WHERE source_id IN (?, ?)", SOURCES).fetchall()
    assert kinds == [("document",)]
    n_docs = db.execute("SELECT count(*) FROM articles WHERE kind = 'document'").fetchone()[0]
    assert 0 < n_docs <= len({d.url_key for d in docs}) - 1  # identical packs are kept as aliases of one
    before = counts(db)
    db.close()

    # a second crawl: nothing new, nothing changed
    crawl(sites, db_path)
    db = open_db(db_path)
    assert (
        counts(db) == before
        and db.execute("SELECT count(*) FROM articles WHERE kind = 'document'").fetchone()[0] == n_docs
    )

    # the council moves a meeting, cancels another and republishes an agenda
    scheduled = db.execute(
        "SELECT m.external_id FROM meetings m WHERE m.source_id = 'bcc-meetings' AND m.status = 'scheduled' "
        "AND m.start > ? AND EXISTS (SELECT 1 FROM agenda_items i WHERE i.meeting_id = m.meeting_id) ORDER BY m.start",
        [datetime.now(UTC).isoformat()],
    ).fetchall()
    db.close()
    to_move, to_cancel, to_republish = (int(r[0]) for r in scheduled[:3])
    new_day = date.today() + timedelta(days=5)
    demo.reschedule(to_move, datetime.combine(new_day, time(16, 0)))
    demo.cancel(to_cancel)
    demo.republish(to_republish)
    demo.republish(4502)  # Solihull's scrutiny board (ModernGov): a second supplementary agenda
    crawl(sites, db_path)
    db = open_db(db_path)
    moved_changes = [c.change for c in changes_seen(db, f"bcc-meetings:{to_move}")]
    assert "moved" in moved_changes and meeting(db, f"bcc-meetings:{to_move}").status == "moved"
    assert meeting(db, f"bcc-meetings:{to_move}").start.startswith(new_day.isoformat())
    cancel_changes = changes_seen(db, f"bcc-meetings:{to_cancel}")
    assert [(c.change, c.after) for c in cancel_changes if c.change == "status"] == [("status", "cancelled")]
    republished = [c.change for c in changes_seen(db, f"bcc-meetings:{to_republish}")]
    assert "papers added" in republished, republished
    assert "papers added" in [c.change for c in changes_seen(db, "solihull-meetings:4502")]
    after = counts(db)
    assert after["meetings"] == before["meetings"] and after["agenda_items"] >= before["agenda_items"]
    db.close()


def test_the_demo_s_meetings_are_dated_for_today():
    """The fixture is generated for today (a crawl on any day finds meetings in the next week)."""
    soon = [m for m in demo.meetings(date.today()) if 0 <= (m.day - date.today()).days <= 7]
    assert soon and datetime.now(UTC).date() - date.today() <= timedelta(days=1)
