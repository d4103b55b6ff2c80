"""The civic calendar's pages, as the templates read them: a meeting's page (routes.py,
``/-/meeting/<meeting_id>``, templates/carewatch_meeting.html) and, on an article's page
(templates/row.html), the meeting a document is a paper of, the coverage it got, and the
documents a press article cites. The data is carewatch.ops.meetings', read from the archive
opened read-only off the event loop; this module says it in words: Birmingham's clock, the
meeting's status, how each link was found, what changed."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any
from urllib.parse import unquote

from datasette.utils import tilde_decode

from carewatch.archive.plugin.rendering import LONDON, Links, chips, date, json_list, when
from carewatch.archive.plugin.settings import settings
from carewatch.core.items import parse_timestamp
from carewatch.ops.meetings import (
    ChangeRow,
    Citation,
    CoverageRow,
    MeetingPage,
    Paper,
    PlaceRow,
    article_links,
)

# How each link was found (pipelines.links.find_links' ``how``), as a reader says it.
HOW = {
    "hyperlink": "it links to the document",
    "title quoted": "it quotes the document's title",
    "committee and date": "it names the committee and the meeting's date",
    "committee and subject": "it names the committee and the subject",
    "authority and date": "it names the authority and the date",
    "ofsted report by date": "it names the Ofsted report by its date and the authority",
}

STATUS = {
    "scheduled": "Scheduled",
    "cancelled": "Cancelled",
    "moved": "Moved",
    "held": "Held",
}


def meeting_id_from_path(part: str) -> str:
    """A meeting id from its URL segment, as written (``bcc-meetings:31004``), percent-encoded
    (``bcc-meetings%3A31004``) or tilde-encoded as Datasette encodes ids (``bcc-meetings~3A31004``)."""
    text = unquote(part)
    if "~" in text:
        try:
            text = tilde_decode(text)
        except ValueError:
            pass
    return text


def how_found(how: str) -> str:
    return HOW.get(how, how)


def meeting_when(start: str | None) -> str:
    """'Tuesday 8 December 2026, 10:00' (Birmingham's clock); a date alone: 'Wednesday 13 January
    2027, time not given'; 'date not given'."""
    if not start:
        return "date not given"
    try:
        d = parse_timestamp(start)
    except ValueError:
        return start
    if len(start) <= 10:  # a date alone
        return f"{d:%A} {date(start)}, time not given"
    return f"{d.astimezone(LONDON):%A} {when(start)}"


def _coverage(links: Links, rows: list[CoverageRow], names: dict[str, str]) -> list[dict]:
    return [
        {
            **asdict(c),
            "href": links.article(c.article_id),
            "source_name": names.get(c.source_id, c.source_id),
            "date": date(c.published or c.first_seen),
            "date_iso": c.published or c.first_seen,
            "how_words": how_found(c.how),
        }
        for c in rows
    ]


def _paper(links: Links, p: Paper, names: dict[str, str]) -> dict:
    if p.article_id:
        state = None
    elif p.failed and p.fetch:
        bits = [p.fetch.error or p.fetch.error_kind or "error"]
        bits.append(when(p.fetch.started))
        state = f"Not read: the fetch failed ({', '.join(b for b in bits if b)})"
    else:
        state = "Not read yet"
    return {
        "title": p.title or "(untitled paper)",
        "url": p.url,
        "article_id": p.article_id,
        "href": links.article(p.article_id) if p.article_id else None,
        "not_read": state,
        "coverage": _coverage(links, p.coverage, names),
    }


def _change(c: ChangeRow, numbers: dict[str, str]) -> dict:
    item = f"item {numbers.get(c.item_id or '', c.item_id)}" if c.item_id else ""
    if c.change == "moved":
        text = f"Moved from {meeting_when(c.before)} to {meeting_when(c.after)}"
    elif c.change == "status":
        before, after = (STATUS.get(v or "", v or "unknown").lower() for v in (c.before, c.after))
        text = f"{after.capitalize()} (was {before})"
    elif c.change == "agenda republished":
        text = "Agenda republished" + (f": {c.after}" if c.after else "")
    elif c.change == "papers added":
        text = f"Papers added{' to ' + item if item else ''}: {c.after or '(untitled)'}"
    elif c.change == "item papers changed":
        text = f"The papers of {item or 'an item'} changed"
    else:
        text = c.change
    return {"text": text, "at": when(c.at), "at_iso": c.at, "change": c.change, "item_id": c.item_id}


def meeting_context(datasette: Any, page: MeetingPage) -> dict:
    """What templates/carewatch_meeting.html shows of a meeting."""
    config = settings(datasette)
    links = Links(datasette)
    names = (config.get("labels") or {}).get("source_id") or {}
    m = page.meeting
    numbers = {i.item.item_id: i.item.number or str(i.item.position) for i in page.items}
    items = []
    for i in page.items:
        topics = json_list(i.item.topics)
        items.append(
            {
                "item_id": i.item.item_id,
                "number": i.item.number or "",
                "anchor": f"item-{i.item.number or i.item.position}",
                "title": i.item.title,
                "text": (i.item.text or "").strip(),
                "relevant": bool(i.item.relevant),
                "topics_html": chips(links, topics, "topic", "label", "article_topics", "topic"),
                "papers": [_paper(links, p, names) for p in i.papers],
                "changes": [_change(c, numbers) for c in i.changes],
            }
        )
    status = STATUS.get(m.status, m.status.capitalize())
    return {
        **asdict(m),
        "status_label": status,
        "status_note": m.status_text if m.status_text and m.status_text.strip().lower() != status.lower() else "",
        "when": meeting_when(m.start),
        "when_iso": m.start or "",
        "date": date(m.start),
        "source_name": names.get(m.source_id, m.source_id),
        "agenda": items,
        "relevant_items": sum(1 for i in items if i["relevant"]),
        "papers": [_paper(links, p, names) for p in page.papers],
        "changes": [_change(c, numbers) for c in page.all_changes],
        "coverage": _coverage(links, page.coverage, names),
        "table_href": links.rows("agenda_items", meeting_id=m.meeting_id),
        "changes_href": links.rows("meeting_changes", meeting_id=m.meeting_id),
    }


def _place(links: Links, p: PlaceRow) -> dict:
    item = f"item {p.item_number}" if p.item_number else "the meeting's own papers"
    return {
        **asdict(p),
        "href": links.meeting(p.meeting_id) + (f"#item-{p.item_number}" if p.item_number else ""),
        "label": f"{p.committee}, {date(p.start) or 'date not given'}",
        "item": item,
        "cancelled": p.status == "cancelled",
    }


def _citation(links: Links, c: Citation, names: dict[str, str]) -> dict:
    link = c.link
    if link.target_kind == "meeting":
        m = c.meeting
        title = f"{m.committee}, {date(m.start)}" if m else link.target_id
        href = links.meeting(link.target_id)
        what = "A council meeting"
    else:
        title = link.title or "(a document no longer in the archive)"
        href = links.article(link.target_id)
        what = names.get(link.source_id or "", link.source_id or "")
    return {
        "kind": link.target_kind,
        "title": title,
        "href": href,
        "what": what,
        "date": date(link.published),
        "judgement": link.judgement,
        "how": link.how,
        "how_words": how_found(link.how),
        "evidence": link.evidence,
        "places": [_place(links, p) for p in c.places],
    }


def archive_path(datasette: Any) -> str | None:
    """The public database's file (None for a database with no file)."""
    db = datasette.get_database(settings(datasette).get("public_database"))
    return db.path or None


async def article_page_links(datasette: Any, article_id: str) -> dict:
    """What an article's page shows of article_links: ``places`` (the meetings it is a paper of),
    ``coverage`` (None: not an official document, nor covered; else the coverage it got, maybe
    none yet) and ``cites`` (the documents it cites)."""
    path = archive_path(datasette)
    if not path:
        return {"places": [], "coverage": None, "cites": []}
    found = await asyncio.to_thread(article_links, path, article_id)
    links = Links(datasette)
    names = (settings(datasette).get("labels") or {}).get("source_id") or {}
    doc = found.coverage
    return {
        "places": [_place(links, p) for p in doc.places] if doc else [],
        "coverage": _coverage(links, doc.coverage, names) if doc else None,
        "cites": [_citation(links, c, names) for c in found.cites],
    }
