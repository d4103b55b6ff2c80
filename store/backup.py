"""Online backup and restore of the archive with SQLite's backup API (sqlite3.Connection.backup):
a consistent copy taken while the daemon keeps writing, checked with ``PRAGMA integrity_check``."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from carewatch.core.errors import StoreError


def backup(db_path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> dict:
    """Copy the live database to ``dest`` (a file, or a folder to put a dated file in); return facts."""
    src_path, out = Path(db_path), Path(dest)
    if not src_path.exists():
        raise StoreError(f"{src_path}: no database to back up")
    if out.is_dir():
        from carewatch.core.items import utcnow

        out = out / f"{src_path.stem}-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.db"
    tmp = out.with_suffix(out.suffix + ".part")
    src = sqlite3.connect(str(src_path), timeout=30)
    dst = sqlite3.connect(str(tmp))
    try:
        src.backup(dst, pages=1024)  # in steps, so writers are not held up for long
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        articles = dst.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error as e:
        raise StoreError(f"backup of {src_path} failed: {e}") from e
    finally:
        dst.close()
        src.close()
    if check != "ok":
        tmp.unlink(missing_ok=True)
        raise StoreError(f"backup of {src_path} failed its integrity check: {check}")
    os.replace(tmp, out)
    return {"backup": str(out), "bytes": out.stat().st_size, "articles": articles}


def restore(backup_path: str | os.PathLike[str], db_path: str | os.PathLike[str]) -> dict:
    """Replace the database with a backup (after checking it); the current one is kept aside as
    ``<db>.before-restore``. Stop the daemon first."""
    src_path, target = Path(backup_path), Path(db_path)
    try:
        conn = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        conn.close()
    except sqlite3.Error as e:
        raise StoreError(f"{src_path}: not a carewatch backup: {e}") from e
    if check != "ok":
        raise StoreError(f"{src_path}: fails its integrity check: {check}")
    kept = None
    if target.exists():
        kept = target.with_name(target.name + ".before-restore")
        live = sqlite3.connect(str(target), timeout=30)
        aside = sqlite3.connect(str(kept))
        live.backup(aside)  # includes what is still in the WAL
        aside.close()
        live.close()
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    tmp = target.with_name(target.name + ".restoring")
    shutil.copyfile(src_path, tmp)
    os.replace(tmp, target)
    return {"restored": str(target), "from": str(src_path), "articles": articles, "previous": str(kept) if kept else None}
