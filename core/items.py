"""The records passed from scrapers through pipelines to the store.

Spiders yield two kinds of record: :class:`Article` (a fetched page, feed entry or PDF) and
:class:`Fetch` (one row of the fetch log, success or failure). Pipelines transform Articles with
``dataclasses.replace`` and pass Fetch records through untouched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


def utcnow() -> datetime:
    return datetime.now(UTC)


def utcnow_iso() -> str:
    return utcnow().isoformat(timespec="seconds")


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 date or timestamp as an aware datetime in UTC: a ``Z`` suffix or any offset is
    accepted, a time without one is taken to be UTC. Raises ValueError when it is not ISO-8601."""
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def article_id_for(url_key: str) -> str:
    """An article's id: stable, derived from its canonical URL key."""
    return hashlib.sha1(url_key.encode("utf-8")).hexdigest()[:16]


Evidence = tuple[str, int, tuple[int, ...]]  # (query term or rule, hits counted, word positions of the first hits)


def explain(evidence: tuple[Evidence, ...]) -> str:
    """'underspend*' ×3, '£11m cut' ×1: the evidence as a campaigner reads it."""
    return ", ".join(f"'{term}' ×{count}" for term, count, _ in evidence)


@dataclass(frozen=True, slots=True)
class TopicMatch:
    topic: str
    label: str
    score: float
    evidence: tuple[Evidence, ...]  # what counted, strongest first


@dataclass(frozen=True, slots=True)
class EntityMatch:
    entity: str
    name: str
    count: int
    evidence: tuple[Evidence, ...]  # which aliases matched


@dataclass(frozen=True, slots=True)
class Article:
    source_id: str
    url: str  # final URL as fetched (after redirects)
    fetched_at: str  # ISO-8601 UTC
    html: str = ""  # the page, decoded (not stored)
    body: bytes = b""  # raw bytes of a PDF (not stored)
    content_type: str = ""
    # metadata a feed entry or listing gave us before the page was fetched
    feed_title: str | None = None
    feed_author: str | None = None
    feed_published: str | None = None
    feed_summary: str | None = None
    guid: str | None = None
    # set by pipelines
    canonical_url: str = ""
    url_key: str = ""
    title: str = ""
    author: str | None = None  # the authors, joined for display
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO-8601
    text: str = ""
    kind: str = "html"  # html | pdf | feed-entry | document (a meeting's report, pack or minutes)
    outlinks: tuple[str, ...] = ()  # the page's links, absolute (pipelines.extract.outlinks)
    report: dict = field(default_factory=dict)  # an Ofsted report's judgement, inspection_dates, authority
    extraction: dict = field(default_factory=dict)  # field -> the path that produced it
    content_hash: str = ""
    minhash: bytes = b""  # MinHash signature of the text's word shingles (near-duplicate detection)
    shingles: int = 0  # how many distinct shingles the signature summarises
    samples: tuple[int, ...] = ()  # its sampled shingles' hashes (core.lsh.shingle_samples): containment candidates
    topics: tuple[TopicMatch, ...] = ()
    relevance: float = 0.0
    relevant: bool = False
    relevance_evidence: tuple[Evidence, ...] = ()  # why relevant, or why not (place, subject, veto)
    entities: tuple[EntityMatch, ...] = ()
    duplicate_of: str | None = None  # article_id this is a copy of
    # The page failed (too large, not HTML, a redirect loop...): this is what the feed said of it, kept
    # so nothing is lost, but not alerted until a later crawl reads the page (a feed-only source's
    # entries are not pending: the feed is all there is)
    page_pending: bool = False
    duplicate_reason: str | None = None
    # free-form; "capture": where the raw response is kept (scrapers.warc: warc_file, offset, length,
    # sha256, record_id, fetched, url, status, content_type), recorded by the store (store.captures)
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Fetch:
    """One fetch attempt: one row of the ``fetches`` table."""

    source_id: str
    url: str
    started_at: str
    status: str  # ok | not_modified | error
    role: str = "index"  # index (the source's feed or listing page) | article
    http_status: int | None = None
    bytes: int = 0
    duration_ms: int = 0
    items_found: int = 0  # links or entries the page listed
    items_new: int = 0  # of those, not stored before (fetched now)
    error_kind: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class MeetingDocument:
    """A document a meeting page links to (a report, an agenda pack, a supplementary pack, minutes)."""

    title: str
    url: str


@dataclass(frozen=True, slots=True)
class AgendaItem:
    number: str  # as printed: "7", "7a"
    title: str
    text: str = ""  # what the meeting page says of it (its summary or recommendation)
    documents: tuple[MeetingDocument, ...] = ()
    # set by the tag pipeline
    topics: tuple[TopicMatch, ...] = ()
    relevance: float = 0.0
    relevant: bool = False


@dataclass(frozen=True, slots=True)
class Meeting:
    """One meeting of a council committee, as its meeting page showed it (a ``cmis`` or
    ``moderngov`` source): spiders yield it, the tag pipeline tags its items, the store keeps it
    (store.meetings) and records what changed since the last crawl."""

    source_id: str
    external_id: str  # the meeting system's own id
    url: str
    committee: str
    start: str | None  # ISO-8601 in UTC, or a date (YYYY-MM-DD) when the page gives no time
    status: str  # scheduled | cancelled | moved | held
    fetched_at: str
    status_text: str | None = None  # as printed
    venue: str | None = None
    items: tuple[AgendaItem, ...] = ()
    documents: tuple[MeetingDocument, ...] = ()  # the meeting's own: agenda pack, supplements, minutes
    published_note: str | None = None  # "Agenda republished …", as printed
    authority: str | None = None  # the council, from the source's name

    @property
    def meeting_id(self) -> str:
        return f"{self.source_id}:{self.external_id}"


class SeenIndex(Protocol):
    """What de-duplication needs to know about what is already stored. The store implements it."""

    def article_for_url(self, url_key: str) -> tuple[str, str] | None:
        """(article_id, content_hash) of the article stored under this URL key, if any."""

    def article_for_hash(self, content_hash: str) -> str | None:
        """article_id of an article with exactly this normalised text, if any."""

    def near_candidates(self, keys: list[int]) -> list[tuple[str, str, str]]:
        """(article_id, source_id, text) of stored articles sharing an LSH band key."""

    def contained_candidates(self, samples: tuple[int, ...]) -> list[tuple[str, str, str]]:
        """(article_id, source_id, text) of stored articles sharing most of the smaller text's sampled
        shingles with these (core.lsh.contained_candidate): one may be inside the other."""


class CrawlState(Protocol):
    """What a spider may remember between crawls. The store implements it."""

    def is_stored(self, url_key: str) -> bool:
        """True if a page with this URL key is stored (as an article or an alias) and was read:
        an entry kept from the feed because its page failed is fetched again."""

    def pending_pages(self, source_id: str, days: int) -> list[tuple[str, dict]]:
        """(URL, what the feed said: title, author, published, summary) of this source's entries
        whose page failed, first seen in the last `days` days: they are fetched again."""

    def recent_pages(self, source_id: str, days: int) -> list[tuple[str, dict]]:
        """This source's articles first seen in the last `days` days (to look for edits): each URL
        with the feed entry's fields the stored article took (title, published, author), so a
        revisit is extracted as the first fetch was and only a change of text makes a version."""

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) saved for this URL, or (None, None)."""

    def save_validators(self, url: str, etag: str | None, last_modified: str | None) -> None: ...

    def backfill_resume(self, source_id: str, since: str) -> str | None:
        """The next archive page a back-fill of this source to `since` had reached, if unfinished."""

    def backfill_progress(self, source_id: str, since: str, next_url: str | None, pages: int) -> None:
        """Record that `pages` more archive pages are done and the walk goes on at `next_url`
        (None: the back-fill finished)."""
