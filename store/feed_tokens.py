"""The subscriptions' feed tokens (table feed_tokens, store.migrations.m012): the secret part of the
address ``carewatch serve`` gives each subscription's Atom feed. Made once, kept: the address stays
the same until the operator deletes the row (then the next one is new)."""

from __future__ import annotations

import secrets

from sqlite_utils import Database

from carewatch.core.items import utcnow_iso


def feed_token(db: Database, subscriber: str) -> str:
    """The subscriber's token, made (and stored) the first time it is asked for."""
    row = db.execute("SELECT token FROM feed_tokens WHERE subscriber = ?", [subscriber]).fetchone()
    if row is not None:
        return row[0]
    token = secrets.token_urlsafe(24)
    with db.conn:
        db.execute(
            "INSERT OR IGNORE INTO feed_tokens (subscriber, token, created) VALUES (?, ?, ?)",
            [subscriber, token, utcnow_iso()],
        )
    return db.execute("SELECT token FROM feed_tokens WHERE subscriber = ?", [subscriber]).fetchone()[0]


def token_subscriber(db: Database, token: str) -> str | None:
    """The subscriber whose token this is; None for any other string."""
    row = db.execute("SELECT subscriber FROM feed_tokens WHERE token = ?", [token]).fetchone()
    return row[0] if row is not None else None
