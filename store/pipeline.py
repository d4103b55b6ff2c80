"""The last Scrapy item pipeline: writes articles, meetings (store.meetings) and fetch-log rows to SQLite.

Scrapy settings it reads: CAREWATCH_DB (path), CAREWATCH_CONFIG (the Config: its settings'
``edit_alert_share`` and story thresholds), CAREWATCH_STATS_FILE (where to write the run's
counts as JSON when the spider closes, for the parent process to report; ``store_errors`` counts
writes the database refused) and CAREWATCH_ON_STORED (the dotted name of a factory taking the
Config and giving save_article's ``on_stored``, run in each article's transaction: the alert
rules' matching at store time, named by the caller since the store never imports alerts).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from pathlib import Path

from scrapy import signals
from scrapy.utils.misc import load_object

from carewatch.config.schema import Settings
from carewatch.core.crashpoints import crash_point
from carewatch.core.items import Article, Fetch, Meeting, utcnow_iso
from carewatch.store.articles import OnStored, save_article
from carewatch.store.db import Database, open_db
from carewatch.store.fetches import record_fetch
from carewatch.store.meetings import save_meeting

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(
        self, db_path: str, stats_file: str | None, settings: Settings, on_stored: OnStored | None = None
    ) -> None:
        self.db_path = db_path
        self.settings = settings
        self.on_stored = on_stored
        self.stats_file = stats_file
        self.counts: Counter[str] = Counter()
        self.db: Database | None = None

    @classmethod
    def from_crawler(cls, crawler):
        config = crawler.settings["CAREWATCH_CONFIG"]
        factory = crawler.settings.get("CAREWATCH_ON_STORED")
        pipeline = cls(
            crawler.settings.get("CAREWATCH_DB"),
            crawler.settings.get("CAREWATCH_STATS_FILE"),
            config.settings,
            load_object(factory)(config) if factory else None,
        )
        crawler.signals.connect(pipeline.item_failed, signal=signals.item_error)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    def item_failed(self, item, response=None, spider=None, failure=None) -> None:
        """A pipeline stage raised: the article is not stored, so the failure is, in the fetch log
        (the spider marks its source failed: scrapers.spider.SourceSpider.item_failed). A write the
        database refused (disk full, I/O error) is counted as ``store_errors``, for the parent to
        report even when the fetch log cannot be written either."""
        exc = failure.value if failure is not None else None
        if isinstance(exc, sqlite3.Error):
            self.counts["store_errors"] += 1
        if isinstance(item, Article) and self.db is not None:
            try:
                record_fetch(
                    self.db,
                    Fetch(
                        item.source_id,
                        item.url,
                        item.fetched_at,
                        "error",
                        role="article",
                        error_kind="pipeline",
                        error=f"{type(exc).__name__}: {exc}",
                    ),
                )
            except sqlite3.Error as e:  # the same full disk: the count above and the log still tell
                logger.error("could not record the failure of %s: %s", item.url, e)
            self.counts["fetch_errors"] += 1

    def item_dropped(self, item, response=None, exception=None, spider=None) -> None:
        """Extraction found nothing usable: recorded as a warning (the fetch worked, the page was
        empty); other drops (filters) are counted."""
        if isinstance(item, Article) and self.db is not None:
            if getattr(exception, "record_as_error", False):
                record_fetch(
                    self.db,
                    Fetch(
                        item.source_id,
                        item.url,
                        item.fetched_at,
                        "warning",
                        role="article",
                        error_kind="extract",
                        error=str(exception),
                    ),
                )
                self.counts["empty"] += 1
            else:
                self.counts["filtered"] += 1

    def open_spider(self, spider=None) -> None:
        self.db = open_db(self.db_path)

    def close_spider(self, spider=None) -> None:
        if self.stats_file:
            path = Path(self.stats_file)
            previous = json.loads(path.read_text()) if path.exists() else {}
            merged = Counter(previous) + self.counts
            path.write_text(json.dumps(dict(merged)))
        if self.db is not None:
            self.db.close()

    def process_item(self, item, spider=None):
        if isinstance(item, Fetch):
            record_fetch(self.db, item)
            self.counts["fetches"] += 1
            if item.status == "error":
                self.counts["fetch_errors"] += 1
        elif isinstance(item, Meeting):
            outcome, changes = save_meeting(self.db, item, utcnow_iso())
            self.counts["meetings"] += 1
            self.counts[f"meetings_{outcome}"] += 1
            self.counts["meeting_changes"] += len(changes)
        elif isinstance(item, Article):
            crash_point("mid-pipeline")  # through every stage, not yet stored
            outcome = save_article(self.db, item, self.settings, self.on_stored)
            crash_point("after-article-commit")  # stored and committed, the next item not begun
            self.counts[outcome] += 1
        return item
