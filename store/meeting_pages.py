"""The archive's meeting pages' look-ups that store.meetings has no function for: the coverage of
several documents at once (with each press article's source and date), the documents an article
cites (with their own kind, source and date), where a document sits on agendas, what changed in a
meeting and when it was seen, the last fetch of each of a meeting's papers (to say why one was not
read), and the facts that make an article an official document."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.store.db import fetch_all


def _marks(values: list[str]) -> str:
    return ", ".join("?" for _ in values) or "NULL"


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """A press article linked to a document (or a meeting): the link and the article."""

    target_id: str
    article_id: str
    how: str
    evidence: str | None
    score: float | None
    found: str
    title: str | None
    url: str
    source_id: str
    published: str | None
    first_seen: str


def coverage_of(db: Database, target_ids: list[str]) -> dict[str, list[CoverageRow]]:
    """The coverage each of these documents (article ids) or meetings (meeting ids) got, each
    one's articles in the order they came out."""
    rows = fetch_all(
        db.execute(
            "SELECT l.target_id, l.article_id, l.how, l.evidence, l.score, l.found, a.title, "
            "coalesce(a.canonical_url, a.url) AS url, a.source_id, a.published, a.first_seen "
            "FROM article_links l JOIN articles a ON a.article_id = l.article_id "
            f"WHERE l.target_id IN ({_marks(target_ids)}) "
            "ORDER BY coalesce(a.published, a.first_seen), a.article_id",
            target_ids,
        ),
        CoverageRow,
    )
    out: dict[str, list[CoverageRow]] = {t: [] for t in target_ids}
    for r in rows:
        out.setdefault(r.target_id, []).append(r)
    return out


@dataclass(frozen=True, slots=True)
class CitedRow:
    """A document (or meeting) a press article was linked to, with the document's own facts (none
    for a meeting, or a document no longer in the archive)."""

    target_kind: str
    target_id: str
    how: str
    evidence: str | None
    score: float | None
    found: str
    title: str | None
    url: str | None
    source_id: str | None
    kind: str | None
    published: str | None
    judgement: str | None


def cited_by(db: Database, article_id: str) -> list[CitedRow]:
    """The documents and meetings one article covers, in the order the links were found."""
    return fetch_all(
        db.execute(
            "SELECT l.target_kind, l.target_id, l.how, l.evidence, l.score, l.found, a.title, "
            "coalesce(a.canonical_url, a.url) AS url, a.source_id, a.kind, a.published, a.judgement "
            "FROM article_links l LEFT JOIN articles a ON a.article_id = l.target_id "
            "WHERE l.article_id = ? ORDER BY l.found, l.target_id",
            [article_id],
        ),
        CitedRow,
    )


@dataclass(frozen=True, slots=True)
class PlaceRow:
    """Where a document is on an agenda: its meeting, and its item (none for a meeting's own pack)."""

    meeting_id: str
    committee: str
    start: str | None
    status: str
    item_id: str | None
    item_number: str | None
    item_title: str | None
    document_title: str | None


def document_places(db: Database, article_ids: list[str]) -> dict[str, list[PlaceRow]]:
    """The meetings (and items) each of these archive entries is a paper of, by its address or a
    copy's, soonest meeting first; an article that is no meeting's paper has none."""
    rows = db.execute(
        "SELECT a.article_id, m.meeting_id, m.committee, m.start, m.status, d.item_id, "
        "i.number AS item_number, i.title AS item_title, d.title AS document_title "
        "FROM articles a JOIN meeting_documents d ON d.url_key = a.url_key "
        " OR d.url_key IN (SELECT al.url_key FROM article_aliases al WHERE al.article_id = a.article_id) "
        "JOIN meetings m ON m.meeting_id = d.meeting_id "
        "LEFT JOIN agenda_items i ON i.item_id = d.item_id "
        f"WHERE a.article_id IN ({_marks(article_ids)}) "
        "ORDER BY m.start, m.meeting_id, i.position, d.title",
        article_ids,
    ).fetchall()
    out: dict[str, list[PlaceRow]] = {a: [] for a in article_ids}
    for article_id, *place in rows:
        out.setdefault(article_id, []).append(PlaceRow(*place))
    return out


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What says whether an article is an official document: its kind and an Ofsted judgement."""

    article_id: str
    title: str | None
    source_id: str
    kind: str | None
    judgement: str | None
    published: str | None
    first_seen: str


def document_facts(db: Database, article_id: str) -> DocumentFacts | None:
    rows = fetch_all(
        db.execute(
            "SELECT article_id, title, source_id, kind, judgement, published, first_seen "
            "FROM articles WHERE article_id = ?",
            [article_id],
        ),
        DocumentFacts,
    )
    return rows[0] if rows else None


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One thing that changed in a meeting between crawls, and when carewatch saw it."""

    meeting_id: str
    item_id: str | None
    at: str
    change: str
    before: str | None
    after: str | None


def changes_seen(db: Database, meeting_id: str) -> list[ChangeRow]:
    """What changed in a meeting, in the order it was seen."""
    return fetch_all(
        db.execute(
            "SELECT meeting_id, item_id, at, change, before, after FROM meeting_changes "
            "WHERE meeting_id = ? ORDER BY id",
            [meeting_id],
        ),
        ChangeRow,
    )


@dataclass(frozen=True, slots=True)
class PaperFetch:
    """The last fetch of a paper's address."""

    url: str
    started: str
    status: str
    http_status: int | None
    error_kind: str | None
    error: str | None


def last_fetches(db: Database, source_id: str, urls: list[str]) -> dict[str, PaperFetch]:
    """The last fetch of each of these addresses by that source (the meeting's), by address."""
    if not urls:
        return {}
    rows = fetch_all(
        db.execute(
            "SELECT url, started, status, http_status, error_kind, error FROM fetches "
            f"WHERE source_id = ? AND url IN ({_marks(urls)}) ORDER BY started, id",
            [source_id, *urls],
        ),
        PaperFetch,
    )
    return {r.url: r for r in rows}  # the last one of each address wins
