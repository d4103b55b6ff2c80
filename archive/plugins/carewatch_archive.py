"""carewatch's Datasette plugin (loaded by ``carewatch serve`` with ``--plugins-dir``).

Its settings come from the metadata cli/serve.py writes (``plugins: carewatch-archive:``):
``public_database`` and ``private_database`` (the archive file served twice), ``private_tables``
(subscribers and what they were sent) and ``labels`` (source names, topic labels).

- Privacy: on the public database's connections a SQLite authorizer refuses every read of the
  private tables, so no table page, JSON export, facet or ``?sql=`` can return a row of them;
  Datasette does not list them there, and is told that no foreign keys lead to them (the article
  page's "links from other tables" would otherwise count rows in them). The same file is opened
  a second time as the private database, which the metadata lets only the signed-in operator
  (root) see.
- Read-only: every connection of both databases is ``PRAGMA query_only`` (on top of Datasette's
  ``mode=ro``), the authorizer refuses ATTACH and raw page reads (sqlite_dbpage), and any request
  but GET or HEAD is answered 405.
- Facets Datasette has no class for: ``through`` (a many-to-many table, e.g. an article's topics in
  article_topics, selected with Datasette's own ``_through=`` filter) and ``year``.
- Reading: article search results as a list with highlighted FTS5 snippets (templates/_table.html),
  the article page with its links and a citation (templates/row.html), diffs shown as removed and
  added words, and links from ids to the article, its story and its source.

Self-contained: it imports only Datasette and the standard library, so it loads in Datasette's
process however carewatch is installed.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args, path_with_replaced_args, tilde_encode
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

PLUGIN = "carewatch-archive"
CSS = Path(__file__).resolve().parent.parent / "static" / "carewatch.css"
START, END = "\x02", "\x03"  # FTS5 highlight markers, replaced by <mark> after escaping
_RAW_PAGES = {"sqlite_dbpage", "dbstat"}  # virtual tables that read the file's pages, whatever table they hold


def _settings(datasette) -> dict:
    return datasette.plugin_config(PLUGIN) or {}


def _private_tables(datasette) -> frozenset[str]:
    return frozenset(_settings(datasette).get("private_tables") or ())


# -- privacy and read-only ----------------------------------------------------------------------
def authorizer(private_tables: frozenset[str]):
    """A SQLite authorizer for the public database: reads of the private tables (and of the raw
    pages of the file) are refused, and so are ATTACH and loading extensions. (Writes cannot
    happen: the connection is read-only twice over, mode=ro and query_only.)"""
    hidden = {t.lower() for t in private_tables} | _RAW_PAGES

    def check(action, arg1, arg2, dbname, source):  # noqa: ANN001, ANN202, ARG001
        if action == sqlite3.SQLITE_READ and (arg1 or "").lower() in hidden:
            return sqlite3.SQLITE_DENY
        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in ("load_extension", "writefile", "readfile"):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    return check


@hookimpl
def prepare_connection(conn, database, datasette):
    settings = _settings(datasette)
    if database == settings.get("public_database"):
        conn.set_authorizer(authorizer(_private_tables(datasette)))
    if database in (settings.get("public_database"), settings.get("private_database")):
        conn.execute("PRAGMA query_only = 1")


@hookimpl
def startup(datasette):
    settings = _settings(datasette)
    public_name, private_name = settings.get("public_database"), settings.get("private_database")
    if not public_name or public_name not in datasette.databases:
        return
    public = datasette.get_database(public_name)
    private_tables = _private_tables(datasette)
    all_foreign_keys = public.get_all_foreign_keys

    async def public_foreign_keys():  # no "links from other tables" into the private tables
        return {
            table: {direction: [fk for fk in fks[direction] if fk["other_table"] not in private_tables]
                    for direction in ("incoming", "outgoing")}
            for table, fks in (await all_foreign_keys()).items() if table not in private_tables
        }

    public.get_all_foreign_keys = public_foreign_keys
    table_names = public.table_names

    async def public_table_names():  # not listed, not counted (the count would be refused)
        return [t for t in await table_names() if t not in private_tables]

    public.table_names = public_table_names
    if private_name and private_name not in datasette.databases and public.path:
        from datasette.database import Database

        datasette.add_database(Database(datasette, path=public.path, is_mutable=True), name=private_name)


@hookimpl
def asgi_wrapper(datasette):
    """Only GET and HEAD reach Datasette (and the operator's sign-out): a visitor's POST, PUT or
    DELETE is answered 405 before any view sees it."""

    def wrap(app):
        async def read_only(scope, receive, send):
            if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD") and not (
                    scope["method"] == "POST" and scope["path"].endswith("/-/logout")):
                await send({"type": "http.response.start", "status": 405,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET, HEAD")]})
                await send({"type": "http.response.body", "body": b"This archive is read-only.\n"})
                return
            await app(scope, receive, send)

        return read_only

    return wrap


# -- facets -------------------------------------------------------------------------------------
def _through_args(request) -> list[tuple[str, dict]]:
    out = []
    for raw in request.args.getlist("_through"):
        try:
            out.append((raw, json.loads(raw)))
        except ValueError:
            pass
    return out


class FacetPart:
    """One facet's counting query over ``{src}`` (the rows on the page, all pages) and how its rows
    become Datasette's facet results. Kinds: ``column`` (a column's values), ``year`` (the year of
    an ISO date column, newest first; selected with ``column__startswith=YYYY``) and ``through``
    (a column of a many-to-many table pointing to this one, e.g. article_topics.topic for
    articles; selected with Datasette's own ``_through={"table", "column", "value"}`` filter)."""

    def __init__(self, facet: Facet, kind: str, name: str, sql: str, needs: str, hideable: bool, **extra):
        self.facet, self.kind, self.name, self.sql, self.needs, self.hideable = facet, kind, name, sql, needs, hideable
        self.extra = extra

    @classmethod
    async def build(cls, facet: Facet, kind: str, config: dict, hideable: bool) -> FacetPart | None:
        size = facet.get_facet_size() + 1
        if kind == "through":
            other, column = config.get("table"), config.get("column")
            if not other or not column or other in _private_tables(facet.ds):
                return None
            db = facet.ds.get_database(facet.database)
            fks = [fk for fk in await db.foreign_keys_for_table(other) if fk["other_table"] == facet.table]
            if not fks:
                return None
            fk = fks[0]
            label = f"max({escape_sqlite(config['label_column'])})" if config.get("label_column") else "null"
            sql = (f"select {escape_sqlite(column)} as value, {label} as label, count(*) as count "
                   f"from {escape_sqlite(other)} where {escape_sqlite(fk['column'])} in "
                   f"(select {escape_sqlite(fk['other_column'])} from {{src}}) "
                   f"group by value order by count desc, value limit {size}")
            return cls(facet, kind, config.get("name") or column, sql, escape_sqlite(fk["other_column"]), hideable,
                       table=other, column=column)
        column = config.get("column") or config.get("simple")
        if not isinstance(column, str):
            return None
        col = escape_sqlite(column)
        if kind == "year":
            sql = (f"select substr({col}, 1, 4) as value, null as label, count(*) as count from {{src}} "
                   f"where {col} glob '[0-9][0-9][0-9][0-9]*' group by value order by value desc limit {size}")
        else:
            sql = (f"select {col} as value, null as label, count(*) as count from {{src}} "
                   f"where {col} is not null group by value order by count desc, value limit {size}")
        return cls(facet, kind, column, sql, col, hideable, column=column)

    def result(self, rows: list) -> dict:
        facet, request = self.facet, self.facet.request
        size = facet.get_facet_size()
        labels = (_settings(facet.ds).get("labels") or {}).get(self.extra["column"]) or {}
        pairs = facet.get_querystring_pairs()
        chosen = _through_args(request)
        values = []
        for row in rows[:size]:
            value = row["value"]
            if self.kind == "through":
                mine = [raw for raw, t in chosen if t.get("table") == self.extra["table"]
                        and t.get("column") == self.extra["column"] and str(t.get("value")) == str(value)]
                remove = {"_through": mine[0]} if mine else None
                add = {"_through": json.dumps({"table": self.extra["table"], "column": self.extra["column"],
                                               "value": value}, ensure_ascii=False)}
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
            values.append({
                "value": value,
                "label": row["label"] or labels.get(str(value)) or value,
                "count": row["count"],
                "toggle_url": facet.ds.absolute_url(request, facet.ds.urls.path(path)),
                "selected": bool(mine),
            })
        arg = {"through": "_facet_through", "year": "_facet_year"}.get(self.kind, "_facet")
        return {
            "name": self.name, "type": self.kind, "hideable": self.hideable,
            "toggle_url": facet.ds.urls.path(path_with_removed_args(request, {arg: self.name})),
            "results": values, "truncated": len(rows) > size,
        }


async def _run(facet: Facet, sql: str):
    return await facet.ds.execute(facet.database, sql, facet.params, truncate=False,
                                  custom_time_limit=facet.ds.setting("facet_time_limit_ms"))


class _PartFacet(Facet):
    """A facet type whose every configured facet is counted by a query of its own."""

    async def suggest(self):
        return []

    async def parts(self) -> list[FacetPart]:
        parts = []
        for source_and_config in self.get_configs():
            part = await FacetPart.build(self, self.type, source_and_config["config"],
                                         hideable=source_and_config["source"] != "metadata")
            if part is not None:
                parts.append(part)
        return parts

    async def facet_results(self):
        return await self.count_each(await self.parts() if self.table else [])

    async def count_each(self, parts: list[FacetPart]) -> tuple[list, list]:
        results, timed_out = [], []
        for part in parts:
            try:
                rows = await _run(self, part.sql.format(src=f"({self.sql})"))
            except QueryInterrupted:
                timed_out.append(part.name)
                continue
            except sqlite3.DatabaseError:  # no such column, or a table the authorizer refuses
                continue
            results.append(part.result(rows.rows))
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
            for item in (source_and_config["config"].get("facets") or []):
                if isinstance(item, dict) and len(item) == 1:
                    kind, config = next(iter(item.items()))
                    config = config if isinstance(config, dict) else {"column": config}
                    part = await FacetPart.build(self, kind, config, hideable=source_and_config["source"] != "metadata")
                    if part is not None:
                        parts.append(part)
        return parts

    async def facet_results(self):
        parts = await self.parts() if self.table else []
        if not parts:
            return [], []
        needs = ", ".join(dict.fromkeys(p.needs for p in parts))
        sql = (f"with m as materialized (select {needs} from ({self.sql})) "
               + " union all ".join(f"select {i} as part, * from ({p.sql.format(src='m')})" for i, p in enumerate(parts)))
        try:
            rows = (await _run(self, sql)).rows
        except QueryInterrupted:
            return [], [p.name for p in parts]
        except sqlite3.DatabaseError:  # no such column, or a table the authorizer refuses: each on its own
            return await self.count_each(parts)
        return [part.result([r for r in rows if r["part"] == i]) for i, part in enumerate(parts)], []


@hookimpl
def register_facet_classes():
    return [ThroughFacet, YearFacet, SummaryFacet]


# -- rendering ----------------------------------------------------------------------------------
def render_diff(diff: str) -> Markup:
    """article_versions.diff ('- removed words' / '+ added words' lines) as struck-through and
    underlined words."""
    parts = []
    for line in diff.splitlines():
        if line.startswith("- "):
            parts.append(Markup('<del class="cw-del">{}</del>').format(line[2:]))
        elif line.startswith("+ "):
            parts.append(Markup('<ins class="cw-ins">{}</ins>').format(line[2:]))
        elif line.strip():
            parts.append(Markup("<span>{}</span>").format(line))
    return Markup('<div class="cw-diff">{}</div>').format(Markup("<br>").join(parts))


def _marked(text: str) -> Markup:
    """Escape text whose FTS5 matches are between START and END, and mark the matches."""
    return Markup(str(escape(text)).replace(START, "<mark>").replace(END, "</mark>"))


def _excerpt(text: str | None, words: int = 45) -> str:
    bits = (text or "").split()
    return " ".join(bits[:words]) + (" …" if len(bits) > words else "")


def _date(value: str | None) -> str:
    """'2024-06-18T19:19:13+00:00' -> '18 June 2024' (as given, when it is not an ISO date)."""
    if not value:
        return ""
    try:
        d = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return f"{d.day} {d:%B %Y}"


def _json_list(value) -> list:
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return data if isinstance(data, list) else []


class Links:
    """URLs into the public database."""

    def __init__(self, datasette):
        self.ds = datasette
        self.db = _settings(datasette).get("public_database")

    def table(self, table: str, **args) -> str:
        url = self.ds.urls.table(self.db, table)
        return f"{url}?{urlencode(args)}" if args else url

    def query(self, name: str, **args) -> str:
        url = self.ds.urls.query(self.db, name)
        return f"{url}?{urlencode(args)}" if args else url

    def article(self, article_id: str) -> str:
        return self.ds.urls.row(self.db, "articles", tilde_encode(str(article_id)))

    def through(self, table: str, column: str, value: str) -> str:
        return self.table("articles", _through=json.dumps({"table": table, "column": column, "value": value}))


def _chips(links: Links, items: list, key: str, label: str, table: str, column: str) -> Markup:
    chips = [Markup('<a class="cw-chip" href="{}">{}</a>').format(links.through(table, column, i[key]), i.get(label) or i[key])
             for i in items if isinstance(i, dict) and i.get(key)]
    return Markup(" ").join(chips)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    settings = _settings(datasette)
    if database not in (settings.get("public_database"), settings.get("private_database")) or value in (None, ""):
        return None
    links = Links(datasette)
    names = (settings.get("labels") or {}).get("source_id") or {}
    if column == "diff" and table in (None, "article_versions"):
        return render_diff(str(value))
    if column == "source_id" and table in (None, "articles", "article_aliases", "fetches"):
        return Markup('<a href="{}" title="{}">{}</a>').format(links.table("articles", source_id=value),
                                                              f"All articles from {names.get(value, value)}", value)
    if column == "story_id" and table in (None, "articles"):
        return Markup('<a href="{}" title="Every article in this story">{}</a>').format(
            links.table("articles", story_id=value), value)
    if column == "article_id" and table is None:  # canned queries: the id leads to the article
        return Markup('<a href="{}">{}</a>').format(links.article(value), value)
    if column == "text" and table is None:  # canned queries: a long text in a box of its own
        return Markup('<div class="cw-textcell">{}</div>').format(value)
    if column == "topics" and table == "articles":
        return _chips(links, _json_list(value), "topic", "label", "article_topics", "topic") or None
    if column == "entities" and table == "articles":
        return _chips(links, _json_list(value), "entity", "name", "article_entities", "entity") or None
    return None


class ArchiveContext:
    """What the templates ask of the archive (``cw`` in templates/_table.html and row.html)."""

    def __init__(self, datasette, database, table, view_name, request):
        settings = _settings(datasette)
        self.ds, self.request = datasette, request
        self.links = Links(datasette)
        self.is_public = database is not None and database == settings.get("public_database")
        self.articles_table = self.is_public and table == "articles" and view_name == "table"
        self.article_row = self.is_public and table == "articles" and view_name == "row"
        self.source_names = (settings.get("labels") or {}).get("source_id") or {}
        self._articles: dict[str, dict | None] = {}

    def source_name(self, source_id: str | None) -> str:
        return self.source_names.get(source_id or "", source_id or "")

    async def cards(self, rows) -> list[dict]:
        """The articles on this page of search results, in order, each with a highlighted
        snippet of where it matched (or its opening, without a search)."""
        ids = [r["article_id"] for r in rows if "article_id" in r.keys()]
        if not ids:
            return []
        db = self.ds.get_database(_settings(self.ds).get("public_database"))
        found = {r["article_id"]: dict(r) for r in (await db.execute(
            "select article_id, title, source_id, published, first_seen, author, url, topics, relevant, "
            "story_id, version, judgement, substr(text, 1, 2000) as opening from articles "
            "where article_id in (select value from json_each(:ids))", {"ids": json.dumps(ids)})).rows}
        snippets = {}
        search = self.request.args.get("_search") if self.request else None
        if search:
            raw = self.request.args.get("_searchmode") == "raw"
            try:
                snippets = {r["article_id"]: r for r in (await db.execute(
                    "select a.article_id, highlight(articles_fts, 0, char(2), char(3)) as title, "
                    "snippet(articles_fts, 1, char(2), char(3), '…', 40) as snippet "
                    # CROSS JOIN: the page's articles first, then the index entry of each (rowid = ?
                    # and MATCH), rather than every match of a common word, then the page's
                    "from articles a cross join articles_fts on articles_fts.rowid = a.rowid "
                    "where a.article_id in (select value from json_each(:ids)) "
                    f"and articles_fts match {':q' if raw else 'escape_fts(:q)'}",
                    {"q": search, "ids": json.dumps(ids)})).rows}
            except (QueryInterrupted, sqlite3.Error):
                snippets = {}
        cards = []
        for article_id in ids:
            a = found.get(article_id)
            if a is None:
                continue
            hit = snippets.get(article_id)
            cards.append({
                **a,
                "href": self.links.article(article_id),
                "title_html": _marked(hit["title"]) if hit and hit["title"] else escape(a["title"] or "(untitled)"),
                "snippet_html": _marked(hit["snippet"]) if hit and START in (hit["snippet"] or "") else escape(_excerpt(a["opening"])),
                "date": _date(a["published"]) or f"found {_date(a['first_seen'])}",
                "source_name": self.source_name(a["source_id"]),
                "source_href": self.links.table("articles", source_id=a["source_id"]),
                "topics_html": _chips(self.links, _json_list(a["topics"]), "topic", "label", "article_topics", "topic"),
            })
        return cards

    async def article(self, article_id: str) -> dict | None:
        """One article with everything its page links to: versions, copies, story, source,
        raw capture, and a citation."""
        if article_id in self._articles:
            return self._articles[article_id]
        db = self.ds.get_database(_settings(self.ds).get("public_database"))
        row = (await db.execute("select * from articles where article_id = :id", {"id": article_id})).first()
        if row is None:
            self._articles[article_id] = None
            return None
        a = dict(row)
        counts = (await db.execute(
            "select (select count(*) from article_versions where article_id = :id) as versions, "
            "(select count(*) from article_aliases where article_id = :id) as aliases, "
            "(select count(*) from articles where story_id = :story and :story != '') as story, "
            "(select count(*) from captures where article_id = :id) as captures",
            {"id": article_id, "story": a.get("story_id") or ""})).first()
        capture = (await db.execute(
            "select id, warc_file, offset, length, sha256, fetched, content_type, status from captures "
            "where article_id = :id order by id desc limit 1", {"id": article_id})).first()
        links, source = self.links, a.get("source_id")
        published = _date(a.get("published"))
        permalink = self.ds.absolute_url(self.request, links.article(article_id)) if self.request else links.article(article_id)
        citation = ". ".join(bit for bit in (
            (a.get("author") or "").strip(), f"“{(a.get('title') or '').strip()}”", self.source_name(source),
            published, (a.get("canonical_url") or a.get("url") or ""),
            f"Archived by carewatch (first seen {_date(a.get('first_seen'))}, version {a.get('version') or 1}): {permalink}",
        ) if bit) + "."
        result = {
            **a,
            "date": published,
            "first_seen_date": _date(a.get("first_seen")),
            "edited_date": _date(a.get("edited")),
            "source_name": self.source_name(source),
            "paragraphs": [p.strip() for p in (a.get("text") or "").split("\n") if p.strip()],
            "topics_html": _chips(links, _json_list(a.get("topics")), "topic", "label", "article_topics", "topic"),
            "entities_html": _chips(links, _json_list(a.get("entities")), "entity", "name", "article_entities", "entity"),
            "counts": dict(counts),
            "capture": dict(capture) if capture else None,
            "citation": citation,
            "permalink": permalink,
            "links": {
                "versions": links.query("statement_versions", article_id=article_id),
                "versions_table": links.table("article_versions", article_id=article_id),
                "aliases": links.table("article_aliases", article_id=article_id),
                "story": links.table("articles", story_id=a.get("story_id") or article_id),
                "source": links.table("articles", source_id=source or ""),
                "source_health": links.query("source_health", source_id=source or ""),
                "captures": links.table("captures", article_id=article_id),
                "capture": (self.ds.urls.row(links.db, "captures", str(capture["id"])) if capture else None),
            },
        }
        self._articles[article_id] = result
        return result


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    return {"cw": ArchiveContext(datasette, database, table, view_name, request)}


@hookimpl
def prepare_jinja2_environment(env, datasette):
    env.filters["cw_date"] = _date


# -- page furniture -----------------------------------------------------------------------------
@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.path("/-/carewatch.css")]


@hookimpl
def extra_body_script(view_name):
    if view_name != "table":
        return None
    # Column descriptions (from the metadata) folded away under a summary, so results come first.
    return """
document.querySelectorAll("dl.column-descriptions").forEach(function (dl) {
  var details = document.createElement("details"), summary = document.createElement("summary");
  summary.textContent = "What each column means";
  details.className = "cw-columns";
  dl.parentNode.insertBefore(details, dl);
  details.appendChild(summary);
  details.appendChild(dl);
});
"""


async def _css(request):  # noqa: ARG001
    return Response(CSS.read_text(encoding="utf-8"), content_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "max-age=3600"})


@hookimpl
def register_routes():
    return [(r"^/-/carewatch\.css$", _css)]


__all__ = ["ArchiveContext", "FacetPart", "SummaryFacet", "ThroughFacet", "YearFacet", "authorizer", "render_diff"]
