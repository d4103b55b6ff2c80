"""Build each due subscriber's digest, record it in ``deliveries``, send it, record the outcome.

The outbox pattern: a digest (one ``deliveries`` row per channel, each with its Message-ID fixed
now) and the "alerted" marks for its articles are written in one transaction *before* anything is
sent, so an article never goes into two digests for one subscriber. The sender then delivers each
pending row and marks it sent. A failed send stays ``pending`` with its error and is retried with
capped exponential backoff (``next_attempt``), for as long as it takes: nothing is dropped, and
``carewatch status`` shows what is stuck.

The guarantee: every queued digest is delivered at least once, and at most twice. A second copy
happens only if the process dies after the mail server accepted the message and before the "sent"
mark was committed; the copy carries the same Message-ID (an idempotency key mail clients and
servers de-duplicate on). ``tests/test_delivery_crash.py`` kills a real sender at both points.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from carewatch.alerts.calendar import Calendar, asked_for, calendar_for, recorded_calendar
from carewatch.alerts.channels import redact, send_apprise
from carewatch.alerts.email import send_email
from carewatch.alerts.match import match_new
from carewatch.alerts.render import article_count, entries, render_message
from carewatch.alerts.rules import Match, is_due, matching_articles
from carewatch.alerts.subscribers import digest_links, with_subscribers
from carewatch.config.schema import Config, Subscriber
from carewatch.core.crashpoints import crash_point
from carewatch.core.errors import NotifyError
from carewatch.core.items import utcnow
from carewatch.store.alerting import aliases_of, articles_by_id
from carewatch.store.deliveries import (
    Delivery,
    NewDelivery,
    delivery,
    queue_digest,
    record_failure,
    record_sent,
    retries_due,
)
from carewatch.store.meetings import citations_of
from carewatch.store.stories import related_of

BACKOFF_START = 60  # seconds before the first retry, doubling
BACKOFF_MAX = 6 * 3600
STUCK_AFTER = 5  # attempts before status calls a delivery stuck


@dataclass(frozen=True)
class DeliveryResult:
    subscriber: str
    address: str
    delivery_id: int | None
    articles: tuple[str, ...]  # the stories' titles (the ones listed, and the ones counted but not listed)
    subject: str
    status: str  # sent | pending | dry-run
    error: str | None = None
    article_count: int = 0  # the articles it holds, as its subject and deliveries.article_count say


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX, BACKOFF_START * 2 ** max(0, attempts - 1)))


def _matches_of(db: Database, row: Delivery) -> list[Match]:
    ids = json.loads(row.articles or "[]")
    why = json.loads(row.why or "{}")
    by_id = articles_by_id(db, ids)
    out = []
    for i in ids:
        if i in by_id:
            reasons = why.get(i, [])
            edit = next((r[5:] for r in reasons if r.startswith("EDIT:")), None)
            terms = tuple(r[5:] for r in reasons if r.startswith("TERM:"))
            out.append(Match(by_id[i], tuple(r for r in reasons if not r.startswith(("EDIT:", "TERM:"))), edit, terms))
    return out


def _deliver(config: Config, db: Database, sub: Subscriber, delivery_id: int, now: datetime) -> DeliveryResult:
    row = delivery(db, delivery_id)
    matches = _matches_of(db, row)
    ids = json.loads(row.articles or "[]")
    items = entries(config, matches, aliases_of(db, ids), sub, citations_of(db, ids), related_of(db, ids))
    calendar = recorded_calendar(db, config, row.calendar)
    msg = render_message(config, sub, items, now, row.message_id, digest_links(db, config, sub, now), calendar)
    titles = tuple(i.title for i in items)
    count = article_count(items)
    attempts = (row.attempts or 0) + 1
    try:
        if row.channel == "email":
            send_email(config.settings.smtp, msg)
        else:  # chat and webhook channels get the plain-text part
            send_apprise(row.channel, msg["Subject"], msg.get_body(("plain",)).get_content())
    except NotifyError as e:
        if row.channel != "email":  # where the channel is configured (its URL may lack a secret, say)
            index = sub.channels.index(row.channel) if row.channel in sub.channels else "?"
            e = NotifyError(f"alerts.yaml: subscriber {sub.id!r} channels.{index}: {e}")
        record_failure(db, delivery_id, attempts, str(e), (now + backoff(attempts)).isoformat(timespec="seconds"))
        return DeliveryResult(sub.id, row.address, delivery_id, titles, msg["Subject"], "pending", str(e), count)
    crash_point("after-send")  # the worst moment: delivered, not yet marked
    record_sent(db, delivery_id, attempts, now.isoformat(timespec="seconds"), msg["Subject"])
    return DeliveryResult(sub.id, row.address, delivery_id, titles, msg["Subject"], "sent", None, count)


def _queue(
    db: Database,
    config: Config,
    sub: Subscriber,
    matches: list[Match],
    now: datetime,
    calendar: Calendar,
    uncovered: Sequence[Match] = (),
) -> list[int]:
    """Record the digest (a row per channel, Message-ID fixed) and mark its articles, the matched
    documents it shows under "Not yet covered" (``uncovered``) and its calendar entries alerted,
    atomically."""
    domain = config.settings.smtp.sender.rsplit("@", 1)[-1].strip(" >") or "carewatch.local"
    channels = (["email"] if sub.email else []) + list(sub.channels)
    articles = json.dumps([m.article.article_id for m in matches])
    why = json.dumps(
        {
            m.article.article_id: list(m.why) + [f"TERM:{t}" for t in m.terms] + ([f"EDIT:{m.edit}"] if m.edit else [])
            for m in matches
        }
    )
    created = now.isoformat(timespec="seconds")
    ids = queue_digest(
        db,
        [
            NewDelivery(
                sub.id,
                channel,
                sub.email if channel == "email" else redact(channel),
                sub.frequency,
                articles,
                why,
                len(matches),
                created,
                f"<{uuid.uuid4().hex}.{sub.id}@{domain}>",
                calendar.to_json(),
            )
            for channel in channels
        ],
        sub.id,
        [(m.article.article_id, m.article.version) for m in [*matches, *uncovered]],
        calendar.marks(),
    )
    crash_point("after-queue")
    return ids


def next_digest(config: Config, db: Database, sub: Subscriber, now: datetime) -> list[Match]:
    """What the subscriber's next digest would hold, were it due now (matching new articles first)."""
    match_new(db, config, now)
    return matching_articles(db, sub, now, config.settings.alert_max_age_days)


def send_alerts(
    config: Config,
    db: Database,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    subscribers: list[str] | None = None,
) -> list[DeliveryResult]:
    """Retry the digests whose retry time has come, then queue and send a digest for every
    subscriber that is due and has new matching articles. With dry_run, say what would be sent and
    change nothing but the match cache."""
    now = now or utcnow()
    results: list[DeliveryResult] = []
    config = with_subscribers(db, config)
    match_new(db, config, now)
    stamp = now.isoformat(timespec="seconds")
    for sub in config.alerts.subscribers:
        if subscribers and sub.id not in subscribers:
            continue
        if not dry_run:
            for pending_id in retries_due(db, sub.id, stamp):
                results.append(_deliver(config, db, sub, pending_id, now))
        if not is_due(db, sub, now):
            continue
        matches = matching_articles(db, sub, now, config.settings.alert_max_age_days)
        calendar = calendar_for(db, config, sub, now)
        # a document shown under "Not yet covered" is not listed again among the new articles; a
        # meeting's paper is listed only when a rule asks for papers (alerts.calendar.asked_for)
        uncovered = [m for m in matches if m.article.article_id in calendar.documents()]
        matches = [m for m in matches if m.article.article_id not in calendar.documents() and asked_for(m)]
        if not matches and not calendar:
            continue
        if dry_run:
            ids = [m.article.article_id for m in matches]
            items = entries(config, matches, aliases_of(db, ids), sub, citations_of(db, ids), related_of(db, ids))
            msg = render_message(config, sub, items, now, calendar=calendar)
            results.append(
                DeliveryResult(
                    sub.id,
                    sub.email or ", ".join(map(redact, sub.channels)),
                    None,
                    tuple(i.title for i in items),
                    msg["Subject"],
                    "dry-run",
                    None,
                    article_count(items),
                )
            )
            continue
        for delivery_id in _queue(db, config, sub, matches, now, calendar, uncovered):
            results.append(_deliver(config, db, sub, delivery_id, now))
    return results
