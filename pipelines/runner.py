"""Run the pipeline stages outside Scrapy (``carewatch inspect``, benchmarks), as a crawl runs them."""

from __future__ import annotations

from carewatch.core.items import Article, SeenIndex
from carewatch.pipelines.canonical import canonicalise
from carewatch.pipelines.dedupe import Deduper
from carewatch.pipelines.extract import extract
from carewatch.pipelines.tag import Tagger, tag


class Stages:
    """extract → canonical → dedupe → tag, with one de-duplication index for the whole run."""

    def __init__(self, tagger: Tagger, seen: SeenIndex | None = None) -> None:
        self.tagger = tagger
        self.deduper = Deduper(seen)

    def run(self, article: Article, include_keywords: tuple[str, ...] = (), local: bool = False) -> Article:
        """``include_keywords`` and ``local``: the source's, as the crawl's TagPipeline applies them."""
        article = self.deduper.check(canonicalise(extract(article)))
        return tag(article, self.tagger, include_keywords, local)


def run_stages(article: Article, tagger: Tagger, seen: SeenIndex | None = None,
               include_keywords: tuple[str, ...] = (), local: bool = False) -> Article:
    """One article through every stage (without storing it)."""
    return Stages(tagger, seen).run(article, include_keywords, local)
