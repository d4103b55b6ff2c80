"""``carewatch dedup explain``: why two articles were merged or kept apart."""

from __future__ import annotations

from sqlite_utils import Database

from carewatch.config.schema import Config
from carewatch.pipelines.dedupe import MIN_SHINGLES, exact_similarity, is_near_copy
from carewatch.store.articles import article_copies, find_article, replaced_versions, stored_article


def explain(config: Config, db: Database, first: str, second: str | None = None) -> list[str]:
    found = find_article(db, first)
    a = stored_article(db, found.article_id)
    if second is None:
        lines = [f"{a.article_id}: {a.title} ({a.canonical_url})"]
        if found.via == "copy":
            lines.insert(
                0, f"{first} is not stored as an article of its own: {found.alias_reason}; it is recorded as a copy of:"
            )
        for c in article_copies(db, a.article_id):
            if c.current:  # the edition it is now at, not another address (store.articles.AT_OWN_ADDRESS)
                lines.append(f"  now at {c.url}, its own address: {c.reason} that replaced its earlier text")
            else:
                lines.append(f"  also at {c.url}: {c.reason}")
        lines += [
            f"  version {v.version} replaced on {v.seen[:10]}"
            + (f": {v.changed:.0%} of words changed" if v.changed is not None else "")
            for v in replaced_versions(db, a.article_id)
        ]
        return lines
    b = stored_article(db, find_article(db, second).article_id)
    if a.article_id == b.article_id:
        return [f"one article: both are {a.article_id} ({a.title})"]
    s = config.settings
    lines = [f"A {a.article_id}: {a.title} [{a.source_id}]", f"B {b.article_id}: {b.title} [{b.source_id}]"]
    if a.content_hash == b.content_hash:
        lines.append("same normalised text: would be one article")
        return lines
    if min(a.shingles or 0, b.shingles or 0) < MIN_SHINGLES:
        lines.append(f"kept apart: a text under {MIN_SHINGLES} word shingles is compared exactly only")
        return lines
    j, overlap = exact_similarity(a.text, b.text)
    lines.append(
        f"similarity {j:.2f} (threshold {s.near_duplicate_similarity:.2f}), "
        f"share of the shorter text in the longer {overlap:.2f} (threshold {s.near_duplicate_overlap:.2f}), "
        "on word 3-shingles"
    )
    if is_near_copy(s, j, overlap):
        kind = "an edited version" if a.source_id == b.source_id else "a near copy"
        lines.append(f"would be merged: the later one is {kind} of the earlier")
    else:
        lines.append("kept apart: below both thresholds (different stories, or different coverage of one)")
    return lines
