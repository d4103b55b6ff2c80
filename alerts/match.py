"""Match new articles against every subscriber's rules, once each, as they arrive.

Each subscriber has a cursor (the last article row it has been matched against, and the rules it
was matched with). A run reads only the articles past the lowest cursor, builds each article's word
index once, and evaluates only the rules that can match it: every rule is filed under the words it
cannot match without (its "anchors": for ``budget* NEAR/5 (cuts OR savings)`` the prefix ``budget``),
so an article wakes the rules whose anchors it contains, plus the few rules that need no word at all
(``topic:ofsted``). This is the percolator idea of search engines, done in memory here because the
rules are few and small; ``bench/alerts.py`` measures it against one FTS5 query per rule.

Matches are kept in ``alert_matches`` with the rules and the words that fired, so digests can say
why and highlight them. When a subscriber's rules change, its cursor restarts at the articles still
young enough to alert.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlite_utils import Database

from config.schema import Config, Subscriber
from core.items import utcnow_iso
from core.query import And, Document, Field, Near, Node, Not, Or, Term, parse

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


def rules_key(sub: Subscriber) -> str:
    blob = json.dumps([sub.all_rules(), sub.sources, sub.include_irrelevant])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def article_document(row: dict) -> Document:
    """An article row as the rules see it: headline and text, its topics, entities, source and relevance."""
    topics = {t["topic"] for t in json.loads(row.get("topics") or "[]")}
    entities = {e["entity"] for e in json.loads(row.get("entities") or "[]")}
    return Document(f"{row.get('title') or ''}\n{row.get('text') or ''}",
                    {"topic": topics, "entity": entities, "source": {row.get("source_id") or ""},
                     "relevant": {"yes"} if row.get("relevant") else set()})


def _surface(doc: Document, hits: tuple) -> list[str]:
    return sorted({" ".join(doc.surface[h[1]: h[2] + 1]) for h in hits})


def match_new(db: Database, config: Config, now: datetime | None = None) -> int:
    """Match the articles each subscriber has not been matched against yet; returns how many matches."""
    subs = {s.id: s for s in config.alerts.subscribers}
    if not subs:
        return 0
    since = ((now or datetime.now().astimezone()) - timedelta(days=config.settings.alert_max_age_days)
             ).isoformat(timespec="seconds")
    cursors = {}
    for sid, sub in subs.items():
        row = db.execute("SELECT rules, last_rowid FROM alert_cursor WHERE subscriber = ?", [sid]).fetchone()
        if row and row[0] == rules_key(sub):
            cursors[sid] = row[1]
        else:  # new subscriber or changed rules: start with the articles still young enough to alert
            first = db.execute("SELECT min(rowid) FROM articles WHERE first_seen >= ?", [since]).fetchone()[0]
            cursors[sid] = (first or (db.execute("SELECT max(rowid) FROM articles").fetchone()[0] or 0) + 1) - 1
            if row:
                db.execute("DELETE FROM alert_matches WHERE subscriber = ? AND article_id NOT IN "
                           "(SELECT article_id FROM alerted WHERE subscriber = ?)", [sid, sid])
    index = RuleIndex()
    for sid, sub in subs.items():
        for rule in sub.all_rules():
            index.add(sid, rule)
    last = min(cursors.values())
    found = 0
    while True:
        cur = db.execute("SELECT rowid, * FROM articles WHERE rowid > ? ORDER BY rowid LIMIT ?", [last, BATCH])
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        if not rows:
            break
        with db.atomic():
            for row in rows:
                waiting = {sid for sid, c in cursors.items() if c < row["rowid"]}
                doc = article_document(row)
                for sid, fired in index.match(doc, waiting).items():
                    sub = subs[sid]
                    if sub.sources and row["source_id"] not in sub.sources:
                        continue
                    if not (row.get("relevant") or sub.include_irrelevant):
                        continue
                    terms = sorted({t for _, hits in fired for t in _surface(doc, hits)})
                    db.execute("INSERT OR IGNORE INTO alert_matches (subscriber, article_id, matched, rules, terms) "
                               "VALUES (?, ?, ?, ?, ?)",
                               [sid, row["article_id"], utcnow_iso(), json.dumps([r for r, _ in fired]),
                                json.dumps(terms, ensure_ascii=False)])
                    found += 1
            last = rows[-1]["rowid"]
            for sid in subs:
                cursors[sid] = max(cursors[sid], last)
                db.execute("INSERT OR REPLACE INTO alert_cursor (subscriber, rules, last_rowid) VALUES (?, ?, ?)",
                           [sid, rules_key(subs[sid]), cursors[sid]])
    return found


def test_query(db: Database, query: str, days: int, now: datetime | None = None, limit: int = 50) -> list[dict]:
    """What a rule would have matched among the articles first seen in the last ``days`` days."""
    node = parse(query)
    since = ((now or datetime.now().astimezone()) - timedelta(days=days)).isoformat(timespec="seconds")
    cur = db.execute("SELECT * FROM articles WHERE first_seen >= ? ORDER BY coalesce(published, first_seen) DESC",
                     [since])
    cols = [c[0] for c in cur.description]
    out = []
    for values in cur:
        row = dict(zip(cols, values))
        doc = article_document(row)
        result = node.evaluate(doc)
        if result.matched:
            out.append({**row, "terms": _surface(doc, result.hits)})
            if len(out) >= limit:
                break
    return out
