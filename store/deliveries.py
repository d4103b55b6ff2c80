"""The outbox: digests queued for delivery (``deliveries``, a row per channel) with the articles
they hold marked ``alerted``, their send attempts and outcomes, and what is still waiting to go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlite_utils import Database

from carewatch.core.jsontext import JSON_TEXT
from carewatch.store.db import fetch_all, fetch_one

_COLUMNS = (
    "id, subscriber, channel, address, frequency, articles, why, article_count, subject, status, attempts, "
    "last_error, created, sent, message_id, next_attempt, calendar"
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A digest on one channel, as recorded (the columns of ``deliveries``, in its order)."""

    id: int
    subscriber: str
    channel: str  # "email", or the apprise URL of a chat or webhook channel
    address: str | None  # the email address, or the channel URL redacted
    frequency: str | None
    articles: str | None = field(metadata=JSON_TEXT)  # JSON list of article_id
    why: str | None = field(metadata=JSON_TEXT)  # JSON {article_id: [rules, "TERM:word", "EDIT:diff"]}
    article_count: int | None
    subject: str | None
    status: str  # pending | sent
    attempts: int | None
    last_error: str | None
    created: str
    sent: str | None
    message_id: str | None
    next_attempt: str | None  # when a failed send is retried
    calendar: str | None = field(default=None, metadata=JSON_TEXT)  # JSON: its "Coming up" and "Not yet covered"


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A digest to queue on one channel (attempts 0, status pending)."""

    subscriber: str
    channel: str
    address: str | None
    frequency: str
    articles: str  # JSON list of article_id
    why: str  # JSON {article_id: [...]}
    article_count: int
    created: str
    message_id: str
    calendar: str = "{}"  # JSON: the digest's "Coming up" and "Not yet covered" (alerts.calendar)


def queue_digest(
    db: Database,
    deliveries: list[NewDelivery],
    subscriber: str,
    alerted: list[tuple[str, int | None]],
    calendar: Sequence[tuple[str, str]] = (),
) -> list[int]:
    """In one transaction: a pending ``deliveries`` row for each channel, the digest's
    (article_id, version) pairs marked alerted to the subscriber (under the first row's id), and
    its calendar entries' (target, version) pairs in ``calendar_alerted``. Returns the new rows' ids."""
    ids: list[int] = []
    with db.atomic():
        for d in deliveries:
            ids.append(
                cast(
                    int,
                    db.execute(
                        "INSERT INTO deliveries (subscriber, channel, address, frequency, articles, why, "
                        "article_count, status, attempts, created, message_id, calendar) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
                        [
                            d.subscriber,
                            d.channel,
                            d.address,
                            d.frequency,
                            d.articles,
                            d.why,
                            d.article_count,
                            d.created,
                            d.message_id,
                            d.calendar,
                        ],
                    ).lastrowid,
                )
            )
        db.conn.executemany(
            "INSERT INTO alerted (subscriber, article_id, delivery_id, version) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (subscriber, article_id) DO UPDATE SET delivery_id = excluded.delivery_id, "
            "version = excluded.version",
            [(subscriber, aid, ids[0], version) for aid, version in alerted],
        )
        stamp = deliveries[0].created if deliveries else ""
        db.conn.executemany(
            "INSERT INTO calendar_alerted (subscriber, target, version, delivery_id, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (subscriber, target) DO UPDATE SET version = excluded.version, "
            "delivery_id = excluded.delivery_id, at = excluded.at",
            [(subscriber, target, version, ids[0] if ids else None, stamp) for target, version in calendar],
        )
    return ids


def delivery(db: Database, delivery_id: int) -> Delivery:
    row = fetch_one(db.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE id = ?", [delivery_id]), Delivery)
    if row is None:
        raise KeyError(f"no delivery {delivery_id}")
    return row


def recent_deliveries(db: Database, limit: int) -> list[Delivery]:
    """The latest ``limit`` digests, newest first."""
    return fetch_all(db.execute(f"SELECT {_COLUMNS} FROM deliveries ORDER BY id DESC LIMIT ?", [limit]), Delivery)


def retries_due(db: Database, subscriber: str, at: str) -> list[int]:
    """The ids of the subscriber's pending deliveries whose retry time has come by ``at``, oldest first."""
    return [
        i
        for (i,) in db.execute(
            "SELECT id FROM deliveries WHERE subscriber = ? AND status = 'pending' "
            "AND (next_attempt IS NULL OR next_attempt <= ?) ORDER BY id",
            [subscriber, at],
        ).fetchall()
    ]


def last_queued(db: Database, subscriber: str) -> str | None:
    """When the subscriber's latest digest was queued (None: never)."""
    return db.execute("SELECT max(created) FROM deliveries WHERE subscriber = ?", [subscriber]).fetchone()[0]


def record_failure(db: Database, delivery_id: int, attempts: int, error: str, next_attempt: str) -> None:
    """A send failed: the delivery stays pending, to be retried at ``next_attempt``."""
    with db.atomic():
        db.execute(
            "UPDATE deliveries SET attempts = ?, last_error = ?, next_attempt = ? WHERE id = ?",
            [attempts, error, next_attempt, delivery_id],
        )


def record_sent(db: Database, delivery_id: int, attempts: int, sent: str, subject: str) -> None:
    """The delivery went: marked sent, its error and retry time cleared."""
    with db.atomic():
        db.execute(
            "UPDATE deliveries SET status = 'sent', attempts = ?, sent = ?, subject = ?, last_error = NULL, "
            "next_attempt = NULL WHERE id = ?",
            [attempts, sent, subject, delivery_id],
        )


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A delivery not yet made: where to, since when, how many tries and the last error."""

    id: int
    subscriber: str
    channel: str
    address: str | None
    created: str
    attempts: int | None
    last_error: str | None
    next_attempt: str | None


def pending_deliveries(db: Database) -> list[PendingDelivery]:
    """Every pending delivery, the most tried first."""
    return fetch_all(
        db.execute(
            "SELECT id, subscriber, channel, address, created, attempts, last_error, next_attempt FROM deliveries "
            "WHERE status = 'pending' ORDER BY attempts DESC, id"
        ),
        PendingDelivery,
    )
