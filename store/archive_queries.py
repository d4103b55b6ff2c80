"""The archive's queries (``carewatch serve``'s Datasette plugin, carewatch.archive.plugin, reaches
them through carewatch.ops.archive): the guard on every connection Datasette opens, the facet
counts Datasette has no class for, the search results' snippets and the article page's look-ups.

They run on Datasette's own read-only connections: the functions take Datasette's ``Database``
(or the Datasette instance, for facets, whose time limit Datasette applies) and await its
``execute``; what they return are typed rows. Datasette's QueryInterrupted (a query over its time
limit) and sqlite3's errors propagate, for the caller to decide what a page shows without them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from datasette.utils import escape_sqlite
from sqlite_utils import Database

from carewatch.store.alerting import RuleQuery, rule_select
from carewatch.store.articles import AT_OWN_ADDRESS

T = TypeVar("T")

RAW_PAGES = frozenset({"sqlite_dbpage", "dbstat"})  # virtual tables that read the file's pages, whatever table
_REFUSED_FUNCTIONS = ("load_extension", "writefile", "readfile")


# -- the guard on every connection ----------------------------------------------------------------
def authorizer(private_tables: frozenset[str]) -> Callable[[int, str | None, str | None, str | None, str | None], int]:
    """A SQLite authorizer for the public database: reads of the private tables (and of the raw
    pages of the file) are refused, and so are ATTACH and loading extensions. (Writes cannot
    happen: the connection is read-only twice over, mode=ro and query_only.)"""
    hidden = {t.lower() for t in private_tables} | RAW_PAGES

    def check(action: int, arg1: str | None, arg2: str | None, dbname: str | None, source: str | None) -> int:
        if action == sqlite3.SQLITE_READ and (arg1 or "").lower() in hidden:
            return sqlite3.SQLITE_DENY
        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _REFUSED_FUNCTIONS:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    return check


def guard_connection(conn: sqlite3.Connection, hidden_tables: frozenset[str] | None) -> None:
    """Make a connection Datasette opened read-only (``PRAGMA query_only``, on top of its
    ``mode=ro``) and, given ``hidden_tables`` (the public database's connections), unable to read
    them (``authorizer``)."""
    if hidden_tables is not None:
        conn.set_authorizer(authorizer(hidden_tables))
    conn.execute("PRAGMA query_only = 1")


# -- facets ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FacetCount:
    """One value of a facet and how many rows have it (``label``: the value's name, when the
    many-to-many table holds one)."""

    value: Any
    label: str | None
    count: int


@dataclass(frozen=True)
class FacetQuery:
    """One facet's counting query over ``{src}`` (the rows of the page being faceted, all pages),
    at most ``size`` values. Kinds: ``column`` (a column's values, most common first), ``year``
    (the year of an ISO date column, newest first) and ``through`` (a column of the many-to-many
    table ``table`` whose ``via`` column holds this table's ``key`` column)."""

    kind: str
    column: str
    size: int
    table: str | None = None
    via: str | None = None
    key: str | None = None
    label_column: str | None = None

    @property
    def needs(self) -> str:
        """The column of the faceted rows the count reads."""
        return escape_sqlite(self.key if self.kind == "through" else self.column)

    def sql(self, src: str) -> str:
        col = escape_sqlite(self.column)
        if self.kind == "through":
            label = f"max({escape_sqlite(self.label_column)})" if self.label_column else "null"
            return (
                f"select {col} as value, {label} as label, count(*) as count "
                f"from {escape_sqlite(self.table or '')} where {escape_sqlite(self.via or '')} in "
                f"(select {escape_sqlite(self.key or '')} from {src}) "
                f"group by value order by count desc, value limit {self.size}"
            )
        if self.kind == "year":
            return (
                f"select substr({col}, 1, 4) as value, null as label, count(*) as count from {src} "
                f"where {col} glob '[0-9][0-9][0-9][0-9]*' group by value order by value desc limit {self.size}"
            )
        return (
            f"select {col} as value, null as label, count(*) as count from {src} "
            f"where {col} is not null group by value order by count desc, value limit {self.size}"
        )


async def count_facet(
    datasette: Any, database: str, query: FacetQuery, rows_sql: str, params: dict, time_limit_ms: int
) -> list[FacetCount]:
    """One facet counted over the rows ``rows_sql`` selects."""
    results = await datasette.execute(
        database, query.sql(f"({rows_sql})"), params, truncate=False, custom_time_limit=time_limit_ms
    )
    return [FacetCount(r["value"], r["label"], r["count"]) for r in results.rows]


async def count_facets_together(
    datasette: Any, database: str, queries: list[FacetQuery], rows_sql: str, params: dict, time_limit_ms: int
) -> list[list[FacetCount]]:
    """Several facets counted by one query: the rows ``rows_sql`` selects (a search, say) are found
    once, their needed columns materialised in a CTE, instead of once per facet."""
    needs = ", ".join(dict.fromkeys(q.needs for q in queries))
    sql = f"with m as materialized (select {needs} from ({rows_sql})) " + " union all ".join(
        f"select {i} as part, * from ({q.sql('m')})" for i, q in enumerate(queries)
    )
    results = await datasette.execute(database, sql, params, truncate=False, custom_time_limit=time_limit_ms)
    counts: list[list[FacetCount]] = [[] for _ in queries]
    for r in results.rows:
        counts[r["part"]].append(FacetCount(r["value"], r["label"], r["count"]))
    return counts


# -- the search: the alert rule language ------------------------------------------------------------
def rule_clause(query: RuleQuery) -> tuple[str, dict[str, str | int]]:
    """A WHERE clause on the articles table selecting what the rule's query matches (store.alerting's
    translation, as the alert matcher runs it), through ``seq`` as Datasette's own search goes
    (migration m011: the (published, seq) index read newest first, a page at a time)."""
    if query.fts is not None and not query.filters:  # the words only: the index alone, as Datasette asks it
        return "seq IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :rule_fts)", {"rule_fts": query.fts}
    sql, params = rule_select(query)
    return f"seq IN ({sql})", params


def rowids_clause(rowids: list[int]) -> tuple[str, dict[str, str]]:
    """A WHERE clause on the articles table selecting the articles with these rowids."""
    return "seq IN (SELECT value FROM json_each(:rule_rowids))", {"rule_rowids": json.dumps(rowids)}


async def read_with(db: Any, fn: Callable[[Database], T]) -> T:
    """``fn`` run on one of Datasette's read-only connections (as sqlite-utils' Database), in its thread."""
    return await db.execute_fn(lambda conn: fn(Database(conn)))


# -- search results -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArticleCard:
    """What a search result shows of an article (``opening``: the first 2,000 characters of its text)."""

    article_id: str
    title: str | None
    source_id: str | None
    published: str | None
    first_seen: str | None
    author: str | None
    url: str | None
    topics: str | None
    relevant: int | None
    story_id: str | None
    version: int | None
    judgement: str | None
    opening: str | None


@dataclass(frozen=True)
class Snippet:
    """Where an article matched a search: its title highlighted and a snippet of its text, the
    matches between the control characters \\x02 and \\x03."""

    article_id: str
    title: str | None
    snippet: str | None


async def article_cards(db: Any, ids: list[str]) -> dict[str, ArticleCard]:
    """The articles with these ids, by id."""
    results = await db.execute(
        "select article_id, title, source_id, published, first_seen, author, url, topics, relevant, "
        "story_id, version, judgement, substr(text, 1, 2000) as opening from articles "
        "where article_id in (select value from json_each(:ids))",
        {"ids": json.dumps(ids)},
    )
    return {r["article_id"]: ArticleCard(**dict(r)) for r in results.rows}


async def search_snippets(db: Any, ids: list[str], search: str, raw: bool) -> dict[str, Snippet]:
    """Where each of these articles matches the search (``raw``: FTS5 query syntax, as Datasette's
    ``_searchmode=raw``; otherwise the words as Datasette escapes them), by id."""
    results = await db.execute(
        "select a.article_id, highlight(articles_fts, 0, char(2), char(3)) as title, "
        "snippet(articles_fts, 1, char(2), char(3), '…', 40) as snippet "
        # CROSS JOIN: the page's articles first, then the index entry of each (rowid = ? and MATCH),
        # rather than every match of a common word, then the page's
        "from articles a cross join articles_fts on articles_fts.rowid = a.rowid "
        "where a.article_id in (select value from json_each(:ids)) "
        f"and articles_fts match {':q' if raw else 'escape_fts(:q)'}",
        {"q": search, "ids": json.dumps(ids)},
    )
    return {r["article_id"]: Snippet(**dict(r)) for r in results.rows}


# -- the article page -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ArticlePageRow:
    """The columns of an article its page shows."""

    article_id: str
    url: str | None
    canonical_url: str | None
    source_id: str | None
    title: str | None
    author: str | None
    published: str | None
    first_seen: str | None
    edited: str | None
    text: str | None
    topics: str | None
    entities: str | None
    relevant: int | None
    version: int | None
    story_id: str | None
    judgement: str | None
    inspection_dates: str | None
    authority: str | None


@dataclass(frozen=True)
class ArticleCounts:
    """How many versions, alias URLs, articles in its story and raw captures an article has."""

    versions: int
    aliases: int
    story: int
    captures: int


@dataclass(frozen=True)
class CaptureRef:
    """An article's latest raw capture: where it is in which WARC file, and its digest."""

    id: int
    warc_file: str
    offset: int
    length: int
    sha256: str
    fetched: str
    content_type: str | None
    status: int | None


_ARTICLE_PAGE_COLUMNS = ", ".join(ArticlePageRow.__dataclass_fields__)


async def article_page_row(db: Any, article_id: str) -> ArticlePageRow | None:
    row = (
        await db.execute(f"select {_ARTICLE_PAGE_COLUMNS} from articles where article_id = :id", {"id": article_id})
    ).first()
    return ArticlePageRow(**dict(row)) if row is not None else None


async def article_counts(db: Any, article_id: str, story_id: str | None) -> ArticleCounts:
    row = (
        await db.execute(
            "select (select count(*) from article_versions where article_id = :id) as versions, "
            f"(select count(*) from article_aliases where article_id = :id and not {AT_OWN_ADDRESS}) as aliases, "
            "(select count(*) from articles where story_id = :story and :story != '') as story, "
            "(select count(*) from captures where article_id = :id) as captures",
            {"id": article_id, "story": story_id or ""},
        )
    ).first()
    return ArticleCounts(**dict(row))


async def latest_capture(db: Any, article_id: str) -> CaptureRef | None:
    row = (
        await db.execute(
            "select id, warc_file, offset, length, sha256, fetched, content_type, status from captures "
            "where article_id = :id order by id desc limit 1",
            {"id": article_id},
        )
    ).first()
    return CaptureRef(**dict(row)) if row is not None else None


# -- a story's page -------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoryArticle:
    """An article of a story, as the story's page lists it."""

    article_id: str
    title: str | None
    source_id: str | None
    published: str | None
    first_seen: str | None
    author: str | None
    url: str | None
    relevant: int | None


async def story_articles(db: Any, story_id: str) -> list[StoryArticle]:
    """Every article of the story (any order: the caller puts them in time order)."""
    results = await db.execute(
        "select article_id, title, source_id, published, first_seen, author, url, relevant from articles "
        "where story_id = :story",
        {"story": story_id},
    )
    return [StoryArticle(**dict(r)) for r in results.rows]
