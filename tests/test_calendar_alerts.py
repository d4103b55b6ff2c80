"""The digests' calendar sections (alerts.calendar), on a real SQLite archive and a real SMTP sink:
a relevant agenda item of a meeting in the next days appears under "Coming up" once, again when
the meeting moves, and not after the meeting has passed; an official document no press article
covers appears under "Not yet covered" once, after its days, and never once coverage is linked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carewatch.alerts.match import archive_rowids
from carewatch.alerts.outbox import send_alerts
from carewatch.config import load_config
from carewatch.config.schema import Alerts, Smtp, Source, Subscriber
from carewatch.core.items import AgendaItem, Article, Meeting, MeetingDocument, article_id_for
from carewatch.core.query import QueryError, parse
from carewatch.core.urls import url_key
from carewatch.demo.mailsink import MailSink
from carewatch.pipelines.tag import Tagging, tag
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from carewatch.store.meeting_pages import changes_seen
from carewatch.store.meetings import NewLink, save_links, save_meeting
from tests.conftest import ROOT

BASE = load_config(ROOT / "config")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CMIS = Source(
    id="bcc-meetings", name="Birmingham City Council meetings", kind="cmis", url="https://cmis.test/", local=True
)
REPORT_URL = "https://cmis.test/birmingham/Document.ashx?key=trust-contract"
TRUST_ITEM = AgendaItem(
    "7",
    "Birmingham Children's Trust: contract review and future delivery of children's social care",
    "The Cabinet is asked to approve the review of the contract with Birmingham Children's Trust for children's "
    "social care and child protection services, and the Trust's improvement plan following Ofsted.",
    (MeetingDocument("Report of the Director of Children's Services", REPORT_URL),),
)
BINS_ITEM = AgendaItem("8", "Waste collection fleet replacement", "Procurement of refuse collection vehicles.")


def config(port: int, *subs: Subscriber):
    settings = BASE.settings.model_copy(update={"smtp": Smtp(host="127.0.0.1", port=port, timeout=5)})
    return BASE.model_copy(
        update={"settings": settings, "sources": (*BASE.sources, CMIS), "alerts": Alerts(subscribers=subs)}
    )


def cabinet(cfg, start: datetime, status: str = "scheduled") -> Meeting:
    meeting = Meeting(
        source_id=CMIS.id,
        external_id="20900",
        url="https://cmis.test/birmingham/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/20900/Default.aspx",
        committee="Cabinet",
        start=start.isoformat(timespec="seconds"),
        status=status,
        fetched_at=NOW.isoformat(timespec="seconds"),
        items=(TRUST_ITEM, BINS_ITEM),
        authority="Birmingham City Council",
    )
    return Tagging.from_config(cfg).meeting(meeting)


def store_document(db, cfg, seen: datetime) -> str:
    """The Cabinet report's text, as the crawl stores a meeting's document (kind document)."""
    article = Article(
        source_id=CMIS.id,
        url=REPORT_URL,
        fetched_at=seen.isoformat(timespec="seconds"),
        canonical_url=REPORT_URL,
        url_key=url_key(REPORT_URL),
        title="Birmingham Children's Trust contract review: report to Cabinet",
        text=TRUST_ITEM.text * 3 + " Birmingham City Council. Children's social care in Birmingham.",
        kind="document",
        published=seen.date().isoformat(),
        content_hash="h-report",
    )
    tagged = tag(article, Tagging.from_config(cfg).tagger, local=True)
    assert tagged.relevant, tagged.relevance_evidence
    save_article(db, tagged, cfg.settings)  # first seen when fetched
    return article_id_for(url_key(REPORT_URL))


def sections(sink, since: int) -> list[str]:
    out = []
    for msg in sink.messages[since:]:
        text = msg.get_body(("plain",)).get_content()
        out.append(("C" if "== Coming up ==" in text else "") + ("N" if "== Not yet covered ==" in text else ""))
    return out


def test_coming_up_appears_once_again_when_moved_and_not_after_the_meeting(tmp_path):
    sub = Subscriber(
        id="org", name="Organisers", email="org@example.org", frequency="immediate", topics=("privatisation",)
    )
    with MailSink(tmp_path / "mail") as sink:
        cfg = config(sink.port, sub)
        db = open_db(tmp_path / "a.db")
        outcome, _ = save_meeting(db, cabinet(cfg, NOW + timedelta(days=5)), NOW.isoformat())
        assert outcome == "new"
        sent = send_alerts(cfg, db, now=NOW)
        assert [r.status for r in sent] == ["sent"]
        (msg,) = sink.messages
        text = msg.get_body(("plain",)).get_content()
        assert "== Coming up ==" in text and "7. Birmingham Children's Trust: contract review" in text
        assert "Waste collection" not in text  # not children's social care
        assert "Report of the Director of Children's Services" in text and msg["Subject"].startswith(
            "carewatch: coming up"
        )
        html = msg.get_body(("html",)).get_content()
        assert 'id="coming-up"' in html and "Thu 3 Dec" not in html  # Sun 6 Dec, 09:00 London
        assert "Sun 6 Dec, 09:00" in html
        # the next run: nothing new, nothing sent
        assert send_alerts(cfg, db, now=NOW + timedelta(hours=1)) == []
        # the meeting moves: shown again, once
        outcome, changes = save_meeting(
            db, cabinet(cfg, NOW + timedelta(days=6)), (NOW + timedelta(hours=2)).isoformat()
        )
        assert outcome == "changed" and [c.change for c in changes] == ["moved"]
        assert [c.change for c in changes_seen(db, "bcc-meetings:20900")] == ["moved"]
        assert [r.status for r in send_alerts(cfg, db, now=NOW + timedelta(hours=3))] == ["sent"]
        assert "Mon 7 Dec, 09:00" in sink.messages[-1].get_body(("plain",)).get_content()
        assert send_alerts(cfg, db, now=NOW + timedelta(hours=4)) == []
        # another subscriber after the meeting has passed: nothing to come
        late = Subscriber(
            id="late", name="Late", email="late@example.org", frequency="immediate", topics=("privatisation",)
        )
        assert send_alerts(config(sink.port, late), db, now=NOW + timedelta(days=8)) == []
        # a subscriber who turned the section off
        off = Subscriber(
            id="off",
            name="Off",
            email="off@example.org",
            frequency="immediate",
            topics=("privatisation",),
            coming_up_days=0,
        )
        assert send_alerts(config(sink.port, off), db, now=NOW) == []
        db.close()


def test_not_yet_covered_after_its_days_once_and_never_when_covered(tmp_path):
    sub = Subscriber(
        id="org", name="Organisers", email="org@example.org", frequency="immediate", topics=("privatisation",)
    )
    with MailSink(tmp_path / "mail") as sink:
        cfg = config(sink.port, sub)
        db = open_db(tmp_path / "a.db")
        save_meeting(db, cabinet(cfg, NOW - timedelta(days=10)), (NOW - timedelta(days=12)).isoformat())
        doc = store_document(db, cfg, NOW - timedelta(days=1))
        send_alerts(cfg, db, now=NOW)  # the document itself matches the subscriber's topic
        assert "N" not in "".join(sections(sink, 0))  # 1 day old: not yet
        before = len(sink.messages)
        sent = send_alerts(cfg, db, now=NOW + timedelta(days=3))
        assert [r.status for r in sent] == ["sent"] and sections(sink, before) == ["N"]
        text = sink.messages[-1].get_body(("plain",)).get_content()
        assert "Birmingham Children's Trust contract review: report to Cabinet" in text and "Cabinet" in text
        assert send_alerts(cfg, db, now=NOW + timedelta(days=4)) == []  # once
        # a second subscriber, after coverage was linked: nothing to chase
        other = Subscriber(id="b", name="B", email="b@example.org", frequency="immediate", topics=("privatisation",))
        press_url = "https://www.birminghammail.co.uk/news/trust-contract-review"
        press = Article(
            source_id="birmingham-mail",
            url=press_url,
            fetched_at=(NOW + timedelta(days=4)).isoformat(timespec="seconds"),
            canonical_url=press_url,
            url_key=url_key(press_url),
            title="Cabinet to review Children's Trust contract",
            text="Cabinet will review the contract with Birmingham Children's Trust, a report says.",
            content_hash="h-press",
        )
        save_article(db, press, cfg.settings)
        link = NewLink("document", doc, "hyperlink", "a report says", 1.0)
        assert save_links(db, article_id_for(url_key(press_url)), [link], NOW.isoformat()) == 1
        before = len(sink.messages)
        send_alerts(config(sink.port, other), db, now=NOW + timedelta(days=4))  # the articles themselves, maybe
        assert "N" not in "".join(sections(sink, before))
        # the press article's digest entry says what it cites
        reader = Subscriber(
            id="r",
            name="R",
            email="r@example.org",
            frequency="immediate",
            keywords=("Trust contract",),
            include_irrelevant=True,  # the press article is stored untagged here
        )
        before = len(sink.messages)
        send_alerts(config(sink.port, reader), db, now=NOW + timedelta(days=4))
        (msg,) = sink.messages[before:]
        text = msg.get_body(("plain",)).get_content()
        entry = text.split("* Cabinet to review Children's Trust contract", 1)[1].split("\n* ", 1)[0]
        assert "Cites: Cabinet, 21 November: Birmingham Children's Trust contract review: report to Cabinet" in entry
        assert 'class="cites"' in msg.get_body(("html",)).get_content()
        db.close()


def test_rules_over_the_calendar_kind_and_committee(tmp_path):
    """kind: and committee: in a rule: the search (FTS5 plan), the matcher (rule index) and "Coming
    up" (an agenda item read as kind:meeting) agree; kind:meeting asks for every item of the
    committee, children's social care or not; a kind the language does not have is refused."""
    with MailSink(tmp_path / "mail") as sink:
        meetings_only = Subscriber(
            id="cab",
            name="Cabinet watcher",
            email="cab@example.org",
            frequency="immediate",
            rules=("kind:meeting AND committee:cabinet",),
        )
        papers = Subscriber(
            id="papers",
            name="Papers",
            email="papers@example.org",
            frequency="immediate",
            rules=("kind:document AND committee:cabinet AND trust",),
        )
        cfg = config(sink.port, meetings_only, papers)
        db = open_db(tmp_path / "a.db")
        save_meeting(db, cabinet(cfg, NOW + timedelta(days=3)), NOW.isoformat())
        doc = store_document(db, cfg, NOW)
        rowid = db.execute("SELECT rowid FROM articles WHERE article_id = ?", [doc]).fetchone()[0]
        assert archive_rowids(db, "kind:document AND committee:cabinet AND trust") == [rowid]
        assert archive_rowids(db, "kind:document AND committee:corporate-parenting-board") == []
        assert archive_rowids(db, "kind:html AND trust") == []
        send_alerts(cfg, db, now=NOW)
        by_to = {m["To"]: m.get_body(("plain",)).get_content() for m in sink.messages}
        assert "Birmingham Children's Trust contract review: report to Cabinet" in by_to["papers@example.org"]
        assert "== Coming up ==" not in by_to["papers@example.org"]  # a document rule is not a meeting rule
        shown = entries_under(by_to["cab@example.org"], "Coming up")
        assert any("7. Birmingham Children's Trust" in e for e in shown)
        assert any("8. Waste collection fleet replacement" in e for e in shown)  # asked for: kind:meeting
        db.close()
    with pytest.raises(QueryError, match="unknown kind 'meetings'"):
        parse("kind:meetings")


def entries_under(text: str, section: str) -> list[str]:
    part = text.split(f"== {section} ==", 1)[1].split("\n--\n", 1)[0] if f"== {section} ==" in text else ""
    return [line.strip() for line in part.splitlines() if line.strip()[:2].rstrip(".").isdigit()]
