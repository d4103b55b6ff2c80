"""Search the archive: the articles whose title or text match a query, best first."""

from __future__ import annotations

from sqlite_utils import Database

from carewatch.store.search import SearchHit
from carewatch.store.search import search as search_archive


def search(db: Database, query: str, *, limit: int = 20, since: str | None = None) -> list[SearchHit]:
    """Articles matching ``query`` (words matched as typed), published or first seen since ``since``."""
    return search_archive(db, query, limit=limit, since=since)
