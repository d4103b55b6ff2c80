"""Backup and restore of the archive as services.

A complete backup is the database *and* its raw captures (the WARC files under ``raw_dir``, by
default ``<db>-raw/``): without the captures an evidence pack cannot show or verify what a page
said, and ``reprocess`` has nothing to re-extract. So a backup is two things side by side:

- ``<backup>.db``: a checked online copy of the database, taken while the daemon keeps writing
  (store.backup does the SQLite part);
- ``<backup>.db-raw/``: the raw captures, copied *after* the database, so every capture the copy
  refers to is in it (WARC files are only ever appended to). That is where carewatch looks for the
  captures of a database called ``<backup>.db``, so a backup can be read as it is
  (``carewatch --db <backup>.db evidence ID``).

Backing up into a folder writes a dated pair and is incremental: a capture file already in the
previous backup with the same size is hard-linked from it, not copied, so a daily backup costs the
space of the new captures only; then the oldest pairs beyond ``backup_keep`` are deleted (files
the newer backups link to stay). Why a comparison of sizes is enough, and why it is hand-written
rather than rsync: the WARC files are created exclusively and only appended to (scrapers.warc), so
a file of the same size is the same file; rsync is not installed everywhere and would be a second
program to configure; and the stdlib's ``shutil.copytree`` copies everything every time.

A restore takes the archive's lock (ops.lock: it refuses while a daemon runs, and a daemon cannot
start during it), checks the backup, keeps the current database aside as ``<db>.before-restore``
and copies the backup's captures into the archive's ``raw_dir`` (adding what is missing, replacing
nothing newer, deleting nothing).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from carewatch.config.schema import Config
from carewatch.core.errors import StoreError
from carewatch.core.items import utcnow
from carewatch.ops.lock import ArchiveLock
from carewatch.scrapers.warc import raw_dir_for
from carewatch.store.backup import check_backup, copy_live, online_copy

STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class CaptureCopy:
    """The raw captures of a backup or a restore: where, how many files, and how they got there."""

    folder: str
    files: int  # capture files there now
    copied: int  # copied this time
    linked: int  # hard-linked from the previous backup (unchanged since)


@dataclass(frozen=True)
class BackupResult:
    backup: str  # the database file written
    bytes: int
    articles: int
    captures: CaptureCopy | None  # None: the archive has no raw captures
    pruned: list[str] = field(default_factory=list)  # older backups deleted (backup_keep)


@dataclass(frozen=True)
class RestoreResult:
    restored: str  # the database replaced
    backup: str  # the file it came from
    articles: int
    previous: str | None  # where the database it replaced is kept (None: there was none)
    captures: CaptureCopy | None  # None: the backup has no raw captures beside it


def captures_of(db_file: Path) -> Path:
    """Where a backup's raw captures are: ``<backup>-raw`` beside it (as raw_dir_for puts them)."""
    return db_file.with_name(db_file.name + "-raw")


def _copy_file(src: Path, target: Path) -> None:
    tmp = target.with_name(target.name + ".part")
    shutil.copyfile(src, tmp)
    os.replace(tmp, target)  # a new inode: a file an older backup links to is never written into


def sync_captures(src: Path, dest: Path, previous: Path | None = None) -> CaptureCopy:
    """Make ``dest`` hold every capture file of ``src``: a file missing or shorter in ``dest`` is
    hard-linked from ``previous`` when that has it at the same size, else copied; nothing in
    ``dest`` is deleted or shortened (see the module for why sizes are enough)."""
    copied = linked = files = 0
    for path in sorted(src.rglob("*")):
        if not path.is_file() or path.name.endswith(".part"):
            continue
        rel = path.relative_to(src)
        target = dest / rel
        size = path.stat().st_size
        files += 1
        if target.exists() and target.stat().st_size >= size:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        old = previous / rel if previous else None
        if old is not None and old.is_file() and old.stat().st_size == size:
            tmp = target.with_name(target.name + ".part")
            tmp.unlink(missing_ok=True)
            try:
                os.link(old, tmp)
                os.replace(tmp, target)
                linked += 1
                continue
            except OSError:  # another file system, or links not allowed: copy instead
                tmp.unlink(missing_ok=True)
        _copy_file(path, target)
        copied += 1
    return CaptureCopy(os.fspath(dest), files, copied, linked)


def _dated_backups(folder: Path, stem: str) -> list[Path]:
    """The dated backups of the archive ``stem`` in ``folder``, oldest first."""
    pattern = re.compile(re.escape(stem) + r"-\d{8}T\d{6}Z\.db")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name) and p.is_file())


def backup(
    config: Config, db_path: str | os.PathLike[str], dest: str | os.PathLike[str], *, keep: int | None = None
) -> BackupResult:
    """Back up the live archive at ``db_path`` and its raw captures to ``dest``: a file, or a folder
    to put a dated backup in (incrementally, keeping the newest ``keep``, default the
    ``backup_keep`` setting). The database is checked before it is kept."""
    src_path, out = Path(db_path), Path(dest)
    if not src_path.exists():
        raise StoreError(f"{src_path}: no database to back up")
    if os.fspath(dest).endswith(("/", os.sep)):  # a folder, meant as one: made if need be
        out.mkdir(parents=True, exist_ok=True)
    in_folder = out.is_dir()
    previous = None
    if in_folder:
        earlier = _dated_backups(out, src_path.stem)
        previous = next((captures_of(p) for p in reversed(earlier) if captures_of(p).is_dir()), None)
        out = out / f"{src_path.stem}-{utcnow().strftime(STAMP)}.db"
    tmp = out.with_suffix(out.suffix + ".part")
    copy = online_copy(src_path, tmp)
    if copy.integrity != "ok":
        tmp.unlink(missing_ok=True)
        raise StoreError(f"backup of {src_path} failed its integrity check: {copy.integrity}")
    os.replace(tmp, out)
    raw = raw_dir_for(config.settings.raw_dir, src_path)
    captures = sync_captures(raw, captures_of(out), previous) if raw and raw.is_dir() else None
    pruned: list[str] = []
    if in_folder:
        keep = keep or config.settings.backup_keep
        for old in _dated_backups(out.parent, src_path.stem)[:-keep]:
            shutil.rmtree(captures_of(old), ignore_errors=True)
            old.unlink()
            pruned.append(os.fspath(old))
    return BackupResult(os.fspath(out), out.stat().st_size, copy.articles, captures, pruned)


def restore(config: Config, backup_path: str | os.PathLike[str], db_path: str | os.PathLike[str]) -> RestoreResult:
    """Replace the archive at ``db_path`` with a backup (after checking it) and add the backup's raw
    captures to the archive's; the current database is kept aside. ArchiveBusy while a daemon runs."""
    src_path, target = Path(backup_path), Path(db_path)
    if not src_path.is_file():
        raise StoreError(f"{src_path}: no such backup file")
    with ArchiveLock(target, "restore"):
        check = check_backup(src_path)
        if check.integrity != "ok":
            raise StoreError(f"{src_path}: fails its integrity check: {check.integrity}")
        kept = None
        if target.exists():
            kept = target.with_name(target.name + ".before-restore")
            if kept.exists():  # an earlier restore's: keep that too
                kept = kept.with_name(f"{kept.name}-{utcnow().strftime(STAMP)}")
            copy_live(target, kept)
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        tmp = target.with_name(target.name + ".restoring")
        shutil.copyfile(src_path, tmp)
        os.replace(tmp, target)
        raw = raw_dir_for(config.settings.raw_dir, target)
        src_raw = captures_of(src_path)
        captures = sync_captures(src_raw, raw) if raw and src_raw.is_dir() else None
    return RestoreResult(
        os.fspath(target), os.fspath(src_path), check.articles, os.fspath(kept) if kept else None, captures
    )
