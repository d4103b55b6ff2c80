"""Backup and restore of the archive as services: a checked online copy taken while the daemon
keeps writing (store.backup does the SQLite part), and a restore that checks the backup first and
keeps the current database aside as ``<db>.before-restore``."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from carewatch.core.errors import StoreError
from carewatch.core.items import utcnow
from carewatch.store.backup import check_backup, copy_live, online_copy


@dataclass(frozen=True)
class BackupResult:
    backup: str  # the file written
    bytes: int
    articles: int


@dataclass(frozen=True)
class RestoreResult:
    restored: str  # the database replaced
    backup: str  # the file it came from
    articles: int
    previous: str | None  # where the database it replaced is kept (None: there was none)


def backup(db_path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> BackupResult:
    """Copy the live database to ``dest`` (a file, or a folder to put a dated file in), checked."""
    src_path, out = Path(db_path), Path(dest)
    if not src_path.exists():
        raise StoreError(f"{src_path}: no database to back up")
    if out.is_dir():
        out = out / f"{src_path.stem}-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.db"
    tmp = out.with_suffix(out.suffix + ".part")
    copy = online_copy(src_path, tmp)
    if copy.integrity != "ok":
        tmp.unlink(missing_ok=True)
        raise StoreError(f"backup of {src_path} failed its integrity check: {copy.integrity}")
    os.replace(tmp, out)
    return BackupResult(backup=str(out), bytes=out.stat().st_size, articles=copy.articles)


def restore(backup_path: str | os.PathLike[str], db_path: str | os.PathLike[str]) -> RestoreResult:
    """Replace the database with a backup (after checking it); the current one is kept aside as
    ``<db>.before-restore``. Stop the daemon first."""
    src_path, target = Path(backup_path), Path(db_path)
    check = check_backup(src_path)
    if check.integrity != "ok":
        raise StoreError(f"{src_path}: fails its integrity check: {check.integrity}")
    kept = None
    if target.exists():
        kept = target.with_name(target.name + ".before-restore")
        copy_live(target, kept)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    tmp = target.with_name(target.name + ".restoring")
    shutil.copyfile(src_path, tmp)
    os.replace(tmp, target)
    return RestoreResult(
        restored=str(target), backup=str(src_path), articles=check.articles, previous=str(kept) if kept else None
    )
