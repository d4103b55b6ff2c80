"""The archive as the interfaces open it (cli, daemon, demo): the store's Database at a path,
migrated when need be, to hand to the service functions that take a store handle. Only the verbs
that make an archive (crawl, run, demo, restore) create one; every other open of a missing path is
refused, so a mistyped ``--db`` never leaves an empty archive behind."""

from __future__ import annotations

import os
from pathlib import Path

from sqlite_utils import Database

from carewatch.core.errors import StoreError
from carewatch.store.db import open_db


def open_archive(path: str | os.PathLike[str], *, create: bool = False) -> Database:
    """The archive at ``path`` (migrated if need be; created too with ``create``); StoreError when
    there is none (and nothing is created) or it cannot be opened."""
    if not create and not Path(path).exists():
        raise StoreError(f"{Path(path).resolve()}: no archive there (nothing was created)")
    return open_db(path)
