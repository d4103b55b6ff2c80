"""Who gets digests: the subscribers of alerts.yaml and the active subscriptions kept in the
database (signed up on the web, or added with ``carewatch subscribers add``), as one list, so the
matcher, the outbox, ``carewatch status`` and the feeds treat both alike.

A subscriber of alerts.yaml who paused or unsubscribed through a digest's link has a row of its own
(``managed_by: operator``) whose status is the only thing it overrides; the operator's YAML is never
rewritten. This is the one place that decides who is subscribed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlite_utils import Database

from carewatch.config.schema import Alerts, Config, Subscriber
from carewatch.store.subscriptions import Subscription, issue_token, subscriptions

SENDING = "active"


def as_subscriber(row: Subscription) -> Subscriber | None:
    """A subscription kept in the database as the matcher and the outbox see it (None when its
    fields no longer make one, e.g. a topic since removed from topics.yaml's taxonomy: left out,
    and ``carewatch subscribers list`` shows it)."""
    try:
        return Subscriber(
            id=row.subscriber,
            name=row.name or row.subscriber,
            email=row.email,
            frequency=row.frequency or "daily",
            at=row.at or "08:00",
            day=row.day or "monday",
            rules=row.listed("rules"),
            keywords=row.listed("keywords"),
            topics=row.listed("topics"),
        )
    except ValidationError:
        return None


def all_subscribers(db: Database, config: Config) -> tuple[Subscriber, ...]:
    """alerts.yaml's subscribers not paused or unsubscribed by a link, then the database's active
    ones (an id alerts.yaml has wins)."""
    rows = subscriptions(db)
    held = {r.subscriber for r in rows if r.status != SENDING}
    out = [s for s in config.alerts.subscribers if s.id not in held]
    ids = {s.id for s in out} | held
    topics = config.topics.topics
    for row in rows:
        if row.managed_by == "operator" or row.subscriber in ids:
            continue
        sub = as_subscriber(row)
        if sub is not None and all(t in topics for t in sub.topics):
            out.append(sub)
    return tuple(out)


def with_subscribers(db: Database, config: Config) -> Config:
    """The configuration with every subscriber who gets digests (``all_subscribers``) as its alerts."""
    subs = all_subscribers(db, config)
    if subs == config.alerts.subscribers:
        return config
    return config.model_copy(update={"alerts": Alerts(subscribers=subs)})


# How long each kind of link works, and where `carewatch serve` answers it (archive/plugin/subscribe.py).
TOKEN_LIFETIME = {"confirm": timedelta(days=3), "manage": timedelta(days=180), "unsubscribe": timedelta(days=365)}
LINK_PATH = {"confirm": "/confirm/{token}", "manage": "/manage/{token}", "unsubscribe": "/unsubscribe/{token}"}


def new_link(db: Database, public_url: str, subscriber: str, purpose: str, now: datetime) -> tuple[str, str]:
    """(token, URL): a fresh link of this purpose for the subscriber, working for TOKEN_LIFETIME."""
    token = issue_token(
        db,
        subscriber,
        purpose,
        now.isoformat(timespec="seconds"),
        (now + TOKEN_LIFETIME[purpose]).isoformat(timespec="seconds"),
    )
    return token, public_url.rstrip("/") + LINK_PATH[purpose].format(token=token)


@dataclass(frozen=True)
class DigestLinks:
    """The links a digest carries to its subscriber's manage page and one-click unsubscribe."""

    manage: str
    unsubscribe: str


def digest_links(db: Database, config: Config, sub: Subscriber, now: datetime) -> DigestLinks | None:
    """Fresh links for a digest about to be sent (None without settings.yaml's public_url: the
    digest then carries the mailto unsubscribe only)."""
    public_url = config.settings.public_url
    if not public_url:
        return None
    return DigestLinks(
        new_link(db, public_url, sub.id, "manage", now)[1], new_link(db, public_url, sub.id, "unsubscribe", now)[1]
    )
