"""The child process that runs one Scrapy crawl: ``python -m carewatch.ops.crawl_process JOB.json``.

Why a child process per crawl: Twisted's reactor cannot be restarted in one process
(ReactorNotRestartable), and the daemon, the demo and the tests all crawl many times. A child
also gives back its memory, and a hung crawl can be killed without harming its parent.
"""

from __future__ import annotations

import json
import logging
import pickle
import sys

from scrapy.crawler import CrawlerProcess
from scrapy.settings.default_settings import LOG_FORMAT as SCRAPY_LOG_FORMAT

from carewatch.config import load_config
from carewatch.ops.crawl import LOG_FORMAT
from carewatch.pipelines.runner import item_pipelines
from carewatch.scrapers.settings import scrapy_settings
from carewatch.scrapers.spider import OnePageSpider, SourceSpider


class KeepItems:
    """The item pipeline of an inspect fetch: the spider's items (Fetch records, the Article) kept in
    order and, when the spider closes, pickled to the file named by the setting CAREWATCH_INSPECT_OUT
    for the parent (ops.inspect), which runs the pipelines on the Article; nothing is stored."""

    def __init__(self, out: str) -> None:
        self.out, self.items = out, []

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("CAREWATCH_INSPECT_OUT"))

    def process_item(self, item, spider=None):
        self.items.append(item)
        return item

    def close_spider(self, spider=None) -> None:
        with open(self.out, "wb") as f:
            pickle.dump(self.items, f)


def fetch_one(job: dict) -> int:
    """One page fetched by the crawl's downloader (scrapers.spider.OnePageSpider); its items pickled to
    ``job["out"]`` (by KeepItems) for ``carewatch inspect`` (ops.inspect), which runs the pipelines on the Article."""
    config = load_config(job["config"])
    source_id = job["source_id"]
    if source_id:
        source = config.source(source_id).model_dump()
    else:  # a stand-in source: a page read as an article page, whatever led to it
        source = {"id": "inspect", "name": "inspect", "kind": "feed", "url": job["url"], "selectors": None}
    settings = scrapy_settings(config)
    settings.update(
        {
            "ITEM_PIPELINES": {"carewatch.ops.crawl_process.KeepItems": 100},
            "CAREWATCH_INSPECT_OUT": job["out"],
            "CAREWATCH_RAW_DIR": None,  # no CAREWATCH_DB either: no WARC file written, nothing stored
            "LOG_LEVEL": "WARNING",
            "LOG_FILE": job["log_file"],  # read by the parent: an error of the spider explains a page with no article
            "LOG_FORMAT": LOG_FORMAT,
        }
    )
    process = CrawlerProcess(settings)
    process.crawl(OnePageSpider, sources=[source], url=job["url"])
    process.start()
    return 0


def main(job_path: str) -> int:
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    if job.get("inspect"):
        return fetch_one(job)
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
            "CAREWATCH_ON_STORED": "carewatch.alerts.match.StoreTimeMatcher",  # alerts matched as stored
            "LOG_LEVEL": job.get("log_level", "WARNING"),
        }
    )
    if job.get("log_file"):  # collected by the parent (ops.crawl.read_log); errors also printed (below)
        settings.update({"LOG_FILE": job["log_file"], "LOG_FORMAT": LOG_FORMAT})
    if job.get("max_pages"):  # stop early (tests of interrupted back-fills)
        settings["CLOSESPIDER_PAGECOUNT"] = job["max_pages"]
    process = CrawlerProcess(settings)
    if job.get("log_file"):  # errors (a write the disk refused) still print as they come, as Scrapy prints them
        errors = logging.StreamHandler(sys.stderr)
        level = logging.getLevelName(str(settings["LOG_LEVEL"]).upper())  # a number for a known name
        errors.setLevel(max(logging.ERROR, level if isinstance(level, int) else logging.ERROR))  # CRITICAL: quiet
        errors.setFormatter(logging.Formatter(SCRAPY_LOG_FORMAT, settings.get("LOG_DATEFORMAT", "%Y-%m-%d %H:%M:%S")))
        logging.getLogger().addHandler(errors)
    process.crawl(SourceSpider, sources=sources, since=job.get("since"))
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
