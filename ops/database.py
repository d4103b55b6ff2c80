"""The archive as the interfaces open it (cli, daemon, demo): the store's Database at a path,
created and migrated when need be, to hand to the service functions that take a store handle."""

from __future__ import annotations

import os

from sqlite_utils import Database

from carewatch.store.db import open_db


def open_archive(path: str | os.PathLike[str]) -> Database:
    """The archive at ``path`` (created and migrated if need be); StoreError when it cannot be opened."""
    return open_db(path)
