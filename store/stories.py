"""Stories: articles from different outlets about one event, grouped under one story id, so a
digest shows one entry with all its coverage.

Two articles belong to one story when they come from different sources, were published within a
few days of each other, and their headlines and openings are close: the cosine of their sets of
names, figures and words, each weighted by how rare it is in the archive (IDF, document
frequencies kept in ``story_df``). Rare names and words shared by two headlines and leads are what
tells one event from another on the same beat; common words weigh almost nothing. Hand-written
because clustering libraries want every vector in memory at once; this asks SQLite for the few
articles of the same days, and keeps the document frequencies and term sets it has read in a small
per-connection cache.

Settings ``story_window_days`` and ``story_similarity``; between ``story_related_similarity`` and
it, two articles are only related (one subject, perhaps another event: "Ofsted rates the Trust
inadequate" and "the Trust's chief executive resigns"), recorded in ``story_related`` so digests
show both, each naming the other, rather than hide one under the other. What each headline
reports (``story_events``: "declares bankruptcy", "commissioners take over", "jailed", "sentences
to be reviewed") then decides between the two (``story_verdict``): sharing an event makes related
articles one story; reporting different ones keeps similar articles only related, unless they are
alike beyond doubt (``story_certain_similarity``). The events are kept with the terms, as
``event:<id>``, and weigh nothing in the similarity. ``bench/dedup.py`` and
``bench/real_pairs.py`` (real pairs, a tuned and a held-out part) measure the grouping.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Set
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlite_utils import Database

from carewatch.config.schema import Settings
from carewatch.core.query import Document, matches

_STOP = set(
    "the a an and of in on for to at by with from this that it its is was are were be as but or not "
    "he she they we you our their his her mr mrs ms dr sir cllr said says new has have had will would "
    "been being which who what when where there here than then them these those into over also more "
    "after before about could should just only other some such very most many much your".split()
)
_TERM = re.compile(r"\b([A-Z][a-z’']+(?:\s+[A-Z][a-z’']+)*|[A-Z]{2,}|£?\d[\d,.]*(?:m|bn|%)?)")
_WORD = re.compile(r"[^\W\d_][\w’'-]{3,}")
OPENING = 1500  # characters of the text read after the headline


def story_terms(title: str, text: str) -> set[str]:
    """The names, figures and words of an article's headline and opening."""
    head = f"{title}. {(text or '')[:OPENING]}"
    out = {w.lower() for w in _WORD.findall(head)}
    for m in _TERM.finditer(head):
        out.add(" ".join(m.group(1).split()).lower())
    return {t for t in out if t not in _STOP and len(t) > 2}


EVENT = "event:"  # a story term naming what the headline reports, not a word of it


def story_events(title: str, settings: Settings) -> set[str]:
    """What a headline reports: ``event:<id>`` for each of ``settings.story_events`` it matches, of
    each of ``story_event_sequences`` only the latest step it names."""
    doc = Document(title or "")
    found = {eid for eid, query in settings.story_events.items() if matches(query, doc).matched}
    for sequence in settings.story_event_sequences:
        named = [e for e in sequence if e in found]
        found -= set(named[:-1])
    return {EVENT + eid for eid in found}


def days_between(a: str | None, b: str | None) -> int | None:
    """Calendar days between two ISO dates or times (None when either is missing or unreadable)."""
    try:
        return abs((date.fromisoformat((a or "")[:10]) - date.fromisoformat((b or "")[:10])).days)
    except ValueError:
        return None


def _words(terms: Set[str]) -> set[str]:
    return {t for t in terms if not t.startswith(EVENT)}


def _events(terms: Set[str]) -> set[str]:
    return {t for t in terms if t.startswith(EVENT)}


Verdict = Literal["story", "related"] | None


def story_verdict(
    similarity_: float, terms_a: Set[str], terms_b: Set[str], settings: Settings, days_apart: int = 0
) -> Verdict:
    """One story, related, or neither (None), for two articles of different sources inside the
    window: their similarity, what their headlines report (the ``event:`` terms), and how many
    calendar days apart they came out (each beyond the first adds ``story_similarity_per_day`` to the
    similarity one story needs). The one decision: ``assign_story``, ``dedup explain`` and the
    benchmarks ask it."""
    ea, eb = _events(terms_a), _events(terms_b)
    different = bool(ea and eb and not ea & eb)  # each reports an event, not the same one
    later = settings.story_similarity_per_day * max(0, days_apart - 1)
    if similarity_ >= settings.story_certain_similarity + later:
        return "story"
    if similarity_ >= settings.story_similarity + later:
        return "related" if different else "story"
    if similarity_ >= settings.story_related_similarity:
        return "story" if ea & eb else "related"
    return None


class _Cache:
    """Document frequencies and stored term sets read during one process's writes to one connection."""

    def __init__(self, conn: object) -> None:
        self.conn = conn
        self.df: dict[str, int] = {}
        self.terms: dict[str, frozenset[str]] = {}


_cache = _Cache(None)


def _cached(db: Database) -> _Cache:
    global _cache
    if _cache.conn is not db.conn:
        _cache = _Cache(db.conn)
    return _cache


def _document_frequencies(db: Database, terms: set[str]) -> dict[str, int]:
    """How many articles use each term: from the cache, the rest in one look-up per 500 terms."""
    cache = _cached(db)
    missing = sorted(t for t in terms if t not in cache.df)
    for i in range(0, len(missing), 500):
        chunk = missing[i : i + 500]
        marks = ",".join("?" * len(chunk))
        found = dict(db.execute(f"SELECT term, df FROM story_df WHERE term IN ({marks})", chunk).fetchall())
        cache.df.update({t: found.get(t, 0) for t in chunk})
    return {t: cache.df[t] for t in terms}


def similarity(a: Set[str], b: Set[str], weight: dict[str, float]) -> float:
    """IDF-weighted cosine of two term sets (their ``event:`` terms left out)."""
    a, b = _words(a), _words(b)
    shared = sum(weight[t] ** 2 for t in a & b)
    if not shared:
        return 0.0
    return shared / math.sqrt(sum(weight[t] ** 2 for t in a) * sum(weight[t] ** 2 for t in b))


def assign_story(
    db: Database, article_id: str, source_id: str, when: str | None, terms: set[str], settings: Settings
) -> str:
    """The story this new article belongs to (its own id when none), and record its terms
    (``story_terms`` and ``story_events``). An article of another source within
    ``story_window_days`` is joined or recorded as related (``story_related``: one subject, maybe
    another event) as ``story_verdict`` says."""
    cache = _cached(db)
    window_days = settings.story_window_days
    counted = _words(terms)
    db.conn.executemany(
        "INSERT INTO story_df (term, df) VALUES (?, 1) ON CONFLICT(term) DO UPDATE SET df = df + 1",
        [(t,) for t in counted],
    )
    for t in counted:
        if t in cache.df:
            cache.df[t] += 1
    story = article_id
    if when and terms:
        try:
            day = datetime.fromisoformat(when[:19] if len(when) >= 19 else when[:10])
        except ValueError:
            day = None
        if day is not None:
            lo = (day - timedelta(days=window_days)).date().isoformat()
            hi = (day + timedelta(days=window_days + 1)).date().isoformat()
            total = max(1, db.execute("SELECT max(rowid) FROM articles").fetchone()[0] or 1)  # O(1), near enough
            # Two indexed range look-ups (an expression over both columns could use neither index).
            rows = db.execute(
                "SELECT article_id, story_id, published FROM articles WHERE published BETWEEN ? AND ? "
                "AND source_id != ? AND article_id != ? AND story_terms IS NOT NULL "
                "UNION SELECT article_id, story_id, first_seen FROM articles WHERE published IS NULL "
                "AND first_seen BETWEEN ? AND ? AND source_id != ? AND article_id != ? AND story_terms IS NOT NULL",
                [lo, hi, source_id, article_id, lo, hi, source_id, article_id],
            ).fetchall()
            unread = [r[0] for r in rows if r[0] not in cache.terms]
            for i in range(0, len(unread), 500):
                chunk = unread[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for other_id, other_terms in db.execute(
                    f"SELECT article_id, story_terms FROM articles WHERE article_id IN ({marks})", chunk
                ):
                    cache.terms[other_id] = frozenset(json.loads(other_terms))
            candidates = [
                (other_id, other_story, cache.terms[other_id], when_) for other_id, other_story, when_ in rows
            ]
            df = _document_frequencies(db, _words(set().union(terms, *(c[2] for c in candidates))))
            weight = {t: math.log(1 + total / max(1, n)) for t, n in df.items()}
            matched: set[str] = set()
            related: list[tuple[str, float]] = []
            for other_id, other_story, others, other_when in candidates:
                sim = similarity(terms, others, weight)
                verdict = story_verdict(sim, terms, others, settings, days_between(when, other_when) or 0)
                if verdict == "story":
                    matched.add(other_story or other_id)
                elif verdict == "related":
                    related.append((other_id, sim))
            db.conn.executemany(
                "INSERT OR REPLACE INTO story_related (article_id, related_id, similarity) VALUES (?, ?, ?)",
                [(a, b, sim) for other_id, sim in related for a, b in ((article_id, other_id), (other_id, article_id))],
            )
            if matched:
                # The article may bridge stories seen apart so far: they become one (under the smallest id).
                story = min(matched)
                merged = sorted(matched - {story})
                if merged:
                    marks = ",".join("?" * len(merged))
                    db.execute(f"UPDATE articles SET story_id = ? WHERE story_id IN ({marks})", [story, *merged])
    db.execute(
        "UPDATE articles SET story_id = ?, story_terms = ? WHERE article_id = ?",
        [story, json.dumps(sorted(terms)), article_id],
    )
    cache.terms[article_id] = frozenset(terms)
    if len(cache.terms) > 50_000:
        cache.terms.clear()
    if len(cache.df) > 500_000:
        cache.df.clear()
    return story


@dataclass(frozen=True, slots=True)
class StoryPair:
    """Why two stored articles are, or are not, one story (``carewatch dedup explain A B``)."""

    similarity: float
    shared: tuple[str, ...]  # the shared terms that weigh most
    days_apart: int | None  # calendar days
    same_source: bool
    same_story: bool  # they are in one story now
    events_a: tuple[str, ...] = ()  # what each headline reports (Settings.story_events ids)
    events_b: tuple[str, ...] = ()

    def terms(self, which: str) -> set[str]:
        """The pair's event terms of one side ("a" or "b"), as ``story_verdict`` reads them."""
        return {EVENT + e for e in (self.events_a if which == "a" else self.events_b)}


def story_pair(db: Database, a: str, b: str) -> StoryPair | None:
    """The story similarity of two stored articles, on their recorded terms and the archive's
    document frequencies (as assign_story computed it, give or take the frequencies since)."""
    rows = {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT article_id, story_terms, story_id, source_id, coalesce(published, first_seen) FROM articles "
            "WHERE article_id IN (?, ?)",
            [a, b],
        ).fetchall()
    }
    if a not in rows or b not in rows:
        return None
    ta, tb = (frozenset(json.loads(rows[x][0] or "[]")) for x in (a, b))
    total = max(1, db.execute("SELECT max(rowid) FROM articles").fetchone()[0] or 1)
    df = _document_frequencies(db, _words(ta | tb))
    weight = {t: math.log(1 + total / max(1, n)) for t, n in df.items()}
    shared = sorted(_words(ta & tb), key=lambda t: -weight[t])[:8]
    days = days_between(rows[a][3], rows[b][3])
    return StoryPair(
        similarity(ta, tb, weight),
        tuple(shared),
        days,
        rows[a][2] == rows[b][2],
        (rows[a][1] or a) == (rows[b][1] or b),
        tuple(sorted(e.removeprefix(EVENT) for e in _events(ta))),
        tuple(sorted(e.removeprefix(EVENT) for e in _events(tb))),
    )


@dataclass(frozen=True, slots=True)
class RelatedArticle:
    article_id: str
    related_id: str
    title: str | None
    url: str
    source_id: str


def related_of(db: Database, article_ids: list[str]) -> dict[str, list[RelatedArticle]]:
    """The articles related to each of these (``story_related``), nearest first."""
    marks = ", ".join("?" for _ in article_ids) or "NULL"
    out: dict[str, list[RelatedArticle]] = {}
    for row in db.execute(
        "SELECT r.article_id, r.related_id, a.title, coalesce(a.canonical_url, a.url), a.source_id "
        f"FROM story_related r JOIN articles a ON a.article_id = r.related_id WHERE r.article_id IN ({marks}) "
        "ORDER BY r.similarity DESC",
        article_ids,
    ).fetchall():
        out.setdefault(row[0], []).append(RelatedArticle(*row))
    return out
