"""The civic calendar as `carewatch serve` shows it: a meeting's page (its items in order, each with
its papers, each paper with the archive entry holding its text, or why it was not read, and the
press coverage it got; what changed between crawls), and an article's links (a document's place on
an agenda and its coverage; the documents a press article cites). Each function opens the archive
read-only, a connection of its own (as the evidence pack does: the routes run them off the event
loop), and returns typed results; the queries are store.meetings' and store.meeting_pages'."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlite_utils import Database

from carewatch.store.db import open_db
from carewatch.store.meeting_pages import (
    ChangeRow,
    CitedRow,
    CoverageRow,
    DocumentFacts,
    PaperFetch,
    PlaceRow,
    changes_seen,
    cited_by,
    coverage_of,
    document_facts,
    document_places,
    last_fetches,
)
from carewatch.store.meetings import DocumentRow, ItemRow, MeetingRow, documents_of, items_of, meeting

__all__ = [
    "ArticleLinks",
    "ChangeRow",
    "Citation",
    "CitedRow",
    "CoverageRow",
    "DocumentCoverage",
    "MeetingItem",
    "MeetingPage",
    "Paper",
    "PaperFetch",
    "PlaceRow",
    "article_citations",
    "article_links",
    "document_coverage",
    "meeting_page",
]


@dataclass(frozen=True)
class Paper:
    """One of a meeting's documents: where the council publishes it, the archive entry holding its
    text (None: not read, ``fetch`` saying why when its last fetch failed), and its coverage."""

    title: str | None
    url: str
    article_id: str | None
    fetch: PaperFetch | None
    coverage: list[CoverageRow]

    @property
    def failed(self) -> bool:
        """Not read because its last fetch failed (else not fetched yet)."""
        return self.article_id is None and self.fetch is not None and self.fetch.status == "error"


@dataclass(frozen=True)
class MeetingItem:
    item: ItemRow
    papers: list[Paper]
    changes: list[ChangeRow]  # its papers added or changed


@dataclass(frozen=True)
class MeetingPage:
    """A meeting with its agenda: the items in order with their papers, the meeting's own papers
    (agenda pack, supplements, minutes), what changed in it (the meeting's own changes: moved,
    status, agenda republished, papers added to the meeting), and the press articles linked to the
    meeting itself."""

    meeting: MeetingRow
    items: list[MeetingItem]
    papers: list[Paper]
    changes: list[ChangeRow]
    coverage: list[CoverageRow]

    @property
    def all_changes(self) -> list[ChangeRow]:
        return sorted([*self.changes, *(c for i in self.items for c in i.changes)], key=lambda c: c.at)


T = TypeVar("T")


def _read(db_path: str | os.PathLike[str], read: Callable[[Database], T]) -> T:
    """``read`` on the archive opened read-only, closed after."""
    db = open_db(db_path, read_only=True)
    try:
        return read(db)
    finally:
        db.close()


def meeting_page_in(db: Database, meeting_id: str) -> MeetingPage | None:
    """:func:`meeting_page` on an open archive."""
    m = meeting(db, meeting_id)
    if m is None:
        return None
    items = items_of(db, meeting_id)
    documents = documents_of(db, meeting_id)
    coverage = coverage_of(db, [meeting_id, *(d.article_id for d in documents if d.article_id)])
    fetches = last_fetches(db, m.source_id, [d.url for d in documents if d.article_id is None])
    changes = changes_seen(db, meeting_id)

    def paper(d: DocumentRow) -> Paper:
        return Paper(
            d.title,
            d.url,
            d.article_id,
            fetches.get(d.url) if d.article_id is None else None,
            coverage.get(d.article_id, []) if d.article_id else [],
        )

    return MeetingPage(
        meeting=m,
        items=[
            MeetingItem(
                i,
                [paper(d) for d in documents if d.item_id == i.item_id],
                [c for c in changes if c.item_id == i.item_id],
            )
            for i in items
        ],
        papers=[paper(d) for d in documents if d.item_id is None or d.item_id not in {i.item_id for i in items}],
        changes=[c for c in changes if c.item_id is None or c.item_id not in {i.item_id for i in items}],
        coverage=coverage.get(meeting_id, []),
    )


def meeting_page(db_path: str | os.PathLike[str], meeting_id: str) -> MeetingPage | None:
    """The meeting ``meeting_id`` (``<source>:<the meeting system's id>``) with its agenda, papers,
    coverage and changes; None when there is no such meeting."""
    return _read(db_path, lambda db: meeting_page_in(db, meeting_id))


@dataclass(frozen=True)
class DocumentCoverage:
    """An official document (a meeting's paper, an Ofsted report) or any article press articles
    were linked to: where it sits on agendas and the coverage it got (empty: none found yet)."""

    document: DocumentFacts
    places: list[PlaceRow]
    coverage: list[CoverageRow]


def document_coverage_in(db: Database, article_id: str) -> DocumentCoverage | None:
    facts = document_facts(db, article_id)
    if facts is None:
        return None
    places = document_places(db, [article_id])[article_id]
    coverage = coverage_of(db, [article_id])[article_id]
    official = facts.kind == "document" or bool(facts.judgement) or bool(places)
    if not (official or coverage):
        return None
    return DocumentCoverage(facts, places, coverage)


def document_coverage(db_path: str | os.PathLike[str], article_id: str) -> DocumentCoverage | None:
    """The coverage of the archive entry ``article_id`` when it is an official document (kind
    ``document``, a meeting's paper, an Ofsted report with its judgement) or has coverage; None
    for a press article nothing links to, or no such article. (Whether a source is official is the
    config's to say, which the archive's pages do not read: an official source's statement shows
    here once it has coverage.)"""
    return _read(db_path, lambda db: document_coverage_in(db, article_id))


@dataclass(frozen=True)
class Citation:
    """A document (or meeting) an article covers: the link, where the document sits on agendas,
    and the meeting when the link is to a meeting."""

    link: CitedRow
    places: list[PlaceRow] = field(default_factory=list)
    meeting: MeetingRow | None = None


def article_citations_in(db: Database, article_id: str) -> list[Citation]:
    links = cited_by(db, article_id)
    places = document_places(db, [c.target_id for c in links if c.target_kind == "document"])
    return [
        Citation(
            c,
            places.get(c.target_id, []) if c.target_kind == "document" else [],
            meeting(db, c.target_id) if c.target_kind == "meeting" else None,
        )
        for c in links
    ]


def article_citations(db_path: str | os.PathLike[str], article_id: str) -> list[Citation]:
    """The documents and meetings the article ``article_id`` was linked to (article_links), how
    each link was found, in the order they were found; none for an article that cites nothing."""
    return _read(db_path, lambda db: article_citations_in(db, article_id))


@dataclass(frozen=True)
class ArticleLinks:
    """What an article's page shows of article_links: its coverage, when it is an official
    document (or has coverage), and the documents it cites."""

    coverage: DocumentCoverage | None
    cites: list[Citation]


def article_links(db_path: str | os.PathLike[str], article_id: str) -> ArticleLinks:
    """:func:`document_coverage` and :func:`article_citations` of one article, on one connection."""
    return _read(
        db_path, lambda db: ArticleLinks(document_coverage_in(db, article_id), article_citations_in(db, article_id))
    )
