"""What ``carewatch serve``'s Datasette plugin (carewatch.archive.plugin) asks of the archive: the
guard on Datasette's connections, facet counts, search results with their snippets, and an article
page's look-ups. Thin: the queries are store.archive_queries'; this is the plugin's door to them.
Each takes the Datasette ``Database`` (or, for facets, the Datasette instance) the plugin was given."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from datasette.database import QueryInterrupted

from carewatch.alerts.match import archive_rowids, rule_query, wider_query
from carewatch.core.items import parse_timestamp
from carewatch.core.query import QueryError, check_names
from carewatch.store import archive_queries as queries
from carewatch.store.archive_queries import (
    ArticleCard,
    ArticleCounts,
    ArticlePageRow,
    CaptureRef,
    FacetCount,
    FacetQuery,
    Snippet,
    StoryArticle,
)


def guard_connection(conn: Any, hidden_tables: frozenset[str] | None) -> None:
    """Read-only, and (given ``hidden_tables``, on the public database) unable to read those."""
    queries.guard_connection(conn, hidden_tables)


def facet_query(
    kind: str,
    column: str,
    size: int,
    *,
    table: str | None = None,
    via: str | None = None,
    key: str | None = None,
    label_column: str | None = None,
) -> FacetQuery:
    """A facet's counting query: see store.archive_queries.FacetQuery."""
    return FacetQuery(kind, column, size, table=table, via=via, key=key, label_column=label_column)


async def count_facet(
    datasette: Any, database: str, query: FacetQuery, rows_sql: str, params: dict, time_limit_ms: int
) -> list[FacetCount]:
    """One facet's values over the rows ``rows_sql`` selects (QueryInterrupted past the time limit)."""
    return await queries.count_facet(datasette, database, query, rows_sql, params, time_limit_ms)


async def count_facets_together(
    datasette: Any, database: str, facets: list[FacetQuery], rows_sql: str, params: dict, time_limit_ms: int
) -> list[list[FacetCount]]:
    """Several facets' values, the rows ``rows_sql`` selects found once."""
    return await queries.count_facets_together(datasette, database, facets, rows_sql, params, time_limit_ms)


@dataclass(frozen=True)
class SearchResults:
    """The articles on a page of search results, by id, and where each matched (none without a
    search, or when the search is not one FTS5 reads)."""

    cards: dict[str, ArticleCard]
    snippets: dict[str, Snippet]


async def search_filter(
    db: Any, query: str, names: Mapping[str, Collection[str]], seconds: float
) -> tuple[str, dict[str, Any]]:
    """The archive's web search: a WHERE clause (and its parameters) on the articles table selecting
    the articles the rule ``query`` matches, decided as ``alerts test`` and ``carewatch search``
    decide (alerts.match: the rule's FTS5 query, else the rule read article by article, for at most
    ``seconds``). QueryError when it does not parse, names an unknown topic, source or entity
    (core.query.check_names, against ``names``) or takes too long."""
    check_names(query, names)
    plan = rule_query(query)
    if plan is not None:
        return queries.rule_clause(plan)
    return queries.rowids_clause(await queries.read_with(db, lambda d: archive_rowids(d, query, seconds=seconds)))


def _highlight(search: str) -> str | None:
    """The FTS5 expression whose matches a search's snippets mark: the rule's own (or a wider one)."""
    try:
        plan = rule_query(search) or wider_query(search)
    except QueryError:
        return None
    return plan.fts


async def search_results(db: Any, ids: list[str], search: str | None, raw: bool) -> SearchResults:
    """The page's articles and, given a search (the rule language: ``raw`` no longer changes how it
    is read), where each matched."""
    cards = await queries.article_cards(db, ids)
    snippets: dict[str, Snippet] = {}
    fts = _highlight(search) if search else None
    if fts:
        try:
            snippets = await queries.search_snippets(db, ids, fts, True)
        except (QueryInterrupted, sqlite3.Error):
            snippets = {}
    return SearchResults(cards, snippets)


@dataclass(frozen=True)
class ArticlePage:
    """An article, the counts of what its page links to, and its latest raw capture."""

    article: ArticlePageRow
    counts: ArticleCounts
    capture: CaptureRef | None


async def article_page(db: Any, article_id: str) -> ArticlePage | None:
    row = await queries.article_page_row(db, article_id)
    if row is None:
        return None
    counts = await queries.article_counts(db, article_id, row.story_id)
    return ArticlePage(row, counts, await queries.latest_capture(db, article_id))


@dataclass(frozen=True)
class StoryPage:
    """A story (coverage of one event by different outlets): its articles in time order, the first
    to report it first; its title is that article's headline."""

    story_id: str
    title: str | None
    articles: list[StoryArticle]


def _when(article: StoryArticle) -> tuple[int, datetime]:
    """When an article came out, for the time order: its publication date, else when carewatch
    first saw it; an undated one last."""
    for value in (article.published, article.first_seen):
        if value:
            try:
                return 0, parse_timestamp(value)
            except ValueError:
                continue
    return 1, datetime.max.replace(tzinfo=UTC)


async def story_page(db: Any, story_id: str) -> StoryPage | None:
    """The story ``story_id`` (an article's ``story_id``); None when no article has it."""
    articles = sorted(
        await queries.story_articles(db, story_id), key=lambda a: (_when(a), a.first_seen or "", a.article_id)
    )
    if not articles:
        return None
    return StoryPage(story_id, articles[0].title, articles)
