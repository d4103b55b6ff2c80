"""Match new articles against every subscriber's rules, once each, as they arrive.

Each subscriber has a cursor: the last article row it has been matched against, and the rules it
was matched with. A run looks only at the rows past the cursors. Every rule that SQLite's FTS5 can
express (words, "phrases", prefix*, AND, OR, a NOT b, NEAR of two phrases, and topic:/source:/
entity:/relevant: filters as joins) runs as one FTS5 query over the archive's full-text index,
restricted to those new rows: FTS5 is the archive's search engine already, and bench/alerts.py
measured it far faster than evaluating rules in Python. The few rules it cannot express (NEAR
around a bracket, a NOT with nothing beside it) are evaluated in memory over the new rows, filed
under the words they cannot match without (their "anchors"), so an article wakes only the rules
whose anchors it contains. The matched words, for highlighting, are worked out later for the few
articles a digest actually shows.

Matches are kept in ``alert_matches``. When a subscriber's rules change, its cursor restarts at
the articles still young enough to alert.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from sqlite_utils import Database

from carewatch.config.schema import Config, Subscriber
from carewatch.core.items import utcnow_iso
from carewatch.core.query import And, Document, Field, Near, Node, Not, Or, QueryError, Term, parse
from carewatch.store.alerting import (
    AlertArticle,
    AlertCursor,
    ArticleFilter,
    RuleQuery,
    alert_cursors,
    articles_between,
    articles_by_rowid,
    articles_seen_since,
    first_rowid_since,
    forget_unsent_matches,
    last_article_rowid,
    rule_hits,
    rule_rowids,
    save_matches,
)
from carewatch.store.search import SearchHit, hits_by_rowid
from carewatch.store.search import search as search_rows

BATCH = 1000


def _anchors(node: Node) -> set[str] | None:
    """Words (a trailing * for a prefix) one of which the text must contain for the node to match;
    None when it can match without any (a field filter, a NOT)."""
    if isinstance(node, Term):
        return {node.parts[0]}
    if isinstance(node, (Field, Not)):
        return None
    if isinstance(node, Near):
        return _anchors(node.left) or _anchors(node.right)
    if isinstance(node, Or):
        out: set[str] = set()
        for c in node.children:
            a = _anchors(c)
            if a is None:
                return None
            out |= a
        return out
    if isinstance(node, And):
        options = [a for a in (_anchors(c) for c in node.children) if a is not None]
        return min(options, key=len) if options else None
    return None


@dataclass
class RuleIndex:
    """Every subscriber's rules, filed under their anchor words."""

    rules: list[tuple[str, str, Node]] = field(default_factory=list)  # (subscriber, rule text, tree)
    by_word: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_prefix: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    always: list[int] = field(default_factory=list)

    def add(self, subscriber: str, rule: str) -> None:
        node = parse(rule)
        i = len(self.rules)
        self.rules.append((subscriber, rule, node))
        anchors = _anchors(node)
        if anchors is None:
            self.always.append(i)
            return
        for a in anchors:
            (self.by_prefix[a[:-1]] if a.endswith("*") else self.by_word[a]).append(i)

    def candidates(self, doc: Document) -> set[int]:
        out = set(self.always)
        for w in doc.vocabulary:
            out.update(self.by_word.get(w, ()))
        for prefix, rules in self.by_prefix.items():
            if doc.prefixed(prefix):
                out.update(rules)
        return out

    def match(self, doc: Document, subscribers: set[str] | None = None) -> dict[str, list[tuple[str, tuple]]]:
        """subscriber -> [(rule, hits)] for the rules this document satisfies."""
        out: dict[str, list[tuple[str, tuple]]] = defaultdict(list)
        for i in sorted(self.candidates(doc)):
            sub, rule, node = self.rules[i]
            if subscribers is not None and sub not in subscribers:
                continue
            result = node.evaluate(doc)
            if result.matched:
                out[sub].append((rule, result.hits))
        return out


class NoFtsForm(ValueError):
    """The rule has no FTS5 form: it is evaluated in memory instead."""


def fts_expression(node: Node) -> str:
    """The node as an FTS5 MATCH expression; NoFtsForm when FTS5 cannot express it."""
    if isinstance(node, Term):
        raw = node.text
        body = raw.rstrip("*")
        if body.startswith('"') or not body:
            raise NoFtsForm(raw)
        return '"' + body.replace('"', '""') + '"' + ("*" if raw.endswith("*") else "")
    if isinstance(node, Near):
        if not (isinstance(node.left, Term) and isinstance(node.right, Term)):
            raise NoFtsForm("FTS5 NEAR takes phrases only")
        return f"NEAR({fts_expression(node.left)} {fts_expression(node.right)}, {node.distance})"
    if isinstance(node, Or):
        return " OR ".join(f"({fts_expression(c)})" for c in node.children)
    if isinstance(node, And):
        pos = [c for c in node.children if not isinstance(c, Not)]
        neg = [c.child for c in node.children if isinstance(c, Not)]
        if not pos:
            raise NoFtsForm("FTS5 NOT needs something on its left")
        return " AND ".join(f"({fts_expression(c)})" for c in pos) + "".join(f" NOT ({fts_expression(c)})" for c in neg)
    raise NoFtsForm(repr(node))


def _filter(field: Field, negated: bool = False) -> ArticleFilter:
    if field.name == "relevant":
        return ArticleFilter("relevant", 1 if field.value in ("yes", "true", "1") else 0, negated)
    return ArticleFilter(field.name, field.value, negated)


def _split(node: Node) -> tuple[list[ArticleFilter], list[Node]]:
    """A rule's filters (its topic:, source:, entity:, relevant:, perhaps NOT-ed, beside the rest)
    and the parts about the text."""
    parts = list(node.children) if type(node) is And else [node]
    filters, text = [], []
    for part in parts:
        if isinstance(part, Field):
            filters.append(_filter(part))
        elif isinstance(part, Not) and isinstance(part.child, Field):
            filters.append(_filter(part.child, negated=True))
        else:
            text.append(part)
    return filters, text


@lru_cache(maxsize=8192)
def rule_query(rule: str) -> RuleQuery | None:
    """The rule as one query over the archive (an FTS5 MATCH expression and filters: joins); None
    when FTS5 cannot express it."""
    filters, text = _split(parse(rule))
    try:
        expr = fts_expression(text[0] if len(text) == 1 else And(tuple(text))) if text else None
    except NoFtsForm:
        return None
    return RuleQuery(expr, tuple(filters))


def _wider(node: Node) -> str | None:
    """An FTS5 expression every text the node matches also matches (None: no such narrowing), for a
    node FTS5 cannot express exactly: a NEAR around a bracket becomes an AND, a NOT is dropped."""
    try:
        return fts_expression(node)
    except NoFtsForm:
        pass
    if isinstance(node, Near):
        sides = [w for w in (_wider(node.left), _wider(node.right)) if w]
        return " AND ".join(f"({w})" for w in sides) or None
    if isinstance(node, Or):
        each = [_wider(c) for c in node.children]
        return None if None in each else " OR ".join(f"({w})" for w in each)
    if isinstance(node, And):
        some = [w for w in (_wider(c) for c in node.children) if w]
        return " AND ".join(f"({w})" for w in some) or None
    return None


@lru_cache(maxsize=1024)
def wider_query(rule: str) -> RuleQuery:
    """A query over the archive that finds at least every article the rule matches: its filters and
    a wider FTS5 expression of its text (``_wider``), for a rule ``rule_query`` cannot express."""
    filters, text = _split(parse(rule))
    return RuleQuery(_wider(text[0] if len(text) == 1 else And(tuple(text))) if text else None, tuple(filters))


class SearchTooSlow(QueryError):
    """A rule that has to be read article by article took longer than it was given."""


def archive_rowids(
    db: Database, rule: str, after: int = 0, upto: int | None = None, *, seconds: float | None = None
) -> list[int]:
    """The rowids in (after, upto] of the articles the rule matches, relevant or not, in rowid
    order, decided as the matcher decides: by its FTS5 query when it has one (``rule_query``), else
    by the rule itself, evaluated over the articles a wider query finds (``wider_query``).
    QueryError when it does not parse; SearchTooSlow after ``seconds`` of evaluating."""
    node = parse(rule)
    upto = last_article_rowid(db) if upto is None else upto
    plan = rule_query(rule)
    if plan is not None:
        return rule_rowids(db, plan, after, upto)
    deadline = None if seconds is None else time.monotonic() + seconds
    candidates = rule_rowids(db, wider_query(rule), after, upto)
    out = []
    for i in range(0, len(candidates), BATCH):
        if deadline is not None and time.monotonic() > deadline:
            raise SearchTooSlow(
                f"{rule!r} has to be read article by article ({len(candidates)} of them) and took too long: "
                "add a word it must contain, or a topic:, source: or entity:"
            )
        batch = articles_by_rowid(db, candidates[i : i + BATCH])
        out += [a.rowid for a in batch if node.evaluate(article_document(a)).matched]
    return out


def search_archive(db: Database, rule: str, *, limit: int = 20, since: str | None = None) -> list[SearchHit]:
    """What ``carewatch search`` shows: the articles the rule matches (as ``archive_rowids``
    decides), published or first seen since ``since``; best match first (FTS5's rank) when FTS5
    expresses the rule, else newest first. QueryError when it does not parse."""
    plan = rule_query(rule)
    if plan is not None:
        return search_rows(db, plan, limit=limit, since=since)
    return hits_by_rowid(db, archive_rowids(db, rule), limit=limit, since=since)


def rules_key(sub: Subscriber) -> str:
    blob = json.dumps([sub.all_rules(), sub.sources, sub.include_irrelevant])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def article_document(article: AlertArticle) -> Document:
    """An article as the rules see it: headline and text, its topics, entities, source and relevance."""
    topics = {t["topic"] for t in json.loads(article.topics or "[]")}
    entities = {e["entity"] for e in json.loads(article.entities or "[]")}
    return Document(
        f"{article.title or ''}\n{article.text or ''}",
        {
            "topic": topics,
            "entity": entities,
            "source": {article.source_id or ""},
            "relevant": {"yes"} if article.relevant else set(),
        },
    )


def _surface(doc: Document, hits: tuple) -> list[str]:
    return sorted({" ".join(doc.surface[h[1] : h[2] + 1]) for h in hits})


def matched_terms(article: AlertArticle, rules: tuple[str, ...]) -> list[str]:
    """The words of an article that made these rules fire (for highlighting)."""
    doc = article_document(article)
    return sorted({t for rule in rules for t in _surface(doc, parse(rule).evaluate(doc).hits)})


def match_new(db: Database, config: Config, now: datetime | None = None) -> int:
    """Match the articles each subscriber has not been matched against yet; returns how many matches."""
    subs = {s.id: s for s in config.alerts.subscribers}
    if not subs:
        return 0
    since = ((now or datetime.now().astimezone()) - timedelta(days=config.settings.alert_max_age_days)).isoformat(
        timespec="seconds"
    )
    hi = last_article_rowid(db)
    kept = alert_cursors(db)
    cursors = {}
    for sid, sub in subs.items():
        cursor = kept.get(sid)
        if cursor and cursor.rules == rules_key(sub):
            cursors[sid] = cursor.last_rowid
        else:  # new subscriber or changed rules: start with the articles still young enough to alert
            first = first_rowid_since(db, since)
            cursors[sid] = (first - 1) if first else hi
            if cursor:
                forget_unsent_matches(db, sid)
    fired: dict[tuple[str, str], list[str]] = defaultdict(list)
    index = RuleIndex()
    for sid, sub in subs.items():
        if cursors[sid] >= hi:
            continue
        for rule in sub.all_rules():
            query = rule_query(rule)
            if query is None:
                index.add(sid, rule)
                continue
            for aid in rule_hits(
                db, query, cursors[sid], hi, relevant_only=not sub.include_irrelevant, sources=tuple(sub.sources)
            ):
                fired[(sid, aid)].append(rule)
    if index.rules:  # the rules FTS5 cannot express: in memory, over the new rows only
        last = min(cursors.values())
        while last < hi:
            rows = articles_between(db, last, hi, BATCH)
            if not rows:
                break
            for row in rows:
                waiting = {sid for sid, c in cursors.items() if c < row.rowid}
                for sid, hits in index.match(article_document(row), waiting).items():
                    sub = subs[sid]
                    if (sub.sources and row.source_id not in sub.sources) or not (
                        row.relevant or sub.include_irrelevant
                    ):
                        continue
                    fired[(sid, row.article_id)] += [r for r, _ in hits]
            last = rows[-1].rowid
    save_matches(
        db, fired, [AlertCursor(sid, rules_key(subs[sid]), max(cursors[sid], hi)) for sid in subs], utcnow_iso()
    )
    return len(fired)


@dataclass(frozen=True)
class ArchiveHit:
    """An article a rule matches in the archive, with the words that fired."""

    article_id: str
    title: str | None
    canonical_url: str | None
    source_id: str
    published: str | None
    first_seen: str
    relevant: int | None
    terms: tuple[str, ...]


def archive_hits(db: Database, query: str, days: int, now: datetime | None = None, limit: int = 50) -> list[ArchiveHit]:
    """What a rule would have matched among the articles first seen in the last ``days`` days
    (relevant or not), the same way the matcher decides, with the words that fired, newest first.
    QueryError when the rule does not parse."""
    node = parse(query)
    since = ((now or datetime.now().astimezone()) - timedelta(days=days)).isoformat(timespec="seconds")
    lo = (first_rowid_since(db, since) or 1) - 1
    hi = last_article_rowid(db)
    out = []
    for a in articles_seen_since(db, since, archive_rowids(db, query, lo, hi)):
        doc = article_document(a)
        result = node.evaluate(doc)
        out.append(
            ArchiveHit(
                a.article_id,
                a.title,
                a.canonical_url,
                a.source_id,
                a.published,
                a.first_seen,
                a.relevant,
                tuple(_surface(doc, result.hits)),
            )
        )
        if len(out) >= limit:
            break
    return out
