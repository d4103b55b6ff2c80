"""The outbox as ``carewatch status`` shows it: digests not yet delivered, their errors and retries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.alerts.outbox import STUCK_AFTER
from carewatch.store.deliveries import pending_deliveries


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
    return [
        Waiting(
            p.id,
            p.subscriber,
            p.channel,
            p.address or "",
            p.created,
            p.attempts or 0,
            p.last_error,
            p.next_attempt,
            (p.attempts or 0) >= STUCK_AFTER,
        )
        for p in pending_deliveries(db)
    ]
