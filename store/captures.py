"""Which raw response each article's current text came from: a row per WARC record (written by
scrapers.warc) each time an article is stored new or its current text replaced. An article's
latest capture is what ``carewatch reprocess`` re-extracts it from."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.core.items import Article
from carewatch.store.db import fetch_one

COLUMNS = ("url", "warc_file", "offset", "length", "sha256", "record_id", "fetched", "content_type", "status")


def record_capture(db: Database, article_id: str, article: Article) -> None:
    """Record the capture the article carries (``extra["capture"]``), if it has one."""
    capture = article.extra.get("capture")
    if capture:
        db.table("captures").insert({"article_id": article_id, **{k: capture.get(k) for k in COLUMNS}})


def latest_capture(db: Database, article_id: str) -> dict | None:
    return fetch_one(
        db.execute(
            "SELECT id, " + ", ".join(COLUMNS) + " FROM captures WHERE article_id = ? ORDER BY id DESC LIMIT 1",
            [article_id],
        )
    )


@dataclass(frozen=True)
class StoredCapture:
    """A row of ``captures``: where the response an article's text came from is in the WARC files."""

    id: int
    url: str
    warc_file: str
    offset: int
    length: int
    sha256: str | None
    record_id: str | None
    fetched: str | None
    content_type: str | None
    status: int | None


@dataclass(frozen=True)
class ArticleCapture:
    """A stored article with its latest capture (None: no capture recorded)."""

    rowid: int
    article_id: str
    source_id: str
    url: str
    url_key: str
    capture: StoredCapture | None


def articles_with_captures(
    db: Database, after_rowid: int, limit: int, source_id: str | None = None
) -> list[ArticleCapture]:
    """The next ``limit`` articles (of ``source_id``) after rowid ``after_rowid``, in rowid order, each
    with its latest capture."""
    sql = (
        "SELECT a.rowid, a.article_id, a.source_id, a.url, a.url_key, c.id, "
        + ", ".join(f"c.{c}" for c in COLUMNS)
        + " FROM articles a LEFT JOIN captures c ON c.id = "
        "(SELECT max(id) FROM captures WHERE article_id = a.article_id) "
        "WHERE a.rowid > ?" + (" AND a.source_id = ?" if source_id else "") + " ORDER BY a.rowid LIMIT ?"
    )
    out = []
    for row in db.execute(sql, [after_rowid, *([source_id] if source_id else []), limit]).fetchall():
        capture = StoredCapture(*row[5:]) if row[5] is not None else None
        out.append(
            ArticleCapture(
                rowid=row[0], article_id=row[1], source_id=row[2], url=row[3], url_key=row[4], capture=capture
            )
        )
    return out


def count_articles(db: Database, source_id: str | None = None) -> int:
    """How many articles (of ``source_id``) articles_with_captures walks through."""
    sql = "SELECT count(*) FROM articles" + (" WHERE source_id = ?" if source_id else "")
    return db.execute(sql, [source_id] if source_id else []).fetchone()[0]


def newest_capture_id(db: Database, article_id: str) -> int | None:
    """The id of the article's latest capture (None: none recorded)."""
    return db.execute("SELECT max(id) FROM captures WHERE article_id = ?", [article_id]).fetchone()[0]
