"""A copy reworded a little in most sentences (a word in five swapped, "reportedly" inserted: what
content farms and re-edits do, issue 22) keeps few word shingles, so neither shingle threshold
calls it a copy, but it keeps its sentences: ``sentences_aligned`` finds it, through the archive's
own candidate index, in a real SQLite file. Two real articles on one subject, each in its own
words, are not merged. On the real texts of ../shared/seeds."""

from __future__ import annotations

import re

from carewatch.config.schema import Settings
from carewatch.core.items import Article, article_id_for
from carewatch.core.urls import url_key
from carewatch.pipelines.dedupe import Deduper, exact_similarity, is_near_copy, near_copy_of, sentences_aligned
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from carewatch.store.seen import SqliteSeenIndex
from tests.conftest import ROOT

SEEDS = ROOT.parent / "shared" / "seeds"
SWAPS = ["council", "city", "services", "plans", "local", "public", "people", "report"]


def seed(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def article(source: str, url: str, text: str) -> Article:
    return Article(
        source_id=source,
        url=url,
        fetched_at="2026-12-01T09:00:00+00:00",
        canonical_url=url,
        url_key=url_key(url),
        title=" ".join(text.split()[:8]),
        text=text,
    )


def reworded(text: str) -> str:
    """Two sentences in three reworded a little: the fifth, tenth... word swapped, "reportedly" after
    the second word; the third sentence left as it was."""
    out = []
    for k, sentence in enumerate(re.split(r"(?<=[.!?])\s+", text)):
        words = sentence.split()
        if k % 3 == 2:
            out.append(sentence)
            continue
        words = [SWAPS[(i + k) % len(SWAPS)] if i % 5 == 4 else w for i, w in enumerate(words)]
        if len(words) > 3:
            words.insert(2, "reportedly")
        out.append(" ".join(words))
    return " ".join(out)


def test_a_reworded_copy_is_found_and_own_words_are_not(tmp_path):
    settings = Settings()
    original = seed("002")
    copy = reworded(original)
    j, c = exact_similarity(original, copy)
    assert not is_near_copy(settings, j, c), (j, c)  # the shingles alone would keep them apart
    aligned = sentences_aligned(original, copy)
    assert aligned >= settings.near_duplicate_sentences, aligned

    db = open_db(tmp_path / "archive.db")
    seen = SqliteSeenIndex(db)
    first = Deduper(seen, settings).check(article("chamberlain-files", "https://chamberlain.test/story", original))
    assert first.duplicate_of is None
    save_article(db, first)
    later = Deduper(seen, settings).check(article("content-farm", "https://farm.test/rewritten", copy))
    assert later.duplicate_of == article_id_for(first.url_key), later.duplicate_reason
    assert later.duplicate_reason.startswith("near copy") and "sentences found again" in later.duplicate_reason

    # one source's own posts reuse its paragraphs and are not versions of each other for that: from the
    # same source, only the shingles decide (a statement it re-issues keeps its words)
    own_post = Deduper(seen, settings).check(article("chamberlain-files", "https://chamberlain.test/another", copy))
    assert own_post.duplicate_of is None

    # two real articles on one subject (the Trust and the privatisation of children's services), each
    # in its own words: nothing aligns, nothing is merged
    other = seed("001")
    copy_verdict, *_ = near_copy_of(settings, original, other)
    assert not copy_verdict and sentences_aligned(original, other) < 0.2
    own = Deduper(seen, settings).check(article("other-outlet", "https://other.test/own-words", other))
    assert own.duplicate_of is None
    db.close()


def test_few_sentences_are_judged_on_shingles_only():
    """A brief of three reworded sentences can match a lead by chance wording: under five sentences
    the alignment says nothing (0.0) and the shingle thresholds decide."""
    three = " ".join(re.split(r"(?<=[.!?])\s+", seed("002"))[:3])
    assert sentences_aligned(three, reworded(three)) == 0.0
