"""Full-text search over the archive (FTS5 over title and text)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from sqlite_utils import Database

from carewatch.core.jsontext import JSON_TEXT


@dataclass(frozen=True)
class SearchHit:
    """An article a search found."""

    article_id: str
    title: str | None
    published: str | None
    source_id: str
    canonical_url: str | None
    topics: str | None = field(metadata=JSON_TEXT)  # JSON, as stored
    relevant: int


COLUMNS = [f.name for f in fields(SearchHit)]


def search(db: Database, query: str, *, limit: int = 20, since: str | None = None) -> list[SearchHit]:
    """Articles matching QUERY, best first. Words are matched as typed (quoted), so any text is safe."""
    where = "published >= :since OR first_seen >= :since" if since else None
    rows = db.table("articles").search(
        query,
        columns=COLUMNS,
        limit=limit,
        where=where,
        where_args={"since": since} if since else None,
        quote=True,
    )
    return [SearchHit(**row) for row in rows]
