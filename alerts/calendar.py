"""The digests' calendar sections (issue 20):

- **Coming up**: a relevant agenda item (tagged as children's social care by the tag pipeline) of
  a meeting in the subscriber's next ``coming_up_days`` days, with the date, time, committee, the
  item and its documents. It appears once, and again only when its meeting moves or is cancelled,
  or its papers change (the version kept in ``calendar_alerted``); once the meeting has passed it
  is not shown.
- **Not yet covered**: a relevant official document (a meeting's document; an article of an
  ``official`` source, such as Ofsted's reports or the council's and the Trust's statements) that
  the subscriber's rules matched and that
  no press article has been linked to (``article_links``) ``not_covered_days`` days after it was
  published (a meeting's document: after its meeting; undated: after carewatch first saw it),
  within the last ``NOT_COVERED_LOOKBACK_DAYS`` days. It appears once.

"Coming up" shows the items the subscriber's rules (topics and keywords included) match, read
as ``kind:meeting`` with the meeting's ``committee:`` (so ``kind:meeting AND committee:cabinet``
asks for every Cabinet item); ``coming_up_days`` or ``not_covered_days`` 0 turns a section off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlite_utils import Database

from carewatch.alerts.rules import LONDON, Match
from carewatch.config.schema import Config, Subscriber
from carewatch.core.items import parse_timestamp
from carewatch.core.query import Document, QueryError, parse
from carewatch.store import meetings as store

NOT_COVERED_LOOKBACK_DAYS = 30  # an official document older than this is history, not news to chase


@dataclass(frozen=True)
class ComingUp:
    target: str  # "item:<item_id>"
    version: str
    when: str  # "Tue 8 Dec, 10:00" (Birmingham's clock)
    committee: str
    item: str  # "7. Birmingham Children's Trust contract review"
    status: str  # scheduled | cancelled | moved | held
    venue: str | None
    url: str
    documents: tuple[tuple[str, str], ...]  # (title, url)


@dataclass(frozen=True)
class NotCovered:
    target: str  # "uncovered:<article_id>"
    title: str
    url: str
    source: str
    seen: str  # "first seen 1 Dec"
    committee: str | None


@dataclass(frozen=True)
class Calendar:
    coming_up: tuple[ComingUp, ...] = ()
    not_covered: tuple[NotCovered, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.coming_up or self.not_covered)

    def documents(self) -> frozenset[str]:
        """The article ids of its "Not yet covered" documents."""
        return frozenset(n.target.removeprefix("uncovered:") for n in self.not_covered)

    def marks(self) -> list[tuple[str, str]]:
        """(target, version) of each entry, for ``calendar_alerted``."""
        return [(c.target, c.version) for c in self.coming_up] + [(n.target, "shown") for n in self.not_covered]

    def to_json(self) -> str:
        return json.dumps(
            {
                "coming_up": [c.target[5:] for c in self.coming_up],
                "not_covered": [n.target[10:] for n in self.not_covered],
            }
        )


def _when(start: str | None) -> str:
    if not start:
        return "date to be confirmed"
    if len(start) <= 10:
        return datetime.fromisoformat(start).strftime("%a %-d %b")
    return parse_timestamp(start).astimezone(LONDON).strftime("%a %-d %b, %H:%M")


def item_document(row: store.ComingUpRow) -> Document:
    """An agenda item as rules read it: its title and text; ``kind:meeting``, its committee, its
    topics, its meeting's source and its relevance."""
    return Document(
        f"{row.title}\n{row.text or ''}",
        {
            "topic": {t["topic"] for t in json.loads(row.topics or "[]")},
            "entity": set(),
            "source": {row.source_id},
            "relevant": {"yes"} if row.relevant else set(),
            "kind": {"meeting"},
            "committee": {f.removeprefix("committee:") for f in (row.committee_facts or "").split()},
        },
    )


def wanted(sub: Subscriber, row: store.ComingUpRow) -> bool:
    """Whether a subscriber's "Coming up" shows an item: one of its rules (topics and keywords
    included) matches the item, and the item is on children's social care, unless the subscriber
    takes everything (``include_irrelevant``) or the rule asks for meetings (``kind:meeting``)."""
    if sub.sources and row.source_id not in sub.sources:
        return False
    doc = item_document(row)
    for rule in sub.all_rules():
        tree = parse(rule)
        if tree.evaluate(doc).matched and (
            row.relevant or sub.include_irrelevant or ("kind", "meeting") in tree.fields()
        ):
            return True
    return False


def _coming_up(db: Database, rows: list[store.ComingUpRow]) -> tuple[ComingUp, ...]:
    docs = store.documents_by_item(db, [r.item_id for r in rows])
    return tuple(
        ComingUp(
            target=f"item:{r.item_id}",
            version=r.version,
            when=_when(r.start),
            committee=r.committee,
            item=f"{r.number}. {r.title}" if r.number else r.title,
            status=r.status,
            venue=r.venue,
            url=r.url,
            documents=tuple((d.title or d.url, d.url) for d in docs.get(r.item_id, [])),
        )
        for r in rows
    )


def _not_covered(config: Config, rows: list[store.UncoveredRow]) -> tuple[NotCovered, ...]:
    names = {s.id: s.name for s in config.sources}
    return tuple(
        NotCovered(
            target=f"uncovered:{r.article_id}",
            title=r.title or "(untitled)",
            url=r.canonical_url or r.url,
            source=names.get(r.source_id, r.source_id),
            seen="first seen " + parse_timestamp(r.first_seen).astimezone(LONDON).strftime("%-d %b"),
            committee=r.committee,
        )
        for r in rows
    )


def asked_for(match: Match) -> bool:
    """Whether a match is listed among a digest's new articles. A meeting's paper is, only when a
    rule that selected it asks for papers (``kind:document`` or ``committee:``): otherwise papers
    reach the subscriber through "Coming up" (with their item) and "Not yet covered", not one
    entry each (an agenda pack, its frontsheet and its minutes all name the Trust)."""
    if match.article.kind != "document":
        return True
    return any(_asks_for_papers(rule) for rule in match.why)


@lru_cache(maxsize=4096)
def _asks_for_papers(rule: str) -> bool:
    """Whether a rule names ``kind:document`` or a ``committee:`` (False for one that does not parse)."""
    try:
        fields = parse(rule).fields()
    except QueryError:
        return False
    return ("kind", "document") in fields or any(name == "committee" for name, _ in fields)


def calendar_for(db: Database, config: Config, sub: Subscriber, now: datetime) -> Calendar:
    """What the subscriber's next digest shows under "Coming up" and "Not yet covered". (A
    document matched and not sent yet that is past its days already is shown under "Not yet
    covered" only, not among the new articles too: alerts.outbox.)"""
    stamp = now.isoformat(timespec="seconds")
    coming: tuple[ComingUp, ...] = ()
    if sub.coming_up_days:
        end = (now + timedelta(days=sub.coming_up_days)).isoformat(timespec="seconds")
        rows = [r for r in store.coming_up(db, sub.id, stamp, end) if wanted(sub, r)]
        coming = _coming_up(db, rows)
    uncovered: tuple[NotCovered, ...] = ()
    if sub.not_covered_days:
        before = (now - timedelta(days=sub.not_covered_days)).isoformat(timespec="seconds")
        after = (now - timedelta(days=NOT_COVERED_LOOKBACK_DAYS)).isoformat(timespec="seconds")
        uncovered = _not_covered(config, store.not_covered(db, sub.id, config.official_sources(), before, after))
    return Calendar(coming, uncovered)


def recorded_calendar(db: Database, config: Config, recorded: str | None) -> Calendar:
    """The calendar a queued digest holds (``deliveries.calendar``), to send it again the same."""
    data = json.loads(recorded or "{}")
    items = store.coming_up_rows(db, data.get("coming_up") or [])
    documents = store.uncovered_rows(db, data.get("not_covered") or [])
    return Calendar(_coming_up(db, items), _not_covered(config, documents))
