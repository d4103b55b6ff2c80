"""The civic calendar in the archive, against the real `carewatch serve` over HTTP and in headless
Chromium at a phone's width: a meeting's page with its numbered items, their papers (the paper
whose fetch failed shown as not read) and each paper's press coverage; a cancelled and a moved
meeting marked as such, with what changed; an article's page saying which meeting a paper is from
and the coverage it got, and a press article's page the documents it cites; coverage found while
the archive is served appearing on the pages and leaving "Not yet covered"; and the canned queries
"Coming up" and "Not yet covered".

The archive is the real `carewatch demo`'s (its meetings are dated from today), copied; on the copy
a press article is linked to a Cabinet report through store.meetings.save_links (as the linker
would after a crawl), and the moved Corporate Parenting Board is saved moved once more through
store.meetings.save_meeting (as a crawl that saw it would), so it has a change to show.
"""

from __future__ import annotations

import re
import sqlite3
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import parsel
import pytest

from carewatch.core.items import Meeting
from carewatch.store.db import open_db
from carewatch.store.meetings import NewLink, save_links, save_meeting
from tests.test_archive import Served, copy_archive, demo_archive
from tests.test_archive_browser import PHONE, photograph, watched_page

LONDON = ZoneInfo("Europe/London")
CABINET = "bcc-meetings:31004"  # Cabinet, T+4: the Trust's contract review (item 5), the budget (item 6)
SCRUTINY = "bcc-meetings:31005"  # its appendix 2 answers HTTP 500
CANCELLED = "bcc-meetings:31007"
MOVED = "bcc-meetings:31008"
FAILED_PAPER = "Appendix 2 - Performance Scorecard"
CONTRACT_REPORT = "Birmingham Children's Trust - Contract Review and Funding Settlement"
CONTRACT_PRESS = "Commissioners order review of £200m Birmingham Children's Trust contract"
BUDGET_REPORT = "Budget 2027-28 - Children's Services Savings Proposals"
BUDGET_PRESS = "Birmingham families fear SEND transport and children's services cuts in council budget"
OFSTED_REPORT = "Inspection of Birmingham City Council local authority children’s services"
OFSTED_PRESS = "Birmingham children’s services judged good by Ofsted"
EVIDENCE = "the council's cabinet report on the Birmingham Children's Trust contract review and funding settlement"


def rows(db: Path, table: str) -> list[dict]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM {table}")]
    finally:
        conn.close()


def article_id(db: Path, title: str) -> str:
    [found] = [a["article_id"] for a in rows(db, "articles") if a["title"] == title]
    return found


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def link(db_path: Path, press: str, document: str, how: str, evidence: str) -> None:
    db = open_db(db_path)
    try:
        assert save_links(db, press, [NewLink("document", document, how, evidence, 0.95)], now()) == 1
    finally:
        db.close()


def move_again(db_path: Path) -> tuple[str, str]:
    """Save the moved Corporate Parenting Board as a crawl that saw it moved a week later would:
    (its old start, its new start)."""
    [m] = [m for m in rows(db_path, "meetings") if m["meeting_id"] == MOVED]
    new_start = (datetime.fromisoformat(m["start"]) + timedelta(days=7)).isoformat()
    meeting = Meeting(
        source_id=m["source_id"],
        external_id=m["external_id"],
        url=m["url"],
        committee=m["committee"],
        start=new_start,
        status="moved",
        fetched_at=now(),
        status_text=m["status_text"],
        venue=m["venue"],
        authority=m["authority"],
    )
    db = open_db(db_path)
    try:
        outcome, changes = save_meeting(db, meeting, now())
    finally:
        db.close()
    assert outcome == "changed" and [c.change for c in changes] == ["moved"], (outcome, changes)
    return m["start"], new_start


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    work = tmp_path_factory.mktemp("meetings-archive")
    db = copy_archive(demo_archive(tmp_path_factory), work / "carewatch.db")
    link(db, article_id(db, CONTRACT_PRESS), article_id(db, CONTRACT_REPORT), "title quoted", EVIDENCE)
    moved = move_again(db)
    server = Served(db, work)
    yield server, moved
    server.stop()


def page(server: Served, path: str) -> parsel.Selector:
    status, body = server.get(path)
    assert status == 200, (path, status, body[:500])
    return parsel.Selector(text=body)


def words(text: str | list[str]) -> str:
    return " ".join((" ".join(text) if isinstance(text, list) else text).split())


def text_of(node: parsel.Selector) -> str:
    return words("".join(node.css("::text").getall()))


def birmingham_time(start: str) -> str:
    """How a meeting's start reads, computed here: 'Tuesday 8 December 2026, 10:00' in Europe/London."""
    d = datetime.fromisoformat(start).astimezone(LONDON)
    return f"{d:%A} {d.day} {d:%B %Y}, {d:%H:%M}"


def meeting_path(meeting_id: str) -> str:
    return f"/-/meeting/{meeting_id}"


def papers_of(sel: parsel.Selector) -> dict[str, parsel.Selector]:
    return {text_of(p.css(".cw-paper-title")).split(" · ")[0]: p for p in sel.css("li.cw-paper")}


def test_a_meeting_page_shows_its_items_in_order_with_their_papers(archive):
    server, _ = archive
    db, public = server.db, server.public
    [m] = [m for m in rows(db, "meetings") if m["meeting_id"] == CABINET]
    items = sorted((i for i in rows(db, "agenda_items") if i["meeting_id"] == CABINET), key=lambda i: i["position"])
    documents = [d for d in rows(db, "meeting_documents") if d["meeting_id"] == CABINET]
    by_key = {a["url_key"]: a["article_id"] for a in rows(db, "article_aliases") + rows(db, "articles")}
    linked = {a["target_id"] for a in rows(db, "article_links")}
    assert len(items) == 7 and len(documents) == 9

    sel = page(server, meeting_path(CABINET))
    assert text_of(sel.css("h1")) == "Cabinet"
    assert text_of(sel.css(".cw-meeting-when time")) == birmingham_time(m["start"])
    assert sel.css(".cw-meeting-when time::attr(datetime)").get() == m["start"]
    assert text_of(sel.css(".cw-meeting-when .cw-status")) == "Scheduled"
    assert m["venue"] in text_of(sel.css(".cw-meeting"))
    assert sel.css(f'a[href="{m["url"]}"]::text').get() == "The meeting on the council's site"

    shown = sel.css("ol.cw-agenda > li.cw-item")
    assert [(text_of(li.css(".cw-item-number")), text_of(li.css(".cw-item-title"))) for li in shown] == [
        (i["number"], f"{i['number']} {i['title']}") for i in items
    ]
    for li, item in zip(shown, items, strict=True):
        assert ("cw-item-relevant" in li.attrib["class"]) == bool(item["relevant"]), item["title"]
        expected = {d["title"] for d in documents if d["item_id"] == item["item_id"]}
        assert set(papers_of(li)) == expected, item["title"]
        for title, paper in papers_of(li).items():
            [d] = [d for d in documents if d["title"] == title]
            assert paper.css(".cw-paper-title a::attr(href)").get() == f"/{public}/articles/{by_key[d['url_key']]}"
            assert paper.css(f'a[href="{d["url"]}"]::text').get() == "the council's copy"
    own = {d["title"] for d in documents if d["item_id"] is None}
    assert (
        set(papers_of(sel.css(".cw-meeting-papers")))
        == own
        == {
            "Agenda frontsheet",
            "Public reports pack",
            "Supplementary Agenda Pack",
        }
    )

    # each paper's coverage: the linked one lists the press article and how it was found
    contract = papers_of(sel)[CONTRACT_REPORT]
    [covered] = contract.css(".cw-paper-coverage li")
    assert covered.css("a::attr(href)").get() == f"/{public}/articles/{article_id(db, CONTRACT_PRESS)}"
    assert text_of(covered.css("a")) == CONTRACT_PRESS
    assert text_of(covered.css(".cw-how")) == f"Linked because it quotes the document's title: {EVIDENCE}"
    assert "Birmingham Post" in text_of(covered.css(".cw-meta"))
    for d in documents:
        if by_key[d["url_key"]] not in linked:
            paper = papers_of(sel)[d["title"]]
            assert text_of(paper.css(".cw-no-coverage")) == "No press coverage found yet", d["title"]
            assert paper.css(".cw-paper-coverage").getall() == []

    # the colon as written, percent-encoded or tilde-encoded; an unknown meeting is not found
    for path in (f"/-/meeting/{urllib.parse.quote(CABINET, safe='')}", f"/-/meeting/{CABINET.replace(':', '~3A')}"):
        assert text_of(page(server, path).css("h1")) == "Cabinet"
    assert server.get("/-/meeting/bcc-meetings:99999")[0] == 404


def test_the_paper_whose_fetch_failed_is_shown_as_not_read(archive):
    server, _ = archive
    sel = page(server, meeting_path(SCRUTINY))
    papers = papers_of(sel)
    failed = papers[FAILED_PAPER]
    assert "cw-paper-unread" in failed.attrib["class"]
    assert failed.css(".cw-paper-title a[href^='/']").getall() == []  # no archive entry to link to
    assert re.fullmatch(
        r"Not read: the fetch failed \(HTTP 500, \d+ \w+ \d{4}, \d\d:\d\d\)", text_of(failed.css(".cw-not-read"))
    )
    assert failed.css(".cw-no-coverage").getall() == []
    report = papers["Birmingham Children's Trust Annual Report 2025-26"]
    assert report.css(".cw-not-read").getall() == [] and report.css(".cw-paper-title a::attr(href)").get()


def test_cancelled_and_moved_meetings_are_marked_with_what_changed(archive):
    server, (old_start, new_start) = archive
    for meeting_id in (CANCELLED, "solihull-meetings:4503"):
        sel = page(server, meeting_path(meeting_id))
        status = sel.css(".cw-meeting-when .cw-status")
        assert text_of(status) == "Cancelled" and "cw-status-cancelled" in status.attrib["class"], meeting_id
        assert "This meeting will not take place." in text_of(sel.css(".cw-status-note"))

    sel = page(server, meeting_path(MOVED))
    assert text_of(sel.css(".cw-meeting-when .cw-status")) == "Moved"
    assert text_of(sel.css(".cw-meeting-when time")) == birmingham_time(new_start)
    assert text_of(sel.css(".cw-status-note")) == "The council's page says: Rescheduled"
    [change] = sel.css(".cw-changes li")
    assert text_of(change).startswith(f"Moved from {birmingham_time(old_start)} to {birmingham_time(new_start)} (seen ")
    assert text_of(sel.css(".cw-agenda, .cw-meeting > p.cw-muted")) == "No agenda published yet."
    assert page(server, meeting_path(CABINET)).css(".cw-changes").getall() == []  # nothing changed there


def test_an_article_page_shows_the_meeting_coverage_and_documents_cited(archive):
    server, _ = archive
    db, public = server.db, server.public
    report, press = article_id(db, CONTRACT_REPORT), article_id(db, CONTRACT_PRESS)

    sel = page(server, f"/{public}/articles/{report}")
    [origin] = sel.css(".cw-from-meeting")
    [m] = [m for m in rows(db, "meetings") if m["meeting_id"] == CABINET]
    day = datetime.fromisoformat(m["start"])
    assert text_of(origin) == (
        f"From Cabinet, {day.day} {day:%B %Y}: item 5, "
        "BIRMINGHAM CHILDREN'S TRUST: CONTRACT REVIEW AND FUNDING SETTLEMENT 2027-2030"
    )
    assert origin.css("a::attr(href)").get() == f"/-/meeting/{CABINET}#item-5"
    [covered] = sel.css(".cw-doc-coverage li")
    assert text_of(sel.css(".cw-doc-coverage h2")) == "Coverage"
    assert covered.css("a::attr(href)").get() == f"/{public}/articles/{press}"
    assert "it quotes the document's title" in text_of(covered.css(".cw-how"))
    assert sel.css(".cw-cites").getall() == []

    sel = page(server, f"/{public}/articles/{press}")
    assert text_of(sel.css(".cw-cites h2")) == "Documents it cites"
    [cited] = sel.css(".cw-cites li")
    assert cited.css("a::attr(href)").get() == f"/{public}/articles/{report}"
    assert text_of(cited.css("a")).startswith(CONTRACT_REPORT)
    assert f"From Cabinet, {day.day} {day:%B %Y}: item 5" in text_of(cited)
    assert f'href="/-/meeting/{CABINET}#item-5"' in cited.get()
    assert text_of(cited.css(".cw-how")) == f"Linked because it quotes the document's title: {EVIDENCE}"
    assert sel.css(".cw-doc-coverage, .cw-from-meeting").getall() == []  # a press article: no coverage of its own

    # the demo's own link: Ofsted's news release links to its inspection report
    ofsted, release = article_id(db, OFSTED_REPORT), article_id(db, OFSTED_PRESS)
    sel = page(server, f"/{public}/articles/{release}")
    [cited] = sel.css(".cw-cites li")
    assert cited.css("a::attr(href)").get() == f"/{public}/articles/{ofsted}"
    assert (
        "judgement: Good" in text_of(cited)
        and text_of(cited.css(".cw-how")) == "Linked because it links to the document"
    )
    sel = page(server, f"/{public}/articles/{ofsted}")
    linked = {a["article_id"] for a in rows(db, "article_links") if a["target_id"] == ofsted}
    assert release in linked and len(linked) >= 2
    assert {h.split("/")[-1] for h in sel.css(".cw-doc-coverage li > a::attr(href)").getall()} == linked
    assert sel.css(".cw-from-meeting").getall() == []  # no meeting's paper

    # an article that is neither official nor linked shows neither
    sel = page(server, f"/{public}/articles/{article_id(db, 'Walsall market to move to new home on Park Street')}")
    assert sel.css(".cw-doc-coverage, .cw-cites, .cw-from-meeting").getall() == []


def test_coming_up_lists_the_relevant_items_of_the_next_fourteen_days(archive):
    server, _ = archive
    db, public = server.db, server.public
    meetings = {m["meeting_id"]: m for m in rows(db, "meetings")}
    today = datetime.now(UTC).date()  # SQLite's date('now')

    def expected(days: int) -> list[tuple[str, str, str]]:
        """The relevant items of meetings starting from today for that many days, soonest first."""
        soon = sorted(
            (meetings[i["meeting_id"]]["start"], i["meeting_id"], i["position"], i["title"])
            for i in rows(db, "agenda_items")
            if i["relevant"]
            and meetings[i["meeting_id"]]["start"]
            and today <= date.fromisoformat(meetings[i["meeting_id"]]["start"][:10]) < today + timedelta(days=days)
        )
        return [(start, meeting_id, title) for start, meeting_id, _, title in soon]

    got = server.json(f"/{public}/coming_up.json?_shape=array")
    assert [(r["start"], r["meeting_id"], r["title"]) for r in got] == expected(14)
    assert len(got) >= 6 and {r["committee"] for r in got} >= {"Cabinet", "Corporate Parenting Board"}
    assert all(r["status"] != "cancelled" for r in got)
    contract = next(r for r in got if r["title"].startswith("BIRMINGHAM CHILDREN'S TRUST: CONTRACT REVIEW"))
    assert contract["item"] == "5" and contract["papers"] == 2 and contract["meeting_id"] == CABINET
    sooner = server.json(f"/{public}/coming_up.json?_shape=array&days=4")
    assert [(r["start"], r["meeting_id"], r["title"]) for r in sooner] == expected(4)
    assert 0 < len(sooner) < len(got)  # the Corporate Parenting Board (T+2), not the scrutiny committee (T+6)

    # on its page, the meeting id leads to the meeting's page
    sel = page(server, f"/{public}/coming_up")
    assert text_of(sel.css("h1")) == "Coming up"
    assert f"/-/meeting/{CABINET}" in sel.css("td.col-meeting_id a::attr(href)").getall()


def test_not_yet_covered_and_coverage_that_arrives_later(archive):
    server, _ = archive
    db, public = server.db, server.public
    linked = {a["target_id"] for a in rows(db, "article_links") if a["target_kind"] == "document"}
    official = {
        a["article_id"]
        for a in rows(db, "articles")
        if a["relevant"] == 1 and (a["kind"] == "document" or a["judgement"])
    }
    listed = server.json(f"/{public}/not_covered.json?_shape=array")
    assert {r["article_id"] for r in listed} == official - linked
    assert len(listed) >= 5
    dated = [r["dated"] for r in listed]
    assert dated == sorted(dated, reverse=True)  # newest first
    ids = {r["article_id"] for r in listed}
    report, budget = article_id(db, CONTRACT_REPORT), article_id(db, BUDGET_REPORT)
    assert report not in ids and article_id(db, OFSTED_REPORT) not in ids  # covered
    [row] = [r for r in listed if r["article_id"] == budget]
    assert (row["committee"], row["item"], row["meeting_id"]) == ("Cabinet", "6", CABINET)
    # an official source's articles too, when asked
    with_sources = server.json(f"/{public}/not_covered.json?_shape=array&sources=ofsted-reports")
    extra = {r["article_id"] for r in with_sources} - ids
    assert extra and all(a["source_id"] == "ofsted-reports" for a in rows(db, "articles") if a["article_id"] in extra)

    # Coverage found while the archive is served: the paper's page, the meeting's page and the query show it.
    sel = page(server, f"/{public}/articles/{budget}")
    assert text_of(sel.css(".cw-doc-coverage .cw-no-coverage")) == "No press coverage found yet"
    before = papers_of(page(server, meeting_path(CABINET)))[BUDGET_REPORT]
    assert text_of(before.css(".cw-no-coverage")) == "No press coverage found yet"

    press = article_id(db, BUDGET_PRESS)
    link(db, press, budget, "committee and subject", "cabinet will be asked to approve savings in children's services")

    sel = page(server, f"/{public}/articles/{budget}")
    assert sel.css(".cw-doc-coverage .cw-no-coverage").getall() == []
    assert sel.css(".cw-doc-coverage li > a::attr(href)").getall() == [f"/{public}/articles/{press}"]
    after = papers_of(page(server, meeting_path(CABINET)))[BUDGET_REPORT]
    assert text_of(after.css(".cw-paper-coverage a")) == BUDGET_PRESS
    assert "it names the committee and the subject" in text_of(after.css(".cw-how"))
    assert budget not in {r["article_id"] for r in server.json(f"/{public}/not_covered.json?_shape=array")}


def no_sideways_scroll(pg) -> None:
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{pg.url}: {width}px wide"


def test_on_a_phone_a_meeting_its_papers_and_a_papers_coverage(archive, tmp_path_factory):
    """At 390 px: the meeting's page reads without sideways scrolling, its when and status on the
    first screen, every item and paper shown; a paper's coverage link leads to the press article,
    whose page names the document it cites and the meeting it is from."""
    server, _ = archive
    db, public = server.db, server.public
    with watched_page(server.base, viewport=PHONE, is_mobile=True, has_touch=True) as pg:
        pg.goto(server.url(meeting_path(CABINET)))
        assert words(pg.locator("h1").inner_text()) == "Cabinet"
        when = pg.locator(".cw-meeting-when")
        box = when.bounding_box()
        assert box and box["y"] + box["height"] <= PHONE["height"], box
        assert "Scheduled" in when.inner_text()
        no_sideways_scroll(pg)
        items = pg.locator("ol.cw-agenda > li.cw-item")
        assert items.count() == 7
        for i in range(7):
            title = items.nth(i).locator(".cw-item-title")
            title.scroll_into_view_if_needed()
            assert title.is_visible()
            tbox = title.bounding_box()
            assert tbox and tbox["x"] >= 0 and tbox["x"] + tbox["width"] <= PHONE["width"], tbox
        papers = pg.locator("li.cw-paper")
        assert papers.count() == 9
        for i in range(papers.count()):
            assert papers.nth(i).is_visible()
            pbox = papers.nth(i).bounding_box()
            assert pbox and pbox["x"] + pbox["width"] <= PHONE["width"], pbox
        relevant = pg.locator("li.cw-item-relevant")
        assert relevant.count() == 2 and "About children's social care" in relevant.first.inner_text()
        photograph(pg, "phone-meeting", tmp_path_factory, width=PHONE["width"])

        paper = pg.locator("li.cw-paper", has_text=CONTRACT_REPORT)
        coverage = paper.locator(".cw-paper-coverage a", has_text=CONTRACT_PRESS)
        coverage.scroll_into_view_if_needed()
        assert coverage.is_visible()
        with pg.expect_navigation():
            coverage.click()
        assert pg.url == server.url(f"/{public}/articles/{article_id(db, CONTRACT_PRESS)}")
        assert words(pg.locator("h1").first.inner_text()) == CONTRACT_PRESS
        cites = pg.locator(".cw-cites")
        assert "Documents it cites" in cites.inner_text() and CONTRACT_REPORT in cites.inner_text()
        no_sideways_scroll(pg)

        with pg.expect_navigation():
            cites.locator("a", has_text=CONTRACT_REPORT).click()
        assert words(pg.locator("h1").first.inner_text()) == CONTRACT_REPORT
        assert words(pg.locator(".cw-from-meeting").inner_text()).startswith("From Cabinet,")
        assert CONTRACT_PRESS in pg.locator(".cw-doc-coverage").inner_text()
        no_sideways_scroll(pg)
        photograph(pg, "phone-document", tmp_path_factory, width=PHONE["width"])

        with pg.expect_navigation():
            pg.locator(".cw-from-meeting a").click()
        assert pg.url == server.url(f"/-/meeting/{CABINET}#item-5")
        assert pg.locator("#item-5").is_visible()
        assert pg.outside == [], f"pages asked for outside resources: {pg.outside[:5]}"
