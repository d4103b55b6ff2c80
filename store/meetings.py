"""The civic calendar's tables (migration m017): a crawled meeting saved with its agenda items and
documents, what changed since the last crawl recorded, and the meetings and items read back for
digests, the archive and the links between press articles and official documents.

A meeting is saved whole, in one transaction: its row, each item (tagged), each document it links
to (the document's text is an archive entry of its own, kind ``document``, stored by
store.articles like any page), and one ``meeting_changes`` row for each difference from what was
stored: ``moved`` (its start), ``status`` (cancelled, held, …), ``agenda republished`` (its items'
numbers or titles), ``papers added`` (a document not linked before), ``item papers changed``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.core.items import AgendaItem, Meeting
from carewatch.core.query import committee_facts
from carewatch.core.urls import url_key
from carewatch.store.db import fetch_all


def _hash(parts: list[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def agenda_hash(items: tuple[AgendaItem, ...]) -> str:
    """What makes an agenda the same agenda: its items' numbers and titles, in order."""
    return _hash([f"{i.number}\x1e{' '.join(i.title.split())}" for i in items])


def papers_hash(item: AgendaItem) -> str:
    return _hash(sorted(url_key(d.url) for d in item.documents))


def item_id(meeting_id: str, position: int, item: AgendaItem) -> str:
    """An item's id: its meeting and its number (its position when unnumbered)."""
    return f"{meeting_id}:{item.number or f'#{position}'}"


@dataclass(frozen=True, slots=True)
class MeetingChange:
    meeting_id: str
    item_id: str | None
    change: str
    before: str | None
    after: str | None


def _changes(db: Database, meeting: Meeting, old: dict | None) -> list[MeetingChange]:
    mid = meeting.meeting_id
    if old is None:
        return []
    out = []
    if (old["start"] or None) != (meeting.start or None):
        out.append(MeetingChange(mid, None, "moved", old["start"], meeting.start))
    if old["status"] != meeting.status:
        out.append(MeetingChange(mid, None, "status", old["status"], meeting.status))
    if old["agenda_hash"] != agenda_hash(meeting.items) and meeting.items:
        out.append(MeetingChange(mid, None, "agenda republished", old["published_note"], meeting.published_note))
    known = {r[0] for r in db.execute("SELECT url_key FROM meeting_documents WHERE meeting_id = ?", [mid]).fetchall()}
    stored_items = {
        r[0]: r[1] for r in db.execute("SELECT item_id, papers_hash FROM agenda_items WHERE meeting_id = ?", [mid])
    }
    for position, item in enumerate(meeting.items, 1):
        iid = item_id(mid, position, item)
        for d in item.documents:
            if url_key(d.url) not in known:
                out.append(MeetingChange(mid, iid, "papers added", None, d.title))
        if iid in stored_items and stored_items[iid] != papers_hash(item) and item.documents:
            out.append(MeetingChange(mid, iid, "item papers changed", stored_items[iid], papers_hash(item)))
    for d in meeting.documents:
        if url_key(d.url) not in known:
            out.append(MeetingChange(mid, None, "papers added", None, d.title))
    return out


def save_meeting(db: Database, meeting: Meeting, at: str) -> tuple[str, list[MeetingChange]]:
    """Save a crawled meeting: ("new" | "changed" | "unchanged", the changes recorded)."""
    mid = meeting.meeting_id
    with db.atomic():
        cur = db.execute("SELECT start, status, agenda_hash, published_note FROM meetings WHERE meeting_id = ?", [mid])
        row = cur.fetchone()
        old = dict(zip(("start", "status", "agenda_hash", "published_note"), row, strict=True)) if row else None
        changes = _changes(db, meeting, old)
        db.execute(
            "INSERT INTO meetings (meeting_id, source_id, external_id, committee, committee_facts, start, status, "
            "status_text, venue, url, authority, published_note, agenda_hash, first_seen, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (meeting_id) DO UPDATE SET committee = excluded.committee, "
            "committee_facts = excluded.committee_facts, start = excluded.start, "
            "status = excluded.status, status_text = excluded.status_text, venue = excluded.venue, "
            "url = excluded.url, authority = excluded.authority, published_note = excluded.published_note, "
            "agenda_hash = CASE WHEN excluded.agenda_hash = ? THEN meetings.agenda_hash ELSE excluded.agenda_hash END, "
            "updated = CASE WHEN ? THEN excluded.updated ELSE meetings.updated END",
            [
                mid,
                meeting.source_id,
                meeting.external_id,
                meeting.committee,
                " ".join(committee_facts(meeting.committee)),
                meeting.start,
                meeting.status,
                meeting.status_text,
                meeting.venue,
                meeting.url,
                meeting.authority,
                meeting.published_note,
                agenda_hash(meeting.items),
                at,
                at,
                agenda_hash(()),  # a page that lost its agenda keeps the agenda it had
                bool(changes) or old is None,
            ],
        )
        seen_items = []
        for position, item in enumerate(meeting.items, 1):
            iid = item_id(mid, position, item)
            seen_items.append(iid)
            topics = json.dumps([{"topic": t.topic, "label": t.label, "score": t.score} for t in item.topics])
            db.execute(
                "INSERT INTO agenda_items (item_id, meeting_id, position, number, title, text, topics, relevance, "
                "relevant, papers_hash, first_seen, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (item_id) DO UPDATE SET position = excluded.position, title = excluded.title, "
                "text = excluded.text, topics = excluded.topics, relevance = excluded.relevance, "
                "relevant = excluded.relevant, papers_hash = excluded.papers_hash, "
                "updated = CASE WHEN agenda_items.papers_hash IS NOT excluded.papers_hash "
                "OR agenda_items.title IS NOT excluded.title THEN excluded.updated ELSE agenda_items.updated END",
                [
                    iid,
                    mid,
                    position,
                    item.number,
                    item.title,
                    item.text,
                    topics,
                    item.relevance,
                    int(item.relevant),
                    papers_hash(item),
                    at,
                    at,
                ],
            )
            for d in item.documents:
                _document(db, mid, iid, d.title, d.url, at)
        for d in meeting.documents:
            _document(db, mid, None, d.title, d.url, at)
        for c in changes:
            db.execute(
                "INSERT INTO meeting_changes (meeting_id, item_id, at, change, before, after) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [c.meeting_id, c.item_id, at, c.change, c.before, c.after],
            )
    return ("new" if old is None else "changed" if changes else "unchanged"), changes


def _document(db: Database, meeting_id: str, item: str | None, title: str, url: str, at: str) -> None:
    db.execute(
        "INSERT INTO meeting_documents (meeting_id, url_key, item_id, title, url, first_seen) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (meeting_id, url_key) DO UPDATE SET "
        "item_id = coalesce(excluded.item_id, meeting_documents.item_id), title = excluded.title, url = excluded.url",
        [meeting_id, url_key(url), item, title, url, at],
    )


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class MeetingRow:
    meeting_id: str
    source_id: str
    committee: str
    start: str | None
    status: str
    status_text: str | None
    venue: str | None
    url: str
    authority: str | None
    first_seen: str
    updated: str


_MEETING = (
    "SELECT meeting_id, source_id, committee, start, status, status_text, venue, url, authority, first_seen, "
    "updated FROM meetings"
)


def meeting(db: Database, meeting_id: str) -> MeetingRow | None:
    rows = fetch_all(db.execute(_MEETING + " WHERE meeting_id = ?", [meeting_id]), MeetingRow)
    return rows[0] if rows else None


@dataclass(frozen=True, slots=True)
class ItemRow:
    item_id: str
    meeting_id: str
    position: int
    number: str | None
    title: str
    text: str | None
    topics: str | None
    relevance: float | None
    relevant: int | None
    updated: str


def items_of(db: Database, meeting_id: str) -> list[ItemRow]:
    return fetch_all(
        db.execute(
            "SELECT item_id, meeting_id, position, number, title, text, topics, relevance, relevant, updated "
            "FROM agenda_items WHERE meeting_id = ? ORDER BY position",
            [meeting_id],
        ),
        ItemRow,
    )


@dataclass(frozen=True, slots=True)
class DocumentRow:
    meeting_id: str
    item_id: str | None
    title: str | None
    url: str
    url_key: str
    article_id: str | None  # the archive entry holding its text; None when its fetch failed (or not yet)


_DOCUMENTS = (
    "SELECT d.meeting_id, d.item_id, d.title, d.url, d.url_key, coalesce(a.article_id, al.article_id) AS article_id "
    "FROM meeting_documents d LEFT JOIN articles a ON a.url_key = d.url_key "
    "LEFT JOIN article_aliases al ON al.url_key = d.url_key"
)


def documents_of(db: Database, meeting_id: str) -> list[DocumentRow]:
    """A meeting's documents, each with the archive entry of its text when it was read."""
    return fetch_all(
        db.execute(_DOCUMENTS + " WHERE d.meeting_id = ? ORDER BY d.item_id IS NULL, d.item_id, d.title", [meeting_id]),
        DocumentRow,
    )


def counts(db: Database) -> dict[str, int]:
    """How many meetings, agenda items, documents, changes and links to press are stored."""
    return {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("meetings", "agenda_items", "meeting_documents", "meeting_changes", "article_links")
    }


# ---------------------------------------------------------------- the digests' calendar sections


@dataclass(frozen=True, slots=True)
class ComingUpRow:
    """An agenda item of a meeting soon, with what a digest shows of it and what rules read."""

    item_id: str
    meeting_id: str
    source_id: str
    number: str | None
    title: str
    text: str | None
    topics: str | None  # JSON: [{topic, label, score}]
    relevant: int | None
    committee: str
    committee_facts: str | None
    start: str | None
    status: str
    venue: str | None
    url: str
    papers_hash: str | None
    shown: str | None  # the version a digest showed this subscriber, if any

    @property
    def version(self) -> str:
        """What makes it worth showing again: the meeting moved or was cancelled, its papers changed."""
        return f"{self.start}|{self.status}|{self.papers_hash}"


_COMING_UP = (
    "SELECT i.item_id, i.meeting_id, m.source_id, i.number, i.title, i.text, i.topics, i.relevant, m.committee, "
    "m.committee_facts, m.start, m.status, m.venue, m.url, i.papers_hash, {shown} AS shown "
    "FROM agenda_items i JOIN meetings m USING (meeting_id)"
)


def coming_up(db: Database, subscriber: str, start: str, end: str) -> list[ComingUpRow]:
    """Agenda items of meetings starting in [start, end) not shown to the subscriber in this version
    (a cancelled meeting's items only if they were shown before: to say so), soonest first."""
    rows = fetch_all(
        db.execute(
            _COMING_UP.format(shown="c.version")
            + " LEFT JOIN calendar_alerted c ON c.subscriber = ? AND c.target = 'item:' || i.item_id "
            "WHERE m.start >= ? AND m.start < ? ORDER BY m.start, i.position",
            [subscriber, start, end],
        ),
        ComingUpRow,
    )
    return [r for r in rows if r.shown != r.version and not (r.status == "cancelled" and r.shown is None)]


@dataclass(frozen=True, slots=True)
class UncoveredRow:
    """An official document no press article has been linked to."""

    article_id: str
    title: str | None
    canonical_url: str | None
    url: str
    source_id: str
    first_seen: str
    committee: str | None  # the meeting it was in, if any
    meeting_start: str | None


_MEETING_OF = (
    "(SELECT m.{} FROM meeting_documents d JOIN meetings m USING (meeting_id) WHERE d.url_key = a.url_key LIMIT 1)"
)
_UNCOVERED = (
    "SELECT a.article_id, a.title, a.canonical_url, a.url, a.source_id, a.first_seen, "
    f"{_MEETING_OF.format('committee')} AS committee, {_MEETING_OF.format('start')} AS meeting_start FROM articles a"
)


def not_covered(
    db: Database, subscriber: str, official_sources: tuple[str, ...], seen_before: str, seen_after: str
) -> list[UncoveredRow]:
    """Relevant official documents (a meeting's documents, and every article of the official
    sources) that the subscriber's rules matched (``alert_matches``), published (else first seen)
    in [seen_after, seen_before), with no article linked to them and not shown to the subscriber
    yet, oldest first. (A meeting's document is dated by its meeting: the press covers a report
    when the committee takes it.)"""
    marks = ", ".join("?" for _ in official_sources) or "NULL"
    return fetch_all(
        db.execute(
            _UNCOVERED + " WHERE a.relevant = 1 AND coalesce(a.published, a.first_seen) >= ? "
            "AND coalesce(a.published, a.first_seen) < ? "
            f"AND (a.kind = 'document' OR a.source_id IN ({marks})) "
            "AND EXISTS (SELECT 1 FROM alert_matches am WHERE am.article_id = a.article_id "
            " AND am.subscriber = ?) "
            "AND NOT EXISTS (SELECT 1 FROM article_links l WHERE l.target_kind = 'document' "
            " AND l.target_id = a.article_id) "
            "AND NOT EXISTS (SELECT 1 FROM calendar_alerted c WHERE c.subscriber = ? "
            " AND c.target = 'uncovered:' || a.article_id) ORDER BY a.first_seen",
            [seen_after, seen_before, *official_sources, subscriber, subscriber],
        ),
        UncoveredRow,
    )


def coming_up_rows(db: Database, item_ids: list[str]) -> list[ComingUpRow]:
    """The items a digest showed under "Coming up", as they are now (to send it again)."""
    marks = ", ".join("?" for _ in item_ids) or "NULL"
    rows = fetch_all(
        db.execute(_COMING_UP.format(shown="NULL") + f" WHERE i.item_id IN ({marks})", item_ids), ComingUpRow
    )
    order = {iid: n for n, iid in enumerate(item_ids)}
    return sorted(rows, key=lambda r: order[r.item_id])


def uncovered_rows(db: Database, article_ids: list[str]) -> list[UncoveredRow]:
    """The documents a digest showed under "Not yet covered" (to send it again)."""
    marks = ", ".join("?" for _ in article_ids) or "NULL"
    rows = fetch_all(
        db.execute(
            _UNCOVERED + f" WHERE a.article_id IN ({marks})",
            article_ids,
        ),
        UncoveredRow,
    )
    order = {aid: n for n, aid in enumerate(article_ids)}
    return sorted(rows, key=lambda r: order[r.article_id])


def documents_by_item(db: Database, item_ids: list[str]) -> dict[str, list[DocumentRow]]:
    marks = ", ".join("?" for _ in item_ids) or "NULL"
    rows = fetch_all(db.execute(_DOCUMENTS + f" WHERE d.item_id IN ({marks}) ORDER BY d.title", item_ids), DocumentRow)
    out: dict[str, list[DocumentRow]] = {}
    for r in rows:
        out.setdefault(r.item_id or "", []).append(r)
    return out


# ---------------------------------------------------------------- story <-> document links


@dataclass(frozen=True, slots=True)
class NewLink:
    target_kind: str  # document | meeting
    target_id: str
    how: str
    evidence: str
    score: float


def save_links(db: Database, article_id: str, links: list[NewLink], at: str) -> int:
    """Record an article's links (a link found again keeps when it was first found): the new ones' count."""
    added = 0
    with db.atomic():
        for link in links:
            cur = db.execute(
                "INSERT INTO article_links (article_id, target_kind, target_id, how, evidence, score, found) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (article_id, target_kind, target_id) DO NOTHING",
                [article_id, link.target_kind, link.target_id, link.how, link.evidence, link.score, at],
            )
            added += cur.rowcount
    return added


@dataclass(frozen=True, slots=True)
class CandidateRow:
    """An official document, as the linker is given it."""

    rowid: int
    article_id: str
    title: str | None
    url: str
    canonical_url: str | None
    published: str | None
    first_seen: str
    source_id: str
    kind: str | None
    authority: str | None  # an Ofsted report's authority
    judgement: str | None
    text: str | None  # its opening (at most 6,000 characters)
    committee: str | None  # its meeting's, if it is a meeting's document
    meeting_start: str | None
    meeting_url: str | None
    meeting_authority: str | None


def official_documents(db: Database, official_sources: tuple[str, ...], since: str) -> list[CandidateRow]:
    """Official documents (a meeting's, or any article of an official source) first seen since then."""
    marks = ", ".join("?" for _ in official_sources) or "NULL"
    return fetch_all(
        db.execute(
            "SELECT a.rowid, a.article_id, a.title, a.url, a.canonical_url, a.published, a.first_seen, a.source_id, "
            "a.kind, a.authority, a.judgement, substr(a.text, 1, 6000) AS text, m.committee, "
            "m.start AS meeting_start, m.url AS meeting_url, m.authority AS meeting_authority "
            "FROM articles a LEFT JOIN meeting_documents d ON d.url_key = a.url_key "
            "LEFT JOIN meetings m ON m.meeting_id = d.meeting_id "
            f"WHERE a.first_seen >= ? AND (a.kind = 'document' OR a.source_id IN ({marks})) "
            "GROUP BY a.article_id ORDER BY a.rowid",
            [since, *official_sources],
        ),
        CandidateRow,
    )


@dataclass(frozen=True, slots=True)
class PressRow:
    rowid: int
    article_id: str
    text: str | None
    title: str | None
    outlinks: str | None  # JSON list
    published: str | None
    first_seen: str


def press_articles(
    db: Database, official_sources: tuple[str, ...], *, after_rowid: int = 0, since: str = ""
) -> list[PressRow]:
    """Articles that are not official documents, stored after that rowid and first seen since then."""
    marks = ", ".join("?" for _ in official_sources) or "NULL"
    return fetch_all(
        db.execute(
            "SELECT rowid, article_id, text, title, outlinks, published, first_seen FROM articles "
            f"WHERE rowid > ? AND first_seen >= ? AND coalesce(kind, '') != 'document' "
            f"AND source_id NOT IN ({marks}) ORDER BY rowid",
            [after_rowid, since, *official_sources],
        ),
        PressRow,
    )


def link_cursor(db: Database, name: str) -> int:
    row = db.execute("SELECT last_rowid FROM link_cursor WHERE name = ?", [name]).fetchone()
    return row[0] if row else 0


def set_link_cursor(db: Database, name: str, rowid: int, at: str) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO link_cursor (name, last_rowid, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET last_rowid = excluded.last_rowid, updated = excluded.updated",
            [name, rowid, at],
        )


def last_rowid(db: Database) -> int:
    return db.execute("SELECT coalesce(max(rowid), 0) FROM articles").fetchone()[0]


@dataclass(frozen=True, slots=True)
class Citation:
    """An official document a press article covers, as a digest names it."""

    article_id: str  # the press article
    title: str | None  # the document's
    url: str
    committee: str | None  # its meeting's
    meeting_start: str | None
    published: str | None


def citations_of(db: Database, article_ids: list[str]) -> dict[str, list[Citation]]:
    """The documents each of these articles covers (article_links), in the order they were found."""
    marks = ", ".join("?" for _ in article_ids) or "NULL"
    rows = fetch_all(
        db.execute(
            "SELECT l.article_id, a.title, coalesce(a.canonical_url, a.url) AS url, "
            f"{_MEETING_OF.format('committee')} AS committee, {_MEETING_OF.format('start')} AS meeting_start, "
            "a.published FROM article_links l JOIN articles a ON a.article_id = l.target_id "
            f"WHERE l.target_kind = 'document' AND l.article_id IN ({marks}) ORDER BY l.found, a.title",
            article_ids,
        ),
        Citation,
    )
    out: dict[str, list[Citation]] = {}
    for r in rows:
        out.setdefault(r.article_id, []).append(r)
    return out
