"""``carewatch dedup explain``: why two articles were merged or kept apart."""

from __future__ import annotations

from sqlite_utils import Database

from carewatch.config.schema import Config
from carewatch.core.errors import CarewatchError
from carewatch.core.urls import url_key
from carewatch.pipelines.dedupe import MIN_SHINGLES, exact_similarity


def _find(db: Database, ref: str) -> tuple[dict, str | None]:
    """An article by id or URL, and the alias reason when the URL is a copy's."""
    row = db.execute("SELECT * FROM articles WHERE article_id = ?", [ref]).fetchone()
    cols = [c[1] for c in db.execute("PRAGMA table_info(articles)").fetchall()]
    if row:
        return dict(zip(cols, row)), None
    key = url_key(ref) if ref.startswith(("http://", "https://")) else ref
    row = db.execute("SELECT * FROM articles WHERE url_key = ?", [key]).fetchone()
    if row:
        return dict(zip(cols, row)), None
    alias = db.execute("SELECT article_id, reason FROM article_aliases WHERE url_key = ?", [key]).fetchone()
    if alias:
        row = db.execute("SELECT * FROM articles WHERE article_id = ?", [alias[0]]).fetchone()
        return dict(zip(cols, row)), alias[1]
    raise CarewatchError(f"{ref}: no stored article or copy has this id or URL")


def explain(config: Config, db: Database, first: str, second: str | None = None) -> list[str]:
    a, a_alias = _find(db, first)
    if second is None:
        lines = [f"{a['article_id']}: {a['title']} ({a['canonical_url']})"]
        if a_alias:
            lines.insert(0, f"{first} is not stored as an article of its own: {a_alias}; it is recorded as a copy of:")
        for url, reason in db.execute("SELECT url, reason FROM article_aliases WHERE article_id = ?", [a["article_id"]]):
            lines.append(f"  also at {url}: {reason}")
        for version, changed, seen in db.execute(
                "SELECT version, changed, seen FROM article_versions WHERE article_id = ? ORDER BY version",
                [a["article_id"]]):
            lines.append(f"  version {version} replaced on {seen[:10]}" +
                         (f": {changed:.0%} of words changed" if changed is not None else ""))
        return lines
    b, _ = _find(db, second)
    if a["article_id"] == b["article_id"]:
        return [f"one article: both are {a['article_id']} ({a['title']})"]
    s = config.settings
    lines = [f"A {a['article_id']}: {a['title']} [{a['source_id']}]", f"B {b['article_id']}: {b['title']} [{b['source_id']}]"]
    if a["content_hash"] == b["content_hash"]:
        lines.append("same normalised text: would be one article")
        return lines
    if min(a["shingles"] or 0, b["shingles"] or 0) < MIN_SHINGLES:
        lines.append(f"kept apart: a text under {MIN_SHINGLES} word shingles is compared exactly only")
        return lines
    j, overlap = exact_similarity(a["text"], b["text"])
    lines.append(f"similarity {j:.2f} (threshold {s.near_duplicate_similarity:.2f}), "
                 f"share of the shorter text in the longer {overlap:.2f} (threshold {s.near_duplicate_overlap:.2f}), "
                 "on word 3-shingles")
    if j >= s.near_duplicate_similarity or overlap >= s.near_duplicate_overlap:
        kind = "an edited version" if a["source_id"] == b["source_id"] else "a near copy"
        lines.append(f"would be merged: the later one is {kind} of the earlier")
    else:
        lines.append("kept apart: below both thresholds (different stories, or different coverage of one)")
    return lines
