"""Search the archive with the alert rule language: the articles a rule matches, best first."""

from __future__ import annotations

from sqlite_utils import Database

from carewatch.alerts.match import search_archive
from carewatch.config.schema import Config
from carewatch.core.query import check_names
from carewatch.store.search import SearchHit


def search(config: Config, db: Database, query: str, *, limit: int = 20, since: str | None = None) -> list[SearchHit]:
    """Articles the rule ``query`` matches, as ``alerts test`` and the alert matcher decide, published
    or first seen since ``since``; QueryError when it does not parse or names a topic, source or
    entity the config does not have (core.query.check_names)."""
    check_names(query, config.query_names())
    return search_archive(db, query, limit=limit, since=since)
