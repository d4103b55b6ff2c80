"""The outbox as ``carewatch status`` shows it: digests not yet delivered, their errors and retries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.alerts.outbox import STUCK_AFTER


@dataclass(frozen=True)
class Waiting:
    delivery_id: int
    subscriber: str
    channel: str
    address: str
    created: str
    attempts: int
    last_error: str | None
    next_attempt: str | None
    stuck: bool  # failed STUCK_AFTER times or more: needs a person


def outbox(db: Database) -> list[Waiting]:
    rows = db.execute(
        "SELECT id, subscriber, channel, address, created, attempts, last_error, next_attempt FROM deliveries "
        "WHERE status = 'pending' ORDER BY attempts DESC, id").fetchall()
    return [Waiting(*r[:3], r[3] or "", r[4], r[5] or 0, r[6], r[7], (r[5] or 0) >= STUCK_AFTER) for r in rows]
