"""Which stored articles a subscriber's digest holds, and when the digest is due.

Due times are the subscriber's: ``immediate`` on every run, ``daily`` at ``at`` and ``weekly`` on
``day`` at ``at``, in Europe/London (so 08:00 stays 08:00 across the clock changes). A digest is due
when none has been queued since the latest such moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from carewatch.alerts.match import matched_terms
from carewatch.config.schema import DAYS, Subscriber
from carewatch.store.alerting import AlertArticle, edit_diffs, edited_since_sent, unalerted_matches
from carewatch.store.deliveries import last_queued

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Match:
    article: AlertArticle
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
    queued = last_queued(db, sub.id)
    if not queued:
        return True
    return datetime.fromisoformat(queued) < last_slot(sub, now)


def matching_articles(db: Database, sub: Subscriber, now: datetime, max_age_days: int) -> list[Match]:
    """Articles the subscriber's rules matched (alerts.match), first seen in the last max_age_days and
    not yet alerted to this subscriber, newest first; then its sent articles edited since."""
    since = (now - timedelta(days=max_age_days)).isoformat(timespec="seconds")
    out = []
    for m in unalerted_matches(db, sub.id, since):
        terms = m.terms if m.terms is not None else tuple(matched_terms(m.article, m.rules))
        out.append(Match(m.article, m.rules, None, terms))
    return out + edited_articles(db, sub)


def edited_articles(db: Database, sub: Subscriber) -> list[Match]:
    """Articles this subscriber was sent that have since been edited substantively: a statement
    quietly changed is news of its own. The diff is the change since the version it was sent."""
    out = []
    for e in edited_since_sent(db, sub.id):
        edit = "\n".join(edit_diffs(db, e.article.article_id, e.sent_version))
        out.append(Match(e.article, ("edited since you were sent it",), edit or None))
    return out
