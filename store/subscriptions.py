"""Subscriptions kept in the database (store.migrations.m016): the subscribers who signed up on the
web (or were added with ``carewatch subscribers add``), the status of alerts.yaml's subscribers who
paused or unsubscribed by a link, their history, their links' tokens (hashed) and the sign-up
attempts the rate limits count."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.store.db import fetch_all


def new_id() -> str:
    """A new subscriber's id (after "web-" or "cli-"): random, so ids say nothing of who or when."""
    return secrets.token_hex(5)


def email_key(email: str) -> str:
    """An address's key: the SHA-256 of it lower-cased (one row per address, however it is typed)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Subscription:
    subscriber: str
    email: str | None
    email_key: str | None
    name: str | None
    status: str
    managed_by: str  # web | cli | operator (a subscriber of alerts.yaml)
    frequency: str | None
    at: str | None
    day: str | None
    topics: str | None  # JSON lists
    keywords: str | None
    rules: str | None
    created: str
    updated: str
    signed_up_at: str | None
    signed_up_from: str | None
    confirmed_at: str | None
    confirmed_from: str | None
    approved_at: str | None
    unsubscribed_at: str | None

    def listed(self, column: str) -> tuple[str, ...]:
        return tuple(json.loads(getattr(self, column) or "[]"))


_COLUMNS = ", ".join(Subscription.__slots__)


@dataclass(frozen=True, slots=True)
class SubscriptionEvent:
    id: int
    subscriber: str
    at: str
    event: str
    client: str | None
    detail: str | None


def subscriptions(db: Database, statuses: tuple[str, ...] | None = None) -> list[Subscription]:
    """Every subscription (of these statuses), oldest first."""
    sql = f"SELECT {_COLUMNS} FROM subscriptions"
    params: list = []
    if statuses:
        sql += " WHERE status IN (" + ", ".join("?" for _ in statuses) + ")"
        params = list(statuses)
    return fetch_all(db.execute(sql + " ORDER BY created, subscriber", params), Subscription)


def subscription(db: Database, subscriber: str) -> Subscription | None:
    got = fetch_all(
        db.execute(f"SELECT {_COLUMNS} FROM subscriptions WHERE subscriber = ?", [subscriber]), Subscription
    )
    return got[0] if got else None


def subscription_by_email(db: Database, email: str) -> Subscription | None:
    got = fetch_all(
        db.execute(f"SELECT {_COLUMNS} FROM subscriptions WHERE email_key = ?", [email_key(email)]), Subscription
    )
    return got[0] if got else None


def save_subscription(db: Database, values: dict, event: str, at: str, client: str | None, detail: dict | None) -> None:
    """Insert or update a subscription (``values`` holds ``subscriber`` and the columns to set) and
    record the event, in one transaction."""
    with db.atomic():
        if db.execute("SELECT 1 FROM subscriptions WHERE subscriber = ?", [values["subscriber"]]).fetchone():
            sets = [k for k in values if k != "subscriber"]
            db.execute(
                "UPDATE subscriptions SET " + ", ".join(f"{k} = ?" for k in sets) + " WHERE subscriber = ?",
                [values[k] for k in sets] + [values["subscriber"]],
            )
        else:
            db.execute(
                "INSERT INTO subscriptions (" + ", ".join(values) + ") VALUES (" + ", ".join("?" for _ in values) + ")",
                list(values.values()),
            )
        add_event(db, values["subscriber"], event, at, client, detail)


def add_event(db: Database, subscriber: str, event: str, at: str, client: str | None, detail: dict | None) -> None:
    db.execute(
        "INSERT INTO subscription_events (subscriber, at, event, client, detail) VALUES (?, ?, ?, ?, ?)",
        [subscriber, at, event, client, json.dumps(detail, ensure_ascii=False) if detail else None],
    )


def add_event_now(db: Database, subscriber: str, event: str, at: str, client: str | None, detail: dict | None) -> None:
    """An event on its own (its own transaction)."""
    with db.atomic():
        add_event(db, subscriber, event, at, client, detail)


def events(db: Database, subscriber: str) -> list[SubscriptionEvent]:
    return fetch_all(
        db.execute(
            "SELECT id, subscriber, at, event, client, detail FROM subscription_events "
            "WHERE subscriber = ? ORDER BY id",
            [subscriber],
        ),
        SubscriptionEvent,
    )


# ---------------------------------------------------------------- tokens


def issue_token(db: Database, subscriber: str, purpose: str, created: str, expires: str) -> str:
    """A new token for the subscriber and purpose (32 random bytes, URL-safe); only its hash is kept."""
    token = secrets.token_urlsafe(32)
    with db.atomic():
        db.execute(
            "INSERT INTO subscription_tokens (token_hash, subscriber, purpose, created, expires, used) "
            "VALUES (?, ?, ?, ?, ?, NULL)",
            [token_hash(token), subscriber, purpose, created, expires],
        )
    return token


@dataclass(frozen=True, slots=True)
class TokenRow:
    subscriber: str
    purpose: str
    created: str
    expires: str
    used: str | None


def token_row(db: Database, token: str, purpose: str) -> TokenRow | None:
    """The token's row, if it is one of this purpose (a forged token, or one of another purpose: None)."""
    got = fetch_all(
        db.execute(
            "SELECT subscriber, purpose, created, expires, used FROM subscription_tokens "
            "WHERE token_hash = ? AND purpose = ?",
            [token_hash(token), purpose],
        ),
        TokenRow,
    )
    return got[0] if got else None


def use_token(db: Database, token: str, at: str) -> bool:
    """Mark a token used; False when it was used already (a second click)."""
    with db.atomic():
        cur = db.execute(
            "UPDATE subscription_tokens SET used = ? WHERE token_hash = ? AND used IS NULL", [at, token_hash(token)]
        )
        return cur.rowcount == 1


# ---------------------------------------------------------------- rate limits


def record_attempt(db: Database, at: str, key: str | None, client: str | None, outcome: str) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO signup_attempts (at, email_key, client, outcome) VALUES (?, ?, ?, ?)",
            [at, key, client, outcome],
        )


def emails_sent_to(db: Database, key: str, since: str) -> int:
    """Sign-up emails sent to the address (by its key) since then."""
    return db.execute(
        "SELECT count(*) FROM signup_attempts WHERE email_key = ? AND at >= ? AND outcome = 'mailed'", [key, since]
    ).fetchone()[0]


def attempts_from(db: Database, client: str, since: str) -> int:
    """Sign-ups from the client since then (refused ones not counted)."""
    return db.execute(
        "SELECT count(*) FROM signup_attempts WHERE client = ? AND at >= ? AND outcome != 'refused'", [client, since]
    ).fetchone()[0]


def attempts_for(db: Database, key: str) -> list[dict]:
    """The sign-up attempts made for an address (by its key), oldest first, for "download my data"."""
    cur = db.execute("SELECT at, client, outcome FROM signup_attempts WHERE email_key = ? ORDER BY at", [key])
    return [dict(zip(("at", "client", "outcome"), row, strict=True)) for row in cur.fetchall()]


def delete_expired(db: Database, now: str, attempts_before: str) -> int:
    """Tokens past their expiry (a link that no longer works need not be remembered) and sign-up
    attempts older than ``attempts_before`` (the rate limits look back a day): the rows deleted."""
    with db.atomic():
        tokens = db.execute("DELETE FROM subscription_tokens WHERE expires < ?", [now]).rowcount
        attempts = db.execute("DELETE FROM signup_attempts WHERE at < ?", [attempts_before]).rowcount
    return tokens + attempts


# ---------------------------------------------------------------- deleting


def delete_personal_data(db: Database, subscriber: str, at: str) -> None:
    """Remove what is personal of a subscriber: the subscription becomes a tombstone (its id,
    status deleted, when), its history, sign-up attempts, tokens, feed token, matches and alert marks go, and its
    deliveries keep what proves what was sent (when, Message-ID, subject, the articles) with the
    address replaced by its SHA-256 (``sha256:…``), all in one transaction."""
    with db.atomic():
        db.execute(
            "DELETE FROM signup_attempts WHERE email_key = (SELECT email_key FROM subscriptions WHERE subscriber = ?)",
            [subscriber],
        )
        db.execute(
            "UPDATE subscriptions SET email = NULL, email_key = NULL, name = NULL, topics = NULL, keywords = NULL, "
            "rules = NULL, signed_up_from = NULL, confirmed_from = NULL, frequency = NULL, at = NULL, day = NULL, "
            "status = 'deleted', updated = ? WHERE subscriber = ?",
            [at, subscriber],
        )
        db.execute("DELETE FROM subscription_events WHERE subscriber = ?", [subscriber])
        db.execute("DELETE FROM subscription_tokens WHERE subscriber = ?", [subscriber])
        for table in ("feed_tokens", "alert_matches", "alert_cursor", "alerted"):
            db.execute(f"DELETE FROM {table} WHERE subscriber = ?", [subscriber])
        for rowid, address in db.execute(
            "SELECT rowid, address FROM deliveries WHERE subscriber = ? AND address NOT LIKE 'sha256:%'", [subscriber]
        ).fetchall():
            db.execute(
                "UPDATE deliveries SET address = ? WHERE rowid = ?",
                ["sha256:" + hashlib.sha256((address or "").strip().lower().encode()).hexdigest(), rowid],
            )
        cancel_pending(db, subscriber)
        add_event(db, subscriber, "deleted", at, None, None)


def cancel_pending(db: Database, subscriber: str) -> None:
    """The subscriber's digests not delivered yet are not to be: marked ``cancelled`` (kept, never sent)."""
    with db.atomic():
        db.execute(
            "UPDATE deliveries SET status = 'cancelled', last_error = 'unsubscribed' "
            "WHERE subscriber = ? AND status = 'pending'",
            [subscriber],
        )


@dataclass(frozen=True, slots=True)
class SentDigest:
    id: int
    channel: str
    created: str
    sent: str | None
    subject: str | None
    article_count: int | None
    status: str


def digests_of(db: Database, subscriber: str) -> list[SentDigest]:
    """The digests recorded for a subscriber (for "download my data")."""
    return fetch_all(
        db.execute(
            "SELECT id, channel, created, sent, subject, article_count, status FROM deliveries "
            "WHERE subscriber = ? ORDER BY id",
            [subscriber],
        ),
        SentDigest,
    )


@dataclass(frozen=True, slots=True)
class PreviewRow:
    title: str | None
    canonical_url: str | None
    first_seen: str


def relevant_among(db: Database, rowids: list[int], since: str, limit: int = 5) -> tuple[int, list[PreviewRow]]:
    """Of these articles, how many a digest would send (judged relevant, page read, first seen
    since ``since``) and the ``limit`` latest of them."""
    if not rowids:
        return 0, []
    where = "rowid IN (SELECT value FROM json_each(?)) AND relevant = 1 AND page_pending = 0 AND first_seen >= ?"
    params = [json.dumps(sorted(set(rowids))), since]
    count = db.execute(f"SELECT count(*) FROM articles WHERE {where}", params).fetchone()[0]
    latest = fetch_all(
        db.execute(
            f"SELECT title, canonical_url, first_seen FROM articles WHERE {where} "
            "ORDER BY first_seen DESC, rowid DESC LIMIT ?",
            [*params, limit],
        ),
        PreviewRow,
    )
    return count, latest
