"""The store's answer to "have we seen this?", for the de-duplication pipeline (core.items.SeenIndex)."""

from __future__ import annotations

from sqlite_utils import Database

from carewatch.core.lsh import MIN_SHARED_SAMPLES, contained_candidate


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

    def contained_candidates(self, samples: tuple[int, ...]) -> list[tuple[str, str, str]]:
        """Stored articles sharing most of the smaller text's sampled shingles (core.lsh)."""
        if not samples:
            return []
        marks = ", ".join("?" for _ in samples)
        shared = self.db.execute(
            "SELECT s.article_id, s.shared, (SELECT count(*) FROM shingle_samples o WHERE o.article_id = s.article_id) "
            f"FROM (SELECT article_id, count(*) AS shared FROM shingle_samples WHERE hash IN ({marks}) "
            "GROUP BY article_id HAVING count(*) >= ?) s",
            [*samples, MIN_SHARED_SAMPLES],
        ).fetchall()
        wanted = [article_id for article_id, n, own in shared if contained_candidate(n, len(samples), own)]
        if not wanted:
            return []
        return self.db.execute(
            f"SELECT article_id, source_id, text FROM articles WHERE article_id IN ({', '.join('?' for _ in wanted)})",
            wanted,
        ).fetchall()


def open_seen_index(db_path: str) -> SqliteSeenIndex:
    """Factory named in the Scrapy setting CAREWATCH_SEEN_INDEX."""
    from carewatch.store.db import open_db

    return SqliteSeenIndex(open_db(db_path))
