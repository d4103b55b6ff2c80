"""The store's answer to "have we seen this?", for the de-duplication pipeline (core.items.SeenIndex)."""

from __future__ import annotations

from sqlite_utils import Database


class SqliteSeenIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    def article_for_url(self, url_key: str) -> tuple[str, str] | None:
        row = self.db.execute("SELECT article_id, content_hash FROM articles WHERE url_key = ?", [url_key]).fetchone()
        if row:
            return row[0], row[1]
        alias = self.db.execute(
            "SELECT a.article_id, a.content_hash FROM article_aliases al JOIN articles a USING (article_id) "
            "WHERE al.url_key = ?",
            [url_key],
        ).fetchone()
        return (alias[0], alias[1]) if alias else None

    def article_for_hash(self, content_hash: str) -> str | None:
        row = self.db.execute(
            "SELECT article_id FROM articles WHERE content_hash = ? ORDER BY first_seen LIMIT 1", [content_hash]
        ).fetchone()
        return row[0] if row else None

    def near_candidates(self, keys: list[int]) -> list[tuple[str, str, str]]:
        """Stored articles sharing at least one LSH band with these keys (core.lsh)."""
        if not keys:
            return []
        pairs = " OR ".join("(band = ? AND key = ?)" for _ in keys)
        args = [v for band, key in enumerate(keys) for v in (band, key)]
        return self.db.execute(
            "SELECT a.article_id, a.source_id, a.text FROM articles a WHERE a.article_id IN "
            f"(SELECT article_id FROM lsh_bands WHERE {pairs})",
            args,
        ).fetchall()


def open_seen_index(db_path: str) -> SqliteSeenIndex:
    """Factory named in the Scrapy setting CAREWATCH_SEEN_INDEX."""
    from carewatch.store.db import open_db

    return SqliteSeenIndex(open_db(db_path))
