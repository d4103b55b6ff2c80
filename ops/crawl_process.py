"""The child process that runs one Scrapy crawl: ``python -m cli.crawl_process JOB.json``.

Why a child process per crawl: Twisted's reactor cannot be restarted in one process
(ReactorNotRestartable), and the daemon, the demo and the tests all crawl many times. A child
also gives back its memory, and a hung crawl can be killed without harming its parent.
"""

from __future__ import annotations

import json
import sys

from scrapy.crawler import CrawlerProcess

from carewatch.config import load_config
from carewatch.config.schema import Settings
from carewatch.scrapers.settings import scrapy_settings
from carewatch.scrapers.spider import SourceSpider

PIPELINES = {
    "carewatch.pipelines.extract.ExtractPipeline": 100,
    "carewatch.pipelines.canonical.CanonicalPipeline": 200,
    "carewatch.pipelines.dedupe.DedupePipeline": 300,
    "carewatch.pipelines.tag.TagPipeline": 400,
    "carewatch.store.pipeline.StorePipeline": 900,
}


def main(job_path: str) -> int:
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    config = load_config(job["config"])
    sources = [config.source(sid).model_dump() for sid in job["sources"]]
    # The parent's settings win (they may carry overrides, e.g. the demo's proxy).
    settings = scrapy_settings(Settings.model_validate(job["settings"]) if "settings" in job else config.settings)
    settings.update(
        {
            "ITEM_PIPELINES": PIPELINES,
            "CAREWATCH_DB": job["db"],
            "CAREWATCH_CONFIG": job["config"],
            "CAREWATCH_STATS_FILE": job["stats"],
            "CAREWATCH_SEEN_INDEX": "carewatch.store.seen.open_seen_index",
            "CAREWATCH_CRAWL_STATE": "carewatch.store.crawlstate.open_crawl_state",
            "LOG_LEVEL": job.get("log_level", "WARNING"),
        }
    )
    if job.get("max_pages"):  # stop early (tests of interrupted back-fills)
        settings["CLOSESPIDER_PAGECOUNT"] = job["max_pages"]
    process = CrawlerProcess(settings)
    process.crawl(SourceSpider, sources=sources, since=job.get("since"))
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
