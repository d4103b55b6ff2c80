"""Which stored articles a subscriber's rules select, and when a subscriber's digest is due."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from config.schema import Subscriber
from core.keywords import any_pattern

PERIOD = {"immediate": timedelta(0), "daily": timedelta(days=1), "weekly": timedelta(days=7)}


@dataclass(frozen=True)
class Match:
    article: dict
    why: tuple[str, ...]  # the keywords and topics that selected it
    edit: str | None = None  # for an article sent before and since edited: what changed


def is_due(db: Database, sub: Subscriber, now: datetime) -> bool:
    row = db.execute(
        "SELECT max(created) FROM deliveries WHERE subscriber = ? AND status = 'sent'", [sub.id]
    ).fetchone()
    if not row or not row[0]:
        return True
    return datetime.fromisoformat(row[0]) + PERIOD[sub.frequency] <= now


def matching_articles(db: Database, sub: Subscriber, now: datetime, max_age_days: int) -> list[Match]:
    """Relevant articles first seen in the last max_age_days, not yet alerted to this subscriber,
    that one of its keywords or topics selects. Newest first."""
    since = (now - timedelta(days=max_age_days)).isoformat(timespec="seconds")
    rows = db.execute(
        "SELECT * FROM articles WHERE relevant = 1 AND first_seen >= ? "
        "AND article_id NOT IN (SELECT article_id FROM alerted WHERE subscriber = ?) "
        "ORDER BY coalesce(published, first_seen) DESC",
        [since, sub.id],
    )
    cols = [c[0] for c in rows.description]
    keywords = any_pattern(sub.keywords)
    out = []
    for values in rows.fetchall():
        article = dict(zip(cols, values))
        topics = {t["topic"] for t in json.loads(article["topics"] or "[]")}
        why = [t for t in sub.topics if t in topics]
        if keywords:
            hay = f"{article['title']}\n{article['text']}"
            why += sorted({" ".join(m.group(0).split()).lower() for m in keywords.finditer(hay)})
        if why:
            out.append(Match(article, tuple(why)))
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
