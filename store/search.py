"""Full-text search over the archive (FTS5 over title and text)."""

from __future__ import annotations

from sqlite_utils import Database


def search(db: Database, query: str, *, limit: int = 20, since: str | None = None) -> list[dict]:
    """Articles matching QUERY, best first. Words are matched as typed (quoted), so any text is safe."""
    where = "published >= :since OR first_seen >= :since" if since else None
    rows = db["articles"].search(
        query,
        columns=["article_id", "title", "published", "source_id", "canonical_url", "topics", "relevant"],
        limit=limit,
        where=where,
        where_args={"since": since} if since else None,
        quote=True,
    )
    return list(rows)
