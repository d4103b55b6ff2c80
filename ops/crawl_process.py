"""The child process that runs one Scrapy crawl: ``python -m carewatch.ops.crawl_process JOB.json``.

Why a child process per crawl: Twisted's reactor cannot be restarted in one process
(ReactorNotRestartable), and the daemon, the demo and the tests all crawl many times. A child
also gives back its memory, and a hung crawl can be killed without harming its parent.
"""

from __future__ import annotations

import json
import sys

from scrapy.crawler import CrawlerProcess

from carewatch.config import load_config
from carewatch.pipelines.runner import item_pipelines
from carewatch.scrapers.settings import scrapy_settings
from carewatch.scrapers.spider import SourceSpider


def main(job_path: str) -> int:
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    # The parent's Config, snapshot and all (its settings may carry overrides, e.g. the demo's proxy):
    # the pipelines take their rules and thresholds from it (Scrapy setting CAREWATCH_CONFIG).
    config = load_config(job["config"])
    sources = [config.source(sid).model_dump() for sid in job["sources"]]
    settings = scrapy_settings(config)
    settings.update(
        {
            "ITEM_PIPELINES": item_pipelines("carewatch.store.pipeline.StorePipeline"),
            "CAREWATCH_DB": job["db"],
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
