"""Open the archive: WAL mode, a busy timeout, and every pending migration applied."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, overload

import sqlite_utils

from carewatch.core.errors import StoreError
from carewatch.store.migrations import migrations

Row = TypeVar("Row")


class Database(sqlite_utils.Database):
    """sqlite-utils' Database whose transactions take the write lock when they begin (BEGIN
    IMMEDIATE). A deferred transaction that reads and then writes fails at once with "database is
    locked" when another process wrote in between (WAL cannot upgrade a stale snapshot); taking the
    lock first makes it wait its turn (the busy timeout) instead, so parallel crawls, the digest job
    and Datasette readers share the file safely."""

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.rollback()
                raise


WAL_AUTOCHECKPOINT_PAGES = 4000


def database_size(path: str | os.PathLike[str]) -> int:
    """Bytes of the database file and its write-ahead log."""
    return sum(os.path.getsize(p) for p in (str(path), f"{path}-wal") if os.path.exists(p))


def open_db(path: str | os.PathLike[str], *, migrate: bool = True, read_only: bool = False) -> Database:
    """The archive at ``path``, created and migrated if need be; ``read_only``: an existing archive,
    opened for reading only (nothing created, migrated or written)."""
    p = Path(path)
    try:
        if read_only:
            conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=30, check_same_thread=False)
            return Database(conn)
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(p), timeout=30, check_same_thread=False)
        db = Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        # A checkpoint (the WAL copied into the file, both fsynced) every 4000 pages rather than 1000:
        # an article's commit rewrites ~130 pages (story_df, LSH bands, FTS segments), many of them the
        # pages the last articles rewrote, which a checkpoint then writes once. Stored articles: 5.0 →
        # 4.1 ms each on bench/pipeline_speed.py's pages; the WAL stays under ~16 MB.
        db.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        db.execute("PRAGMA foreign_keys=ON")
        if migrate:
            migrations.apply(db)
    except (sqlite3.Error, OSError) as e:
        raise StoreError(f"{p}: cannot open the database: {e}") from e
    return db


@overload
def fetch_all(cursor: sqlite3.Cursor) -> list[dict[str, Any]]: ...
@overload
def fetch_all(cursor: sqlite3.Cursor, row_type: Callable[..., Row]) -> list[Row]: ...
def fetch_all(cursor: sqlite3.Cursor, row_type: Callable[..., Any] = dict) -> list[Any]:
    """Every row a query gave, each built as ``row_type(column=value, ...)`` from the cursor's column
    names: a dict by default, or a typed row (a dataclass whose fields are the selected columns)."""
    names = [c[0] for c in cursor.description]
    return [row_type(**dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


@overload
def fetch_one(cursor: sqlite3.Cursor) -> dict[str, Any] | None: ...
@overload
def fetch_one(cursor: sqlite3.Cursor, row_type: Callable[..., Row]) -> Row | None: ...
def fetch_one(cursor: sqlite3.Cursor, row_type: Callable[..., Any] = dict) -> Any:
    """The first row a query gave, built as :func:`fetch_all` builds each; None when there is none."""
    row = cursor.fetchone()
    return None if row is None else row_type(**dict(zip([c[0] for c in cursor.description], row, strict=True)))
