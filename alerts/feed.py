"""An Atom feed per subscription (feedgen), for organisers who follow news in a feed reader: the
articles the subscriber's rules matched, newest first, each with its source, date and snippet."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlite_utils import Database

from carewatch.alerts.render import _snippet
from carewatch.config.schema import Config, Subscriber


def atom_feed(config: Config, db: Database, sub: Subscriber, limit: int = 50) -> bytes:
    from feedgen.feed import FeedGenerator

    names = {s.id: s.name for s in config.sources}
    fg = FeedGenerator()
    fg.id(f"urn:carewatch:subscription:{sub.id}")
    fg.title(f"carewatch — {sub.name}")
    fg.subtitle("Articles matching: " + "; ".join(sub.all_rules()))
    fg.author({"name": "carewatch"})
    fg.link(href=f"urn:carewatch:{sub.id}", rel="self")
    fg.language("en-GB")
    rows = db.execute(
        "SELECT a.article_id, a.title, a.canonical_url, a.url, a.source_id, a.published, a.first_seen, a.text, "
        "a.updated, m.terms FROM alert_matches m JOIN articles a ON a.article_id = m.article_id "
        "WHERE m.subscriber = ? ORDER BY coalesce(a.published, a.first_seen) DESC LIMIT ?", [sub.id, limit]).fetchall()
    newest = None
    for aid, title, canonical, url, source, published, first_seen, text, updated, terms in reversed(rows):
        e = fg.add_entry()
        e.id(f"urn:carewatch:article:{aid}")
        e.title(title or canonical or url)
        e.link(href=canonical or url)
        e.author({"name": names.get(source, source)})
        when = _when(published) or _when(first_seen)
        e.published(when)
        e.updated(_when(updated) or when)
        e.summary("".join(t for t, _ in _snippet(text, tuple(json.loads(terms or "[]")))))
        newest = max(filter(None, [newest, _when(updated) or when]))
    fg.updated(newest or datetime.now(timezone.utc))
    return fg.atom_str(pretty=True)


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        d = datetime.fromisoformat(value)
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)
