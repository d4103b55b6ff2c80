"""The pipeline stages in their order, declared once: a crawl's Scrapy ``ITEM_PIPELINES`` and the
runner outside Scrapy (``carewatch inspect``, ``carewatch reprocess``, benchmarks) are both made
from :data:`STAGES`, and each stage is built from the configuration the same way in both
(``from_config``), so an article goes through exactly what a crawl would do to it."""

from __future__ import annotations

from carewatch.config.schema import Config
from carewatch.core.items import Article, SeenIndex
from carewatch.pipelines.canonical import CanonicalPipeline
from carewatch.pipelines.dedupe import DedupePipeline
from carewatch.pipelines.extract import ExtractPipeline
from carewatch.pipelines.tag import TagPipeline

STAGES = (ExtractPipeline, CanonicalPipeline, DedupePipeline, TagPipeline)  # extract → canonical → dedupe → tag
STORE_ORDER = 900  # the store's pipeline comes after every stage


def item_pipelines(store: str) -> dict[str, int]:
    """Scrapy's ITEM_PIPELINES: the stages in order (100, 200, ...), then ``store``, the dotted name
    of the pipeline that writes the articles (named by the caller: pipelines never import the store)."""
    return {
        **{f"{stage.__module__}.{stage.__qualname__}": 100 * (i + 1) for i, stage in enumerate(STAGES)},
        store: STORE_ORDER,
    }


class Stages:
    """Every stage, built from the configuration as a crawl builds them, with one de-duplication
    index for the whole run (``seen``: what is stored; None: nothing)."""

    def __init__(self, config: Config, seen: SeenIndex | None = None) -> None:
        self.stages = [stage.from_config(config, seen) for stage in STAGES]

    def run(self, article: Article) -> Article:
        """One article through every stage (without storing it). Raises DropItem as a crawl's stage
        would (nothing extracted, or the source's include_keywords not mentioned)."""
        for stage in self.stages:
            article = stage.process_item(article)
        return article


def run_stages(article: Article, config: Config, seen: SeenIndex | None = None) -> Article:
    """One article through every stage (without storing it)."""
    return Stages(config, seen).run(article)
