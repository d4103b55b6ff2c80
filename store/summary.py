"""Summaries of the archive for reports: how many articles it holds, how many per topic, and which
articles a crawl stored after a mark (the daemon logs each one)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.store.db import fetch_all


@dataclass(frozen=True)
class StoredArticle:
    article_id: str
    url: str
    title: str | None


def article_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM articles").fetchone()[0]


def topic_counts(db: Database) -> dict[str, int]:
    """Articles per topic, the most first."""
    return dict(
        db.execute("SELECT topic, count(*) FROM article_topics GROUP BY topic ORDER BY count(*) DESC").fetchall()
    )


def last_article_mark(db: Database) -> int:
    """The articles table's latest rowid (0 when empty): a mark to read what a crawl stores after it."""
    return db.execute("SELECT coalesce(max(rowid), 0) FROM articles").fetchone()[0]


def articles_stored_after(db: Database, mark: int, source_id: str) -> list[StoredArticle]:
    """The source's articles stored after ``mark`` (see :func:`last_article_mark`)."""
    return fetch_all(
        db.execute("SELECT article_id, url, title FROM articles WHERE rowid > ? AND source_id = ?", [mark, source_id]),
        StoredArticle,
    )
