"""Which raw response each article's current text came from: a row per WARC record (written by
scrapers.warc) each time an article is stored new or its current text replaced. An article's
latest capture is what ``carewatch reprocess`` re-extracts it from."""

from __future__ import annotations

from sqlite_utils import Database

from carewatch.core.items import Article

COLUMNS = ("url", "warc_file", "offset", "length", "sha256", "record_id", "fetched", "content_type", "status")


def record_capture(db: Database, article_id: str, article: Article) -> None:
    """Record the capture the article carries (``extra["capture"]``), if it has one."""
    capture = article.extra.get("capture")
    if capture:
        db["captures"].insert({"article_id": article_id, **{k: capture.get(k) for k in COLUMNS}})


def latest_capture(db: Database, article_id: str) -> dict | None:
    row = db.execute("SELECT id, " + ", ".join(COLUMNS) + " FROM captures WHERE article_id = ? ORDER BY id DESC LIMIT 1",
                     [article_id]).fetchone()
    return dict(zip(("id", *COLUMNS), row)) if row else None
