"""``carewatch dedup explain``: why an article has the copies and versions it has, or why two
articles were merged or kept apart."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlite_utils import Database

from carewatch.config.schema import Config
from carewatch.core.urls import url_key
from carewatch.pipelines.dedupe import MIN_SHINGLES, exact_similarity, is_near_copy
from carewatch.store.articles import (
    ArticleCopy,
    ReplacedVersion,
    StoredArticle,
    article_copies,
    find_article,
    replaced_versions,
    stored_article,
)


@dataclass(frozen=True)
class ExplainedArticle:
    article_id: str
    title: str | None
    source_id: str
    canonical_url: str | None

    @classmethod
    def of(cls, a: StoredArticle) -> ExplainedArticle:
        return cls(a.article_id, a.title, a.source_id, a.canonical_url)


@dataclass(frozen=True)
class Explanation:
    """One article (``second`` None): how the reference found it, its copies (``current``: the
    address it is now at) and the versions it replaced. Two: the verdict on them, with the
    similarity and overlap against the thresholds when they were compared. ``lines``: the same in
    words, as ``carewatch dedup explain`` prints it."""

    first: ExplainedArticle
    second: ExplainedArticle | None = None
    found_via: str = "id"  # how the first reference found its article: id, url, copy (an alias) or capture
    alias_reason: str | None = None  # found_via "copy": why that URL is recorded as a copy
    copies: list[ArticleCopy] = field(default_factory=list)
    versions: list[ReplacedVersion] = field(default_factory=list)
    # two articles: "one article", "same text", "too short", "would be merged" or "kept apart"
    verdict: str | None = None
    similarity: float | None = None
    overlap: float | None = None
    similarity_threshold: float | None = None
    overlap_threshold: float | None = None
    lines: list[str] = field(default_factory=list)


def explain(config: Config, db: Database, first: str, second: str | None = None) -> Explanation:
    found = find_article(db, first)
    a = stored_article(db, found.article_id)
    if second is None:
        copies, versions = article_copies(db, a.article_id), replaced_versions(db, a.article_id)
        lines = [f"{a.article_id}: {a.title} ({a.canonical_url})"]
        at_own = found.via == "copy" and any(c.current and url_key(c.url) == url_key(first) for c in copies)
        if found.via == "copy" and not at_own:  # a copy's URL; the address it is now at is its own
            lines.insert(
                0, f"{first} is not stored as an article of its own: {found.alias_reason}; it is recorded as a copy of:"
            )
        for c in copies:
            if c.current:  # the edition it is now at, not another address (store.articles.AT_OWN_ADDRESS)
                lines.append(f"  now at {c.url}, its own address: {c.reason} that replaced its earlier text")
            else:
                lines.append(f"  also at {c.url}: {c.reason}")
        lines += [
            f"  version {v.version} replaced on {v.seen[:10]}"
            + (f": {v.changed:.0%} of words changed" if v.changed is not None else "")
            for v in versions
        ]
        return Explanation(
            ExplainedArticle.of(a),
            found_via=found.via,
            alias_reason=found.alias_reason,
            copies=copies,
            versions=versions,
            lines=lines,
        )
    b = stored_article(db, find_article(db, second).article_id)
    pair = {"first": ExplainedArticle.of(a), "second": ExplainedArticle.of(b), "found_via": found.via}
    if a.article_id == b.article_id:
        return Explanation(**pair, verdict="one article", lines=[f"one article: both are {a.article_id} ({a.title})"])
    s = config.settings
    lines = [f"A {a.article_id}: {a.title} [{a.source_id}]", f"B {b.article_id}: {b.title} [{b.source_id}]"]
    if a.content_hash == b.content_hash:
        return Explanation(**pair, verdict="same text", lines=[*lines, "same normalised text: would be one article"])
    if min(a.shingles or 0, b.shingles or 0) < MIN_SHINGLES:
        lines.append(f"kept apart: a text under {MIN_SHINGLES} word shingles is compared exactly only")
        return Explanation(**pair, verdict="too short", lines=lines)
    j, overlap = exact_similarity(a.text, b.text)
    lines.append(
        f"similarity {j:.2f} (threshold {s.near_duplicate_similarity:.2f}), "
        f"share of the shorter text in the longer {overlap:.2f} (threshold {s.near_duplicate_overlap:.2f}), "
        "on word 3-shingles"
    )
    merged = is_near_copy(s, j, overlap)
    if merged:
        kind = "an edited version" if a.source_id == b.source_id else "a near copy"
        lines.append(f"would be merged: the later one is {kind} of the earlier")
    else:
        lines.append("kept apart: below both thresholds (different stories, or different coverage of one)")
    return Explanation(
        **pair,
        verdict="would be merged" if merged else "kept apart",
        similarity=j,
        overlap=overlap,
        similarity_threshold=s.near_duplicate_similarity,
        overlap_threshold=s.near_duplicate_overlap,
        lines=lines,
    )
