"""A copy contained in a longer text (a brief inside the full story, a press release quoted whole
in an article) is found as a near-duplicate although the two share no LSH band (their Jaccard is
low however much is copied: issue 22). Its candidates come from sampled shingles (core.lsh), kept
in the archive's ``shingle_samples``; the copy is then verified exactly. On a real text
(../shared/seeds), in a real SQLite archive, through the store's own index, in both orders."""

from __future__ import annotations

from carewatch.config.schema import Settings
from carewatch.core.items import Article, article_id_for
from carewatch.core.lsh import band_keys, contained_candidate, shingle_samples
from carewatch.core.urls import url_key
from carewatch.pipelines.dedupe import Deduper, exact_similarity
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from carewatch.store.seen import SqliteSeenIndex
from tests.conftest import ROOT

SEED = ROOT.parent / "shared" / "seeds" / "000_99643c8c5e7fdbe3.txt"  # a real article, 1,808 words


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


def shares_a_band(a: Article, b: Article) -> bool:
    return bool(set(enumerate(band_keys(a.minhash))) & set(enumerate(band_keys(b.minhash))))


def brief_inside(full: Article, deduper: Deduper) -> Article:
    """A 150-word passage of the full text, as a brief of it, that shares no LSH band with it."""
    words = full.text.split()
    for start in range(len(words) // 3, len(words) - 160, 11):
        part = " ".join(words[start : start + 150])
        brief = deduper.check(article("other-outlet", f"https://other.test/brief-{start}", part))
        if not shares_a_band(brief, full):
            return brief
    raise AssertionError("every passage shares a band with its text: this test would show nothing")


def test_a_contained_copy_is_found_without_sharing_a_band(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    db = open_db(tmp_path / "a.db")
    seen = SqliteSeenIndex(db)
    full = Deduper(seen, Settings()).check(article("chamberlain-files", "https://chamberlain.test/story", text))
    assert full.duplicate_of is None and len(full.samples) > 100
    save_article(db, full)
    stored = db.execute("SELECT count(*) FROM shingle_samples WHERE article_id = ?", [article_id_for(full.url_key)])
    assert stored.fetchone()[0] == len(full.samples)

    brief = brief_inside(full, Deduper(None, Settings()))  # checked alone: only to pick the passage
    jaccard, containment = exact_similarity(brief.text, full.text)
    assert jaccard < 0.2 and containment == 1.0  # the Jaccard LSH is tuned for cannot see it

    # the full story is stored; the brief arrives from another outlet
    checked = Deduper(seen, Settings()).check(brief)
    assert checked.duplicate_of == article_id_for(full.url_key), checked.duplicate_reason
    assert checked.duplicate_reason.startswith("near copy") and "overlap 1.00" in checked.duplicate_reason

    # the other way round: the brief is stored, the full story (containing it) arrives
    db2 = open_db(tmp_path / "b.db")
    seen2 = SqliteSeenIndex(db2)
    save_article(db2, Deduper(seen2, Settings()).check(brief))
    later = Deduper(seen2, Settings()).check(article("chamberlain-files", "https://chamberlain.test/story", text))
    assert later.duplicate_of == article_id_for(brief.url_key)

    # and within one crawl, before either is written
    run = Deduper(None, Settings())
    run.check(article("chamberlain-files", "https://chamberlain.test/story", text))
    assert run.check(article("other-outlet", brief.url, brief.text)).duplicate_of == article_id_for(full.url_key)
    db.close()
    db2.close()


def test_unrelated_texts_are_not_candidates():
    """Samples of different texts rarely coincide: two real texts on one subject are not candidates."""
    a = SEED.read_text(encoding="utf-8")
    b = (SEED.parent / "003_f1af5b593e4e8816.txt").read_text(encoding="utf-8")
    sa, sb = shingle_samples(a), shingle_samples(b)
    shared = len(set(sa) & set(sb))
    assert len(sa) > 100 and len(sb) > 100 and not contained_candidate(shared, len(sa), len(sb)), shared
