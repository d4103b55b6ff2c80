"""Open the archive: WAL mode, a busy timeout, and every pending migration applied."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from core.errors import StoreError
from store.migrations import migrations


def open_db(path: str | os.PathLike[str], *, migrate: bool = True) -> sqlite_utils.Database:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(p), timeout=30, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        if migrate:
            migrations.apply(db)
    except (sqlite3.Error, OSError) as e:
        raise StoreError(f"{p}: cannot open the database: {e}") from e
    return db
