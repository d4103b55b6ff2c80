"""An Atom feed per subscription (feedgen), for organisers who follow news in a feed reader: the
articles the subscriber's rules matched, newest first, each with its source, date and snippet."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlite_utils import Database

from carewatch.alerts.render import _snippet
from carewatch.config.schema import Config, Subscriber
from carewatch.store.alerting import feed_articles


def atom_feed(config: Config, db: Database, sub: Subscriber, limit: int = 50, self_url: str | None = None) -> bytes:
    """``self_url``: the address the feed is served at (``carewatch serve``'s /-/feeds/<token>.atom
    under the public URL), its ``rel="self"`` link; without one the feed has no self link."""
    from feedgen.feed import FeedGenerator

    names = {s.id: s.name for s in config.sources}
    fg = FeedGenerator()
    fg.id(f"urn:carewatch:subscription:{sub.id}")
    fg.title(f"carewatch — {sub.name}")
    fg.subtitle("Articles matching: " + "; ".join(sub.all_rules()))
    fg.author({"name": "carewatch"})
    if self_url:
        fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.language("en-GB")
    newest = None
    for a in reversed(feed_articles(db, sub.id, limit)):
        e = fg.add_entry()
        e.id(f"urn:carewatch:article:{a.article_id}")
        e.title(a.title or a.canonical_url or a.url)
        e.link(href=a.canonical_url or a.url)
        e.author({"name": names.get(a.source_id, a.source_id)})
        when = _when(a.published) or _when(a.first_seen)
        e.published(when)
        e.updated(_when(a.updated) or when)
        e.summary("".join(t for t, _ in _snippet(a.text, tuple(json.loads(a.terms or "[]")))))
        newest = max(filter(None, [newest, _when(a.updated) or when]))
    fg.updated(newest or datetime.now(UTC))
    return fg.atom_str(pretty=True)


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        d = datetime.fromisoformat(value)
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)
