"""Stories: articles from different outlets about one event, grouped under one story id, so a
digest shows one entry with all its coverage.

Two articles belong to one story when they come from different sources, were published within a
few days of each other, and share enough *distinctive* names and figures (capitalised names,
acronyms, sums and counts in the headline and opening), weighted by how rare each term is in the
archive (IDF kept in ``story_df``). Hand-written because clustering libraries want every vector in
memory; this asks SQLite for the few articles of the same days.

The thresholds (settings ``story_window_days``, ``story_similarity``) were set on the demo site's
known stories only: they are a first cut, to be measured on a labelled set.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta

from sqlite_utils import Database

_STOP = set("the a an and of in on for to at by with from this that it its is was are were be as but or not "
            "he she they we you our their his her mr mrs ms dr sir cllr said says new".split())
_TERM = re.compile(r"\b([A-Z][a-z’']+(?:\s+[A-Z][a-z’']+)*|[A-Z]{2,}|£?\d[\d,.]*(?:m|bn|%)?)")


def story_terms(title: str, text: str) -> set[str]:
    """The distinctive names and figures of an article's headline and opening."""
    out = set()
    for m in _TERM.finditer(f"{title}. {(text or '')[:1500]}"):
        term = " ".join(m.group(1).split()).lower()
        if term not in _STOP and len(term) > 2:
            out.add(term)
    return out


def _document_frequencies(db: Database, terms: set[str]) -> dict[str, int]:
    """How many articles use each term, in one look-up per 500 terms rather than one per pair."""
    out: dict[str, int] = {}
    listed = sorted(terms)
    for i in range(0, len(listed), 500):
        chunk = listed[i : i + 500]
        marks = ",".join("?" * len(chunk))
        out.update(db.execute(f"SELECT term, df FROM story_df WHERE term IN ({marks})", chunk).fetchall())
    return out


def assign_story(db: Database, article_id: str, source_id: str, when: str | None, terms: set[str],
                 window_days: int, threshold: float) -> str:
    """The story this new article belongs to (its own id when none), and record its terms."""
    db.conn.executemany("INSERT INTO story_df (term, df) VALUES (?, 1) ON CONFLICT(term) DO UPDATE SET df = df + 1",
                        [(t,) for t in terms])
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
                "SELECT article_id, story_id, story_terms FROM articles WHERE published BETWEEN ? AND ? "
                "AND source_id != ? AND article_id != ? AND story_terms IS NOT NULL "
                "UNION SELECT article_id, story_id, story_terms FROM articles WHERE published IS NULL "
                "AND first_seen BETWEEN ? AND ? AND source_id != ? AND article_id != ? AND story_terms IS NOT NULL",
                [lo, hi, source_id, article_id, lo, hi, source_id, article_id],
            ).fetchall()
            matched: set[str] = set()
            candidates = [(other_id, other_story, set(json.loads(other_terms)))
                          for other_id, other_story, other_terms in rows]
            df = _document_frequencies(db, set().union(terms, *(c[2] for c in candidates)))
            weight = {t: math.log(1 + total / df.get(t, 1)) for t in df} | {t: math.log(1 + total) for t in terms
                                                                             if t not in df}
            for other_id, other_story, others in candidates:
                union = terms | others
                denominator = sum(weight.get(t, 0.0) for t in union)
                if denominator and sum(weight.get(t, 0.0) for t in terms & others) / denominator >= threshold:
                    matched.add(other_story or other_id)
            if matched:
                # The article may bridge stories seen apart so far: they become one (under the smallest id).
                story = min(matched)
                others = sorted(matched - {story})
                if others:
                    marks = ",".join("?" * len(others))
                    db.execute(f"UPDATE articles SET story_id = ? WHERE story_id IN ({marks})", [story, *others])
    db.execute("UPDATE articles SET story_id = ?, story_terms = ? WHERE article_id = ?",
               [story, json.dumps(sorted(terms)), article_id])
    return story
