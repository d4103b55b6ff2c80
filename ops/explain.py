"""``carewatch dedup explain``: why an article has the copies and versions it has, or why two
articles were merged or kept apart."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlite_utils import Database

from carewatch.config.schema import Config
from carewatch.core.urls import url_key
from carewatch.pipelines.dedupe import MIN_SHINGLES, is_near_copy, near_copy_of
from carewatch.store.articles import (
    ArticleCopy,
    ReplacedVersion,
    StoredArticle,
    article_copies,
    find_article,
    replaced_versions,
    stored_article,
)
from carewatch.store.stories import story_pair, story_verdict


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
    sentences_aligned: float | None = None  # worked out when the shingles alone keep them apart
    sentences_threshold: float | None = None
    lines: list[str] = field(default_factory=list)


def story_lines(config: Config, db: Database, a: StoredArticle, b: StoredArticle) -> list[str]:
    """Whether two articles are one story, and why, in words (store.stories)."""
    s = config.settings
    pair = story_pair(db, a.article_id, b.article_id)
    if pair is None:
        return []
    shared = ", ".join(repr(t) for t in pair.shared) or "none"
    how = f"story similarity {pair.similarity:.3f} (one story from {s.story_similarity:.3f}, related from "
    how += (
        f"{s.story_related_similarity:.3f}, one story whatever the headlines from {s.story_certain_similarity:.3f}; "
        f"each day apart beyond the first adds {s.story_similarity_per_day:.3f}; "
        f"they are {pair.days_apart} day(s) apart); "
    )
    how += f"the terms they share that weigh most: {shared}"
    events = (
        f"what the headlines report: A {', '.join(pair.events_a) or 'nothing the story events name'}; "
        f"B {', '.join(pair.events_b) or 'nothing the story events name'}"
    )
    rule = story_verdict(pair.similarity, pair.terms("a"), pair.terms("b"), s, pair.days_apart or 0)
    both, different = set(pair.events_a) & set(pair.events_b), pair.events_a and pair.events_b
    later = s.story_similarity_per_day * max(0, (pair.days_apart or 0) - 1)
    if pair.same_story:
        verdict = "one story: the digest shows one entry, the other as its coverage"
    elif pair.same_source:
        verdict = "not one story: one source's articles are never grouped (each is its own)"
    elif pair.days_apart is not None and pair.days_apart > s.story_window_days:
        verdict = f"not one story: {pair.days_apart} days apart (coverage of one story within {s.story_window_days})"
    elif rule == "related" and different and not both and pair.similarity >= s.story_similarity + later:
        verdict = "related, not one story: alike, but their headlines report different events; the digest shows both"
    elif rule == "related":
        verdict = "related, not one story: the digest shows both, each naming the other"
    elif rule == "story":
        verdict = "one story by the rule now, but not grouped when stored (word frequencies or settings changed since)"
    else:
        verdict = "different stories"
    return [how, events, verdict]


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
        lines += story_lines(config, db, a, b)
        lines.append(f"kept apart: a text under {MIN_SHINGLES} word shingles is compared exactly only")
        return Explanation(**pair, verdict="too short", lines=lines)
    lines += story_lines(config, db, a, b)
    merged, j, overlap, aligned = near_copy_of(s, a.text, b.text, a.source_id == b.source_id)
    lines.append(
        f"similarity {j:.2f} (threshold {s.near_duplicate_similarity:.2f}), "
        f"share of the shorter text in the longer {overlap:.2f} (threshold {s.near_duplicate_overlap:.2f}), "
        "on word 3-shingles"
    )
    if not is_near_copy(s, j, overlap) and a.source_id != b.source_id:
        lines.append(
            f"share of the shorter text in sentences found again, lightly edited, in the other {aligned:.2f} "
            f"(threshold {s.near_duplicate_sentences:.2f})"
        )
    if merged:
        kind = "an edited version" if a.source_id == b.source_id else "a near copy"
        lines.append(f"would be merged: the later one is {kind} of the earlier")
    else:
        lines.append("kept apart: below every threshold (different stories, or different coverage of one)")
    return Explanation(
        **pair,
        verdict="would be merged" if merged else "kept apart",
        similarity=j,
        overlap=overlap,
        similarity_threshold=s.near_duplicate_similarity,
        overlap_threshold=s.near_duplicate_overlap,
        sentences_aligned=None if is_near_copy(s, j, overlap) or a.source_id == b.source_id else aligned,
        sentences_threshold=s.near_duplicate_sentences,
        lines=lines,
    )
