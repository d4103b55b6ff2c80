"""Subscribers' data private and the archive read-only (the plugin's docstring says how): the guard
on each connection, the public database's view of its tables, the private database beside it, and
the refusal of every request that could write."""

from __future__ import annotations

from typing import Any

from carewatch.archive.plugin.settings import private_tables, settings
from carewatch.archive.plugin.subscribe import accepts_post
from carewatch.ops.archive import guard_connection


def guard(conn: Any, database: str, datasette: Any) -> None:
    """A connection Datasette opened: both databases read-only, the public one blind to the private tables."""
    config = settings(datasette)
    public, private = config.get("public_database"), config.get("private_database")
    if database in (public, private):
        guard_connection(conn, private_tables(datasette) if database == public else None)


def hide_private_tables(datasette: Any) -> None:
    """At start-up: the public database lists no private table nor any foreign key into one, and
    the same file is opened again as the private database (for the signed-in operator)."""
    config = settings(datasette)
    public_name, private_name = config.get("public_database"), config.get("private_database")
    if not public_name or public_name not in datasette.databases:
        return
    public = datasette.get_database(public_name)
    hidden = private_tables(datasette)
    all_foreign_keys = public.get_all_foreign_keys

    async def public_foreign_keys() -> dict:  # no "links from other tables" into the private tables
        return {
            table: {
                direction: [fk for fk in fks[direction] if fk["other_table"] not in hidden]
                for direction in ("incoming", "outgoing")
            }
            for table, fks in (await all_foreign_keys()).items()
            if table not in hidden
        }

    public.get_all_foreign_keys = public_foreign_keys
    table_names = public.table_names

    async def public_table_names() -> list[str]:  # not listed, not counted (the count would be refused)
        return [t for t in await table_names() if t not in hidden]

    public.table_names = public_table_names
    if private_name and private_name not in datasette.databases and public.path:
        from datasette.database import Database

        datasette.add_database(Database(datasette, path=public.path, is_mutable=True), name=private_name)


def read_only(app: Any, datasette: Any = None) -> Any:
    """Only GET and HEAD reach Datasette, and a POST to the operator's sign-out and to the
    subscription pages (subscribe.POST_PATHS: sign up, confirm, manage, unsubscribe, which write through the
    service layer, never through Datasette's connections): every other POST, PUT or DELETE is
    answered 405 before any view sees it."""

    def base_url() -> str:
        return (datasette.setting("base_url") if datasette is not None else None) or "/"

    async def guarded(scope: dict, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in ("GET", "HEAD")
            and not (scope["method"] == "POST" and scope["path"].endswith("/-/logout"))
            and not (scope["method"] == "POST" and accepts_post(scope, base_url()))
        ):
            await send(
                {
                    "type": "http.response.start",
                    "status": 405,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET, HEAD")],
                }
            )
            await send({"type": "http.response.body", "body": b"This archive is read-only.\n"})
            return
        await app(scope, receive, send)

    return guarded
