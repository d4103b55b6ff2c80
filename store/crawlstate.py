"""What spiders remember between crawls (core.items.CrawlState): stored URLs, HTTP validators
for conditional requests, and how far each back-fill has got."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from carewatch.core.items import utcnow_iso


class SqliteCrawlState:
    def __init__(self, db: Database) -> None:
        self.db = db

    def is_stored(self, url_key: str) -> bool:
        return bool(
            self.db.execute("SELECT 1 FROM articles WHERE url_key = ? AND page_pending = 0", [url_key]).fetchone()
            or self.db.execute("SELECT 1 FROM article_aliases WHERE url_key = ?", [url_key]).fetchone()
        )

    def pending_pages(self, source_id: str, days: int) -> list[tuple[str, dict]]:
        if days <= 0:
            return []
        since = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
        return [
            (url, {"title": title, "author": author, "published": published, "summary": text})
            for url, title, author, published, text in self.db.execute(
                "SELECT url, title, author, published, text FROM articles WHERE source_id = ? AND page_pending = 1 "
                "AND first_seen >= ? ORDER BY first_seen",
                [source_id, since],
            )
        ]

    def recent_pages(self, source_id: str, days: int) -> list[tuple[str, dict]]:
        """URLs of this source's pages first seen in the last ``days`` days, each with what its feed
        entry said (core.items.CrawlState.recent_pages): the stored title, date and author where the
        article took them from the feed (``extraction`` path "feed")."""
        if days <= 0:
            return []
        since = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
        pages = []
        for url, title, published, authors, extraction in self.db.execute(
            "SELECT url, title, published, authors, extraction FROM articles "
            "WHERE source_id = ? AND first_seen >= ? AND kind != 'feed-entry' ORDER BY first_seen",
            [source_id, since],
        ):
            paths = json.loads(extraction or "{}")
            names = json.loads(authors or "[]")  # joined so that clean_authors splits them as before
            entry = {"title": title, "published": published, "author": " and ".join(names) or None}
            chosen = {"title": "title", "published": "date", "author": "authors"}
            pages.append((url, {k: v for k, v in entry.items() if v and paths.get(chosen[k]) == "feed"}))
        return pages

    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self.db.execute("SELECT etag, last_modified FROM http_validators WHERE url = ?", [url]).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def save_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self.db.table("http_validators").upsert(
            {"url": url, "etag": etag, "last_modified": last_modified, "saved": utcnow_iso()}, pk="url"
        )

    def backfill_resume(self, source_id: str, since: str) -> str | None:
        row = self.db.execute(
            "SELECT next_url, finished FROM backfills WHERE source_id = ? AND since = ?", [source_id, since]
        ).fetchone()
        return row[0] if row and not row[1] else None

    def backfill_progress(self, source_id: str, since: str, next_url: str | None, pages: int) -> None:
        row = self.db.execute(
            "SELECT pages, finished FROM backfills WHERE source_id = ? AND since = ?", [source_id, since]
        ).fetchone()
        before = row[0] if row and not row[1] else 0  # a finished back-fill run again starts afresh
        self.db.table("backfills").upsert(
            {
                "source_id": source_id,
                "since": since,
                "next_url": next_url,
                "pages": before + pages,
                "finished": int(next_url is None),
                "updated": utcnow_iso(),
            },
            pk=("source_id", "since"),
        )


def open_crawl_state(db_path: str) -> SqliteCrawlState:
    """Factory named in the Scrapy setting CAREWATCH_CRAWL_STATE."""
    from carewatch.store.db import open_db

    return SqliteCrawlState(open_db(db_path))
