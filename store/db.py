"""Open the archive: WAL mode, a busy timeout, and every pending migration applied."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from carewatch.core.errors import StoreError
from carewatch.store.migrations import migrations


class Database(sqlite_utils.Database):
    """sqlite-utils' Database whose transactions take the write lock when they begin (BEGIN
    IMMEDIATE). A deferred transaction that reads and then writes fails at once with "database is
    locked" when another process wrote in between (WAL cannot upgrade a stale snapshot); taking the
    lock first makes it wait its turn (the busy timeout) instead, so parallel crawls, the digest job
    and Datasette readers share the file safely."""

    @contextlib.contextmanager
    def atomic(self) -> Iterator["Database"]:
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


def database_size(path: str | os.PathLike[str]) -> int:
    """Bytes of the database file and its write-ahead log."""
    return sum(os.path.getsize(p) for p in (str(path), f"{path}-wal") if os.path.exists(p))


def open_db(path: str | os.PathLike[str], *, migrate: bool = True) -> sqlite_utils.Database:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(p), timeout=30, check_same_thread=False)
        db = Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        if migrate:
            migrations.apply(db)
    except (sqlite3.Error, OSError) as e:
        raise StoreError(f"{p}: cannot open the database: {e}") from e
    return db
