"""Facets Datasette has no class for: ``through`` (a many-to-many table pointing to this one, e.g.
article_topics.topic for articles, selected with Datasette's own ``_through=`` filter), ``year``
(the year of an ISO date column, newest first, selected with ``column__startswith=YYYY``) and
``summary`` (several facets counted by one query). Counted by store.archive_queries, through
carewatch.ops.archive."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import path_with_added_args, path_with_removed_args, path_with_replaced_args

from carewatch.archive.plugin.settings import private_tables, settings
from carewatch.ops.archive import FacetCount, FacetQuery, count_facet, count_facets_together, facet_query


def _through_args(request: Any) -> list[tuple[str, dict]]:
    out = []
    for raw in request.args.getlist("_through"):
        try:
            out.append((raw, json.loads(raw)))
        except ValueError:
            pass
    return out


class FacetPart:
    """One configured facet: its counting query (``query``) and how its counts become Datasette's
    facet results. Kinds: ``column``, ``year`` and ``through`` (see the module)."""

    def __init__(self, facet: Facet, query: FacetQuery, name: str, hideable: bool, **extra: Any):
        self.facet, self.query, self.kind, self.name, self.hideable = facet, query, query.kind, name, hideable
        self.extra = extra

    @classmethod
    async def build(cls, facet: Facet, kind: str, config: dict, hideable: bool) -> FacetPart | None:
        size = facet.get_facet_size() + 1
        if kind == "through":
            other, column = config.get("table"), config.get("column")
            if not other or not column or other in private_tables(facet.ds):
                return None
            db = facet.ds.get_database(facet.database)
            fks = [fk for fk in await db.foreign_keys_for_table(other) if fk["other_table"] == facet.table]
            if not fks:
                return None
            fk = fks[0]
            query = facet_query(
                kind,
                column,
                size,
                table=other,
                via=fk["column"],
                key=fk["other_column"],
                label_column=config.get("label_column"),
            )
            return cls(facet, query, config.get("name") or column, hideable, table=other, column=column)
        column = config.get("column") or config.get("simple")
        if not isinstance(column, str):
            return None
        return cls(facet, facet_query(kind, column, size), column, hideable, column=column)

    def result(self, rows: list[FacetCount]) -> dict:
        facet, request = self.facet, self.facet.request
        size = facet.get_facet_size()
        labels = (settings(facet.ds).get("labels") or {}).get(self.extra["column"]) or {}
        pairs = facet.get_querystring_pairs()
        chosen = _through_args(request)
        values = []
        for row in rows[:size]:
            value = row.value
            mine: list
            if self.kind == "through":
                mine = [
                    raw
                    for raw, t in chosen
                    if t.get("table") == self.extra["table"]
                    and t.get("column") == self.extra["column"]
                    and str(t.get("value")) == str(value)
                ]
                remove = {"_through": mine[0]} if mine else None
                add = {
                    "_through": json.dumps(
                        {"table": self.extra["table"], "column": self.extra["column"], "value": value},
                        ensure_ascii=False,
                    )
                }
            else:
                key = f"{self.name}__startswith" if self.kind == "year" else self.name
                mine = [(key, str(value))] if (key, str(value)) in pairs else []
                remove = {key: str(value)} if mine else None
                add = {key: value}
            if remove:
                path = path_with_removed_args(request, remove)
            elif self.kind == "column":  # filters on two columns narrow together
                path = path_with_added_args(request, {**add, "_next": None})
            else:  # one year, one _through at a time (Datasette reads the first _through only)
                path = path_with_replaced_args(request, {**add, "_next": None})
            values.append(
                {
                    "value": value,
                    "label": row.label or labels.get(str(value)) or value,
                    "count": row.count,
                    "toggle_url": facet.ds.absolute_url(request, facet.ds.urls.path(path)),
                    "selected": bool(mine),
                }
            )
        arg = {"through": "_facet_through", "year": "_facet_year"}.get(self.kind, "_facet")
        return {
            "name": self.name,
            "type": self.kind,
            "hideable": self.hideable,
            "toggle_url": facet.ds.urls.path(path_with_removed_args(request, {arg: self.name})),
            "results": values,
            "truncated": len(rows) > size,
        }


class _PartFacet(Facet):
    """A facet type whose every configured facet is counted by a query of its own."""

    async def suggest(self) -> list:
        return []

    def _time_limit(self) -> int:
        return self.ds.setting("facet_time_limit_ms")

    async def parts(self) -> list[FacetPart]:
        parts = []
        for source_and_config in self.get_configs():
            part = await FacetPart.build(
                self, self.type, source_and_config["config"], hideable=source_and_config["source"] != "metadata"
            )
            if part is not None:
                parts.append(part)
        return parts

    async def facet_results(self) -> tuple[list, list]:
        return await self.count_each(await self.parts() if self.table else [])

    async def count_each(self, parts: list[FacetPart]) -> tuple[list, list]:
        results, timed_out = [], []
        for part in parts:
            try:
                rows = await count_facet(self.ds, self.database, part.query, self.sql, self.params, self._time_limit())
            except QueryInterrupted:
                timed_out.append(part.name)
                continue
            except sqlite3.DatabaseError:  # no such column, or a table the authorizer refuses
                continue
            results.append(part.result(rows))
        return results, timed_out


class ThroughFacet(_PartFacet):
    """``{"through": {"table": ..., "column": ..., "name": ..., "label_column": ...}}``, or
    ``?_facet_through=`` with that JSON: see FacetPart."""

    type = "through"


class YearFacet(_PartFacet):
    """``{"year": "published"}`` or ``?_facet_year=published``: see FacetPart."""

    type = "year"


class SummaryFacet(_PartFacet):
    """Several facets counted by one query: ``{"summary": {"facets": [{"column": "source_id"},
    {"year": "published"}, {"through": {...}}]}}``. The search runs once (the matching rows'
    needed columns are materialised in a CTE) instead of once per facet: on a common word in a
    100k archive, one pass instead of five."""

    type = "summary"

    async def parts(self) -> list[FacetPart]:
        parts = []
        for source_and_config in self.get_configs():
            for item in source_and_config["config"].get("facets") or []:
                if isinstance(item, dict) and len(item) == 1:
                    kind, config = next(iter(item.items()))
                    config = config if isinstance(config, dict) else {"column": config}
                    part = await FacetPart.build(self, kind, config, hideable=source_and_config["source"] != "metadata")
                    if part is not None:
                        parts.append(part)
        return parts

    async def facet_results(self) -> tuple[list, list]:
        parts = await self.parts() if self.table else []
        if not parts:
            return [], []
        try:
            counts = await count_facets_together(
                self.ds, self.database, [p.query for p in parts], self.sql, self.params, self._time_limit()
            )
        except QueryInterrupted:
            return [], [p.name for p in parts]
        except sqlite3.DatabaseError:  # no such column, or a table the authorizer refuses: each on its own
            return await self.count_each(parts)
        return [part.result(rows) for part, rows in zip(parts, counts, strict=True)], []


FACET_CLASSES = [ThroughFacet, YearFacet, SummaryFacet]
