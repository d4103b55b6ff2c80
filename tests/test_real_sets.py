"""The labelled real set of bench/real_sets/relevance.yaml (issue 22) checked as a file: big enough, enough
confusable pages of each kind, a reproducible stratified split, valid topics, unique URLs, and no page text
(texts live in a cache outside the repository; these tests never need it)."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "real_sets" / "relevance.yaml"
CONFUSABLE = ("school-ofsted", "nhs-safeguarding", "fostering-marketing", "live-aggregate")
KINDS = {"relevant", *CONFUSABLE, "other-council", "other"}
FIELDS = {"url", "relevant", "kind", "topics", "split", "reason", "found_by"}


@pytest.fixture(scope="module")
def pages() -> list[dict]:
    return yaml.safe_load(LABELS.read_text(encoding="utf-8"))["pages"]


def test_at_least_200_pages(pages):
    assert len(pages) >= 200


def test_a_third_are_confusable_of_the_four_kinds_each_at_least_15(pages):
    kinds = Counter(p["kind"] for p in pages)
    assert set(kinds) <= KINDS, set(kinds) - KINDS
    assert 3 * sum(kinds[k] for k in CONFUSABLE) >= len(pages)
    for k in CONFUSABLE:
        assert kinds[k] >= 15, (k, kinds[k])


def test_labels_are_consistent(pages):
    for p in pages:
        assert isinstance(p["relevant"], bool), p["url"]
        assert p["relevant"] == (p["kind"] == "relevant"), p["url"]
        assert isinstance(p["topics"], list), p["url"]
        if not p["relevant"]:
            assert p["topics"] == [], p["url"]
        assert p["reason"].strip(), p["url"]


def test_every_topic_exists_in_the_config(pages):
    topics = set(yaml.safe_load((ROOT / "config" / "topics.yaml").read_text(encoding="utf-8"))["topics"])
    used = {t for p in pages for t in p["topics"]}
    assert used <= topics, used - topics
    assert len(set(p["topics"][0] for p in pages if p["topics"])) >= 5  # the set exercises most topics


def test_urls_are_unique_and_http(pages):
    urls = [p["url"] for p in pages]
    assert len(urls) == len(set(urls)), [u for u, n in Counter(urls).items() if n > 1]
    for u in urls:
        parts = urlsplit(u)
        assert parts.scheme in ("http", "https") and parts.netloc, u


def test_both_splits_non_empty_and_stratified_by_kind(pages):
    """tune and heldout, drawn from the first collection; ``fresh``, ``fresh2``: pages collected and
    labelled after the rules were written, outside the stratified split (README)."""
    by_kind = defaultdict(Counter)
    for p in pages:
        assert p["split"] in ("tune", "heldout", "fresh", "fresh2"), p["url"]
        if p["split"] in ("tune", "heldout"):
            by_kind[p["kind"]][p["split"]] += 1
    for kind, c in by_kind.items():
        n = c["tune"] + c["heldout"]
        assert c["tune"] and c["heldout"], kind
        assert c["tune"] == round(0.6 * n), (kind, dict(c))


def test_split_follows_the_documented_rule(pages):
    """Within each kind, pages sorted by sha1(url): the first round(0.6 n) are tune (relevance.yaml's split_rule)."""
    by_kind = defaultdict(list)
    for p in pages:
        if p["split"] in ("tune", "heldout"):
            by_kind[p["kind"]].append(p)
    for items in by_kind.values():
        items.sort(key=lambda p: hashlib.sha1(p["url"].encode()).hexdigest())
        n_tune = round(0.6 * len(items))
        assert [p["split"] for p in items] == ["tune"] * n_tune + ["heldout"] * (len(items) - n_tune)


def test_no_page_text_in_the_file(pages):
    for p in pages:
        assert set(p) == FIELDS, (p["url"], set(p) ^ FIELDS)
        assert len(p["reason"]) <= 200 and "\n" not in p["reason"], p["url"]
        assert len(p["found_by"]) <= 200, p["url"]
    # URLs and one-line labels only: a page's excerpt is ~2,000 characters, the whole file stays small
    assert LABELS.stat().st_size < 600 * len(pages)
    raw = LABELS.read_text(encoding="utf-8")
    assert not any(len(line) > 300 for line in raw.splitlines())
