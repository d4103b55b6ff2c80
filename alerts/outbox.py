"""Build each due subscriber's digest, record it in ``deliveries``, send it, record the outcome.

A digest and the "alerted" marks for its articles are written in one transaction *before*
sending (the outbox pattern), so an article is never put in two digests for one subscriber. A
digest that fails to send stays ``pending`` with its error and is retried on the next run with
the same articles, so nothing is lost either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from alerts.email import send_email
from alerts.render import entries, render_message
from alerts.rules import Match, is_due, matching_articles
from config.schema import Config, Subscriber
from core.errors import NotifyError
from core.items import utcnow

MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class DeliveryResult:
    subscriber: str
    address: str
    delivery_id: int | None
    articles: tuple[str, ...]  # titles
    subject: str
    status: str  # sent | pending | dry-run
    error: str | None = None


def _aliases(db: Database, article_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """article_id -> [(url, reason)] of the other places its story was found."""
    out: dict[str, list[tuple[str, str]]] = {}
    if not article_ids:
        return out
    marks = ",".join("?" * len(article_ids))
    for aid, url, reason in db.execute(
        f"SELECT article_id, url, reason FROM article_aliases WHERE article_id IN ({marks}) ORDER BY seen",
        article_ids,
    ).fetchall():
        out.setdefault(aid, []).append((url, reason or ""))
    return out


def _deliver(config: Config, db: Database, sub: Subscriber, delivery_id: int, now: datetime) -> DeliveryResult:
    row = db["deliveries"].get(delivery_id)
    ids = json.loads(row["articles"])
    why = json.loads(row["why"] or "{}")
    marks = ",".join("?" * len(ids))
    cur = db.execute(f"SELECT * FROM articles WHERE article_id IN ({marks})", ids)
    cols = [c[0] for c in cur.description]
    by_id = {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}
    matches = []
    for i in ids:
        if i in by_id:
            reasons = why.get(i, [])
            edit = next((r[5:] for r in reasons if r.startswith("EDIT:")), None)
            matches.append(Match(by_id[i], tuple(r for r in reasons if not r.startswith("EDIT:")), edit))
    items = entries(config, matches, _aliases(db, ids))
    msg = render_message(config, sub, items, now)
    titles = tuple(i.title for i in items)
    try:
        send_email(config.settings.smtp, msg)
    except NotifyError as e:
        db["deliveries"].update(delivery_id, {"attempts": row["attempts"] + 1, "last_error": str(e)})
        return DeliveryResult(sub.id, sub.email, delivery_id, titles, msg["Subject"], "pending", str(e))
    db["deliveries"].update(
        delivery_id,
        {"status": "sent", "attempts": row["attempts"] + 1, "sent": now.isoformat(timespec="seconds"),
         "message_id": msg["Message-ID"], "subject": msg["Subject"], "last_error": None},
    )
    return DeliveryResult(sub.id, sub.email, delivery_id, titles, msg["Subject"], "sent")


def _queue(db: Database, sub: Subscriber, matches: list[Match], now: datetime) -> int:
    """Record a digest and mark its articles alerted for this subscriber, atomically."""
    with db.atomic():
        delivery_id = db["deliveries"].insert(
            {
                "subscriber": sub.id,
                "channel": sub.channel,
                "address": sub.email,
                "frequency": sub.frequency,
                "articles": json.dumps([m.article["article_id"] for m in matches]),
                "why": json.dumps({m.article["article_id"]: list(m.why) + ([f"EDIT:{m.edit}"] if m.edit else [])
                                   for m in matches}),
                "article_count": len(matches),
                "status": "pending",
                "attempts": 0,
                "created": now.isoformat(timespec="seconds"),
            }
        ).last_pk
        db["alerted"].upsert_all(
            ({"subscriber": sub.id, "article_id": m.article["article_id"], "delivery_id": delivery_id,
              "version": m.article["version"]} for m in matches),
            pk=("subscriber", "article_id"),
        )
    return delivery_id


def send_alerts(
    config: Config, db: Database, *, now: datetime | None = None, dry_run: bool = False,
    subscribers: list[str] | None = None,
) -> list[DeliveryResult]:
    """Retry unsent digests, then build and send a digest for every subscriber that is due and
    has new matching articles. With dry_run, say what would be sent and change nothing."""
    now = now or utcnow()
    results: list[DeliveryResult] = []
    for sub in config.alerts.subscribers:
        if subscribers and sub.id not in subscribers:
            continue
        if not dry_run:
            for (pending_id,) in db.execute(
                "SELECT id FROM deliveries WHERE subscriber = ? AND status = 'pending' AND attempts < ? ORDER BY id",
                [sub.id, MAX_ATTEMPTS],
            ).fetchall():
                results.append(_deliver(config, db, sub, pending_id, now))
        if not is_due(db, sub, now):
            continue
        matches = matching_articles(db, sub, now, config.settings.alert_max_age_days)
        if not matches:
            continue
        if dry_run:
            items = entries(config, matches, _aliases(db, [m.article["article_id"] for m in matches]))
            msg = render_message(config, sub, items, now)
            results.append(DeliveryResult(sub.id, sub.email, None, tuple(i.title for i in items),
                                          msg["Subject"], "dry-run"))
            continue
        results.append(_deliver(config, db, sub, _queue(db, sub, matches, now), now))
    return results
