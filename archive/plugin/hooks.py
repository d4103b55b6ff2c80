"""Every Datasette hook the plugin implements (the only module Datasette registers: the loader in
archive/plugins/ imports these), each handing over to the module that does the work."""

from __future__ import annotations

from functools import partial
from typing import Any

from datasette import hookimpl

from carewatch.archive.plugin import privacy, rendering, routes, search, subscribe
from carewatch.archive.plugin.context import ArchiveContext
from carewatch.archive.plugin.facets import FACET_CLASSES


@hookimpl
def prepare_connection(conn: Any, database: str, datasette: Any) -> None:
    privacy.guard(conn, database, datasette)


@hookimpl
def startup(datasette: Any) -> None:
    privacy.hide_private_tables(datasette)


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    return partial(privacy.read_only, datasette=datasette)


@hookimpl
def skip_csrf(datasette: Any, scope: dict) -> bool:
    """Only the RFC 8058 one-click unsubscribe (a mail client's POST, with no cookie and no token)."""
    return subscribe.skips_csrf(scope, datasette.setting("base_url") or "/")


@hookimpl
def register_facet_classes() -> list:
    return FACET_CLASSES


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    return rendering.render_cell(value, column, table, database, datasette)


@hookimpl
def extra_template_vars(
    template: str, database: str | None, table: str | None, view_name: str, request: Any, datasette: Any
) -> dict:
    return {"cw": ArchiveContext(datasette, database, table, view_name, request)}


@hookimpl
def prepare_jinja2_environment(env: Any, datasette: Any) -> None:
    env.filters["cw_date"] = rendering.date
    env.filters["cw_when"] = rendering.when


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    return [datasette.urls.path("/-/carewatch.css")]


@hookimpl
def extra_body_script(view_name: str) -> str | None:
    return rendering.FOLD_COLUMN_DESCRIPTIONS if view_name == "table" else None


@hookimpl
def register_routes() -> list:
    return routes.ROUTES


@hookimpl(wrapper=True)
def filters_from_request(request: Any, database: str, table: str | None, datasette: Any) -> Any:
    results = yield
    return search.filters(results, request, database, table, datasette)


__all__ = [
    "asgi_wrapper",
    "extra_body_script",
    "extra_css_urls",
    "extra_template_vars",
    "filters_from_request",
    "prepare_connection",
    "prepare_jinja2_environment",
    "register_facet_classes",
    "register_routes",
    "render_cell",
    "skip_csrf",
    "startup",
]
