"""Search the archive with a rule of the query language (FTS5 over title and text, and the
filters), as the alert matcher reads it (store.alerting.rule_select)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

from sqlite_utils import Database

from carewatch.core.jsontext import JSON_TEXT
from carewatch.store.alerting import RuleQuery, rule_select
from carewatch.store.db import fetch_all


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


_COLUMNS = ", ".join(f"a.{c}" for c in COLUMNS)
_SINCE = " AND (a.published >= :since OR a.first_seen >= :since)"


def search(db: Database, query: RuleQuery, *, limit: int = 20, since: str | None = None) -> list[SearchHit]:
    """Articles a rule matches (its FTS5 query and filters: store.alerting.rule_select), best match
    first (FTS5's rank; newest first for a rule of filters only), published or first seen since
    ``since``."""
    sql, params = rule_select(query, _COLUMNS)
    order = "articles_fts.rank" if query.fts is not None else "coalesce(a.published, a.first_seen) DESC"
    sql += (_SINCE if since else "") + f" ORDER BY {order} LIMIT :limit"
    return fetch_all(db.execute(sql, {**params, "since": since, "limit": limit}), SearchHit)


def hits_by_rowid(db: Database, rowids: list[int], *, limit: int = 20, since: str | None = None) -> list[SearchHit]:
    """The articles with these rowids, newest first, published or first seen since ``since``."""
    sql = (
        f"SELECT {_COLUMNS} FROM articles a WHERE a.rowid IN (SELECT value FROM json_each(:rowids))"
        + (_SINCE if since else "")
        + " ORDER BY coalesce(a.published, a.first_seen) DESC LIMIT :limit"
    )
    return fetch_all(db.execute(sql, {"rowids": json.dumps(rowids), "since": since, "limit": limit}), SearchHit)
