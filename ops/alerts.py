"""Keyword alerts as services: match new articles against the subscribers' rules, send the due
digests, and what ``carewatch alerts …`` shows (a subscriber's next digest, a rule tried over the
archive, a subscription's Atom feed, the latest deliveries, the outbox still waiting)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlite_utils import Database

from carewatch.alerts import match as _match
from carewatch.alerts import outbox as _outbox
from carewatch.alerts.calendar import asked_for, calendar_for
from carewatch.alerts.feed import atom_feed
from carewatch.alerts.health import Waiting
from carewatch.alerts.health import outbox as _waiting
from carewatch.alerts.match import ArchiveHit, archive_hits
from carewatch.alerts.outbox import DeliveryResult, next_digest
from carewatch.alerts.render import DigestEntry, entries, render_message
from carewatch.alerts.subscribers import all_subscribers
from carewatch.config.schema import Config, Subscriber
from carewatch.core.errors import ConfigError
from carewatch.core.items import utcnow
from carewatch.core.query import check_names
from carewatch.store.alerting import aliases_of
from carewatch.store.deliveries import Delivery, recent_deliveries
from carewatch.store.feed_tokens import feed_token, token_subscriber
from carewatch.store.meetings import citations_of
from carewatch.store.stories import related_of


def match_new(db: Database, config: Config, now: datetime | None = None) -> int:
    """Match the articles each subscriber has not been matched against yet; returns how many matches."""
    return _match.match_new(db, config, now)


def send_alerts(
    config: Config,
    db: Database,
    *,
    dry_run: bool = False,
    subscribers: list[str] | None = None,
    now: datetime | None = None,
) -> list[DeliveryResult]:
    """Retry the digests whose retry time has come, then queue and send a digest for every
    subscriber that is due and has new matching articles (alerts.outbox). With dry_run, say what
    would be sent and change nothing but the match cache."""
    return _outbox.send_alerts(config, db, now=now, dry_run=dry_run, subscribers=subscribers)


def find_subscriber(config: Config, subscriber_id: str, db: Database | None = None) -> Subscriber:
    """The subscriber with this id (of alerts.yaml, or, given the archive, signed up:
    alerts.subscribers); ConfigError naming the ones there are when none has it."""
    subs = all_subscribers(db, config) if db is not None else config.alerts.subscribers
    for sub in subs:
        if sub.id == subscriber_id:
            return sub
    known = ", ".join(s.id for s in subs)
    raise ConfigError(f"no subscriber {subscriber_id!r} in alerts.yaml or signed up (there are: {known})")


@dataclass(frozen=True)
class DigestPreview:
    """A subscriber's next digest, rendered and not sent: the message and the stories it lists."""

    subscriber: str
    message: EmailMessage
    items: tuple[DigestEntry, ...]


def preview_digest(config: Config, db: Database, sub: Subscriber, now: datetime | None = None) -> DigestPreview | None:
    """The digest the subscriber would get were it due now (new articles matched first), recording
    nothing of it; None when nothing new matches its rules."""
    now = now or utcnow()
    matches = next_digest(config, db, sub, now)
    calendar = calendar_for(db, config, sub, now)
    matches = [m for m in matches if m.article.article_id not in calendar.documents() and asked_for(m)]
    if not matches and not calendar:
        return None
    ids = [m.article.article_id for m in matches]
    items = entries(config, matches, aliases_of(db, ids), sub, citations_of(db, ids), related_of(db, ids))
    return DigestPreview(sub.id, render_message(config, sub, items, now, calendar=calendar), tuple(items))


def try_rule(
    config: Config, db: Database, query: str, days: int, *, limit: int = 50, now: datetime | None = None
) -> list[ArchiveHit]:
    """What a rule would have matched among the articles first seen in the last ``days`` days
    (relevant or not), newest first, with the words that fired; QueryError when it does not parse
    or names a topic, source or entity the config does not have (core.query.check_names)."""
    check_names(query, config.query_names())
    return archive_hits(db, query, days, now, limit=limit)


FEED_PATH = "/-/feeds/{token}.atom"  # where `carewatch serve` serves a subscription's feed


def feed_address(db: Database, sub: Subscriber, public_url: str | None) -> str:
    """Where `carewatch serve` serves the subscription's Atom feed: the public URL (or, without
    one, the path under wherever the archive is served) and the feed's token, made the first time
    it is asked for and the same ever after (store.feed_tokens)."""
    path = FEED_PATH.format(token=feed_token(db, sub.id))
    return (public_url.rstrip("/") + path) if public_url else path


def subscription_feed(config: Config, db: Database, sub: Subscriber, public_url: str | None = None) -> bytes:
    """The subscription as an Atom feed (new articles matched first); given the archive's public
    URL, its self link is the address `carewatch serve` serves it at (``feed_address``)."""
    _match.match_new(db, config)
    return atom_feed(config, db, sub, self_url=feed_address(db, sub, public_url) if public_url else None)


def served_feed(config_dir: str, db_path: str, token: str, self_url: str) -> bytes | None:
    """The Atom feed whose token this is, for `carewatch serve`, its self link ``self_url`` (None
    for any other string, or a subscriber no longer in alerts.yaml). Read-only: the archive is
    opened for reading, and the articles are those matched so far (the daemon matches new ones
    before every digest round)."""
    from carewatch.config import load_config
    from carewatch.store.db import open_db

    db = open_db(db_path, read_only=True)
    try:
        subscriber = token_subscriber(db, token)
        if subscriber is None:
            return None
        config = load_config(config_dir)
        sub = next((s for s in all_subscribers(db, config) if s.id == subscriber), None)
        if sub is None:
            return None
        return atom_feed(config, db, sub, self_url=self_url)
    finally:
        db.close()


def latest_deliveries(db: Database, limit: int = 20) -> list[Delivery]:
    """The latest digests on each channel, newest first, delivered or not."""
    return recent_deliveries(db, limit)


def outbox(db: Database) -> list[Waiting]:
    """The deliveries still waiting to go out (the most tried first), each with its last error."""
    return _waiting(db)
