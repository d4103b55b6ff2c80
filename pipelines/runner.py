"""Run the pipeline stages on one article outside Scrapy (``carewatch inspect``, benchmarks)."""

from __future__ import annotations

from core.items import Article, SeenIndex
from pipelines.canonical import canonicalise
from pipelines.dedupe import Deduper
from pipelines.extract import extract
from pipelines.tag import Tagger, tag


def run_stages(article: Article, tagger: Tagger, seen: SeenIndex | None = None,
               include_keywords: tuple[str, ...] = ()) -> Article:
    """extract → canonical → dedupe → tag, as the crawl runs them (without storing)."""
    article = canonicalise(extract(article))
    article = Deduper(seen).check(article)
    return tag(article, tagger, include_keywords)
