"""The SQLite archive: schema and migrations, writes, and queries. Imports only core and config."""

from carewatch.store.db import open_db

__all__ = ["open_db"]
