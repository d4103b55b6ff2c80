"""The SQLite side of backup and restore, with SQLite's backup API (sqlite3.Connection.backup): a
consistent copy taken while the daemon keeps writing, checked with ``PRAGMA integrity_check``, and a
backup file checked before it replaces the archive (carewatch.ops.backup names and moves the files)."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

from carewatch.core.errors import StoreError


@dataclass(frozen=True)
class CheckedCopy:
    """What ``PRAGMA integrity_check`` said of a database file ("ok" when sound), and its articles."""

    integrity: str
    articles: int


def _check(conn: sqlite3.Connection) -> CheckedCopy:
    return CheckedCopy(
        conn.execute("PRAGMA integrity_check").fetchone()[0],
        conn.execute("SELECT count(*) FROM articles").fetchone()[0],
    )


def online_copy(db_path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> CheckedCopy:
    """Copy the live database to the file ``dest`` while it is in use, and check the copy."""
    src = dst = None
    try:
        src = sqlite3.connect(os.fspath(db_path), timeout=30)
        dst = sqlite3.connect(os.fspath(dest))
        src.backup(dst, pages=1024)  # in steps, so writers are not held up for long
        return _check(dst)
    except sqlite3.Error as e:
        raise StoreError(f"backup of {db_path} failed: {e}") from e
    finally:
        for conn in (dst, src):
            if conn is not None:
                conn.close()


def check_backup(path: str | os.PathLike[str]) -> CheckedCopy:
    """Check a backup file, opened read-only."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return _check(conn)
        finally:
            conn.close()
    except sqlite3.Error as e:
        raise StoreError(f"{path}: not a carewatch backup: {e}") from e


def copy_live(db_path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Copy the database to ``dest`` as it is now, what is still in its write-ahead log included."""
    live = sqlite3.connect(os.fspath(db_path), timeout=30)
    aside = sqlite3.connect(os.fspath(dest))
    try:
        live.backup(aside)
    finally:
        aside.close()
        live.close()
