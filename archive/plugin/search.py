"""The articles' search box speaks the alert rule language: ``?_search=`` on the public articles
table is read by core.query and decided as ``carewatch alerts test`` and ``carewatch search``
decide (carewatch.ops.archive.search_filter), so what an organiser tries here is what their alert
will do: ``privatis*``, ``topic:ofsted AND trust``, ``"social worker*" NEAR/5 agency``.

Datasette's own ``_search`` filter (datasette.filters.search_filters: the words escaped for FTS5,
or raw FTS5 syntax with ``_searchmode=raw``) would narrow the same rows a second time in another
language, so for this table its answer is replaced by ours (a pluggy wrapper around the
``filters_from_request`` hook: hooks.py). A search that cannot be read, or names a topic, source or
entity the config does not have, is answered 400 with the message saying why (and the valid
names), on Datasette's error page or in its JSON.
"""

from __future__ import annotations

from typing import Any

from datasette.filters import FilterArguments
from datasette.utils.asgi import BadRequest

from carewatch.archive.plugin.settings import settings
from carewatch.core.query import QueryError
from carewatch.ops.archive import search_filter


def applies(request: Any, database: str, table: str | None, datasette: Any) -> bool:
    """A search of the public database's articles table."""
    return (
        table == "articles"
        and database == settings(datasette).get("public_database")
        and bool((request.args.get("_search") or "").strip())
    )


def names(datasette: Any) -> dict[str, set[str]]:
    """The topics, sources and entities a search may name: the config's, as archive/serve.py read
    them into the plugin's labels."""
    labels = settings(datasette).get("labels") or {}
    return {
        "topic": set(labels.get("topic") or ()),
        "source": set(labels.get("source_id") or ()),
        "entity": set(labels.get("entity") or ()),
    }


def _datasettes_own(result: Any) -> bool:
    """Datasette's ``_search`` filter's answer (an ``inner`` coroutine function of
    datasette.filters.search_filters)."""
    return getattr(result, "__module__", None) == "datasette.filters" and getattr(
        result, "__qualname__", ""
    ).startswith("search_filters.")


def rule_search(request: Any, database: str, datasette: Any) -> Any:
    """The ``filters_from_request`` answer for a search: the articles the rule matches."""
    query = request.args["_search"]

    async def inner() -> FilterArguments:
        seconds = (datasette.setting("sql_time_limit_ms") or 1000) / 1000
        try:
            where, params = await search_filter(datasette.get_database(database), query, names(datasette), seconds)
        except QueryError as e:
            raise BadRequest(f"That search cannot be read: {e.about(query)}") from None
        return FilterArguments(
            [where], params, [f'search matches "{query}"'], {"supports_search": True, "search": query}
        )

    return inner


def filters(results: list, request: Any, database: str, table: str | None, datasette: Any) -> list:
    """Every ``filters_from_request`` answer, with Datasette's own search replaced by the rule
    language's on the articles table."""
    if not applies(request, database, table, datasette):
        return results
    return [r for r in results if not _datasettes_own(r)] + [rule_search(request, database, datasette)]
