"""When one article went through each stage on its way to a subscriber, as the archive recorded it:
the fetch of its source's feed or listing that found it new, the fetch of its page, its write, the
subscriber's match and the delivery that carried it. bench/latency.py reads it (publication → inbox).

Times are ISO 8601 UTC as each table keeps them: ``fetches.started``, ``articles.first_seen``,
``alert_matches.matched`` and ``deliveries.created`` to the second, ``articles.stored`` to the
millisecond (migration m014)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.store.db import fetch_one


@dataclass(frozen=True)
class ArticleTimeline:
    article_id: str
    source_id: str
    index_fetch: str | None  # the last fetch of the source's feed or listing that found new items, before its page's
    page_fetch: str | None  # the article page's first fetch
    first_seen: str
    stored: str | None
    matched: str | None  # the subscriber's alert_matches row
    delivery_id: int | None  # the delivery that carried it to the subscriber (alerted)
    delivery_created: str | None
    delivery_status: str | None


def article_timeline(db: Database, url: str, subscriber: str) -> ArticleTimeline | None:
    """The stages of the article stored from ``url`` for ``subscriber``; None when it is not stored
    (yet). Stages not reached yet are None."""
    return fetch_one(
        db.execute(
            """
            WITH a AS (SELECT article_id, source_id, first_seen, stored, url FROM articles WHERE url = :url),
            page AS (
                SELECT min(started) AS started FROM fetches
                WHERE url = :url AND role = 'article' AND source_id = (SELECT source_id FROM a)
            )
            SELECT a.article_id, a.source_id,
                (SELECT max(f.started) FROM fetches f
                 WHERE f.source_id = a.source_id AND f.role = 'index' AND f.items_new > 0
                   AND f.started <= coalesce((SELECT started FROM page), a.first_seen)) AS index_fetch,
                (SELECT started FROM page) AS page_fetch,
                a.first_seen, a.stored,
                m.matched, d.id AS delivery_id, d.created AS delivery_created, d.status AS delivery_status
            FROM a
            LEFT JOIN alert_matches m ON m.article_id = a.article_id AND m.subscriber = :subscriber
            LEFT JOIN alerted al ON al.article_id = a.article_id AND al.subscriber = :subscriber
            LEFT JOIN deliveries d ON d.id = al.delivery_id
            """,
            {"url": url, "subscriber": subscriber},
        ),
        ArticleTimeline,
    )
