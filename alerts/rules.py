"""Which stored articles a subscriber's digest holds, and when the digest is due.

Due times are the subscriber's: ``immediate`` on every run, ``daily`` at ``at`` and ``weekly`` on
``day`` at ``at``, in Europe/London (so 08:00 stays 08:00 across the clock changes). A digest is due
when none has been queued since the latest such moment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from carewatch.alerts.match import matched_terms
from carewatch.config.schema import DAYS, Subscriber

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Match:
    article: dict
    why: tuple[str, ...]  # the rules that selected it
    edit: str | None = None  # for an article sent before and since edited: what changed
    terms: tuple[str, ...] = ()  # the words that fired, to highlight


def last_slot(sub: Subscriber, now: datetime) -> datetime:
    """The latest moment at or before ``now`` at which this subscriber's digest falls due."""
    if sub.frequency == "immediate":
        return now
    local = now.astimezone(LONDON)
    hour, minute = map(int, sub.at.split(":"))
    slot = datetime(local.year, local.month, local.day, hour, minute, tzinfo=LONDON)
    if sub.frequency == "daily":
        return slot if slot <= local else datetime.combine((local - timedelta(days=1)).date(), slot.timetz())
    back = (local.weekday() - DAYS.index(sub.day)) % 7
    slot = datetime.combine((local - timedelta(days=back)).date(), slot.timetz())
    return slot if slot <= local else datetime.combine((slot - timedelta(days=7)).date(), slot.timetz())


def next_slot(sub: Subscriber, now: datetime) -> datetime:
    """The next moment after ``now`` the digest falls due (for status and previews)."""
    if sub.frequency == "immediate":
        return now
    step = timedelta(days=1 if sub.frequency == "daily" else 7)
    last = last_slot(sub, now).astimezone(LONDON)
    return datetime.combine((last + step).date(), last.timetz())


def is_due(db: Database, sub: Subscriber, now: datetime) -> bool:
    if sub.frequency == "immediate":
        return True
    row = db.execute("SELECT max(created) FROM deliveries WHERE subscriber = ?", [sub.id]).fetchone()
    if not row or not row[0]:
        return True
    return datetime.fromisoformat(row[0]) < last_slot(sub, now)


def matching_articles(db: Database, sub: Subscriber, now: datetime, max_age_days: int) -> list[Match]:
    """Articles the subscriber's rules matched (alerts.match), first seen in the last max_age_days and
    not yet alerted to this subscriber, newest first; then its sent articles edited since."""
    since = (now - timedelta(days=max_age_days)).isoformat(timespec="seconds")
    rows = db.execute(
        "SELECT a.*, m.rules AS matched_rules, m.terms AS matched_terms FROM alert_matches m "
        "JOIN articles a ON a.article_id = m.article_id WHERE m.subscriber = ? AND a.first_seen >= ? "
        "AND a.article_id NOT IN (SELECT article_id FROM alerted WHERE subscriber = ?) "
        "ORDER BY coalesce(a.published, a.first_seen) DESC",
        [sub.id, since, sub.id],
    )
    cols = [c[0] for c in rows.description]
    out = []
    for values in rows.fetchall():
        article = dict(zip(cols, values))
        rules = json.loads(article.pop("matched_rules") or "[]")
        terms = article.pop("matched_terms")
        terms = json.loads(terms) if terms else matched_terms(article, rules)
        out.append(Match(article, tuple(rules), None, tuple(terms)))
    return out + edited_articles(db, sub)


def edited_articles(db: Database, sub: Subscriber) -> list[Match]:
    """Articles this subscriber was sent that have since been edited substantively: a statement
    quietly changed is news of its own. The diff is the change since the version it was sent."""
    rows = db.execute(
        "SELECT a.*, al.version AS sent_version FROM articles a JOIN alerted al "
        "ON al.article_id = a.article_id AND al.subscriber = ? "
        "WHERE a.edited IS NOT NULL AND a.version > coalesce(al.version, 1) ORDER BY a.edited DESC",
        [sub.id],
    )
    cols = [c[0] for c in rows.description]
    out = []
    for values in rows.fetchall():
        article = dict(zip(cols, values))
        diffs = db.execute(
            "SELECT diff FROM article_versions WHERE article_id = ? AND version >= ? AND changed > 0 ORDER BY version",
            [article["article_id"], article.pop("sent_version") or 1],
        ).fetchall()
        edit = "\n".join(d for (d,) in diffs if d)
        out.append(Match(article, ("edited since you were sent it",), edit or None))
    return out
