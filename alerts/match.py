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
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta

from sqlite_utils import Database

from carewatch.config.schema import Config, Subscriber
from carewatch.core.items import utcnow_iso
from carewatch.core.query import And, Document, Field, Near, Node, Not, Or, Term, parse

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


def _filter(field: Field) -> tuple[str, list]:
    if field.name == "topic":
        return "EXISTS (SELECT 1 FROM article_topics t WHERE t.article_id = a.article_id AND t.topic = ?)", [field.value]
    if field.name == "entity":
        return "EXISTS (SELECT 1 FROM article_entities e WHERE e.article_id = a.article_id AND e.entity = ?)", [field.value]
    if field.name == "source":
        return "a.source_id = ?", [field.value]
    return "a.relevant = ?", [1 if field.value in ("yes", "true", "1") else 0]


@lru_cache(maxsize=8192)
def sql_plan(rule: str) -> tuple[str, list] | None:
    """The rule as one SQL query over articles (FTS5 MATCH and joins), with two placeholders left
    at the end for the rowid range; None when FTS5 cannot express it."""
    node = parse(rule)
    parts = list(node.children) if type(node) is And else [node]
    conds, params, text = [], [], []
    for part in parts:
        if isinstance(part, Field):
            c, p = _filter(part)
        elif isinstance(part, Not) and isinstance(part.child, Field):
            c, p = _filter(part.child)
            c = f"NOT ({c})"
        else:
            text.append(part)
            continue
        conds.append(c)
        params += p
    try:
        expr = fts_expression(text[0] if len(text) == 1 else And(tuple(text))) if text else None
    except NoFtsForm:
        return None
    if expr is None:
        sql, head = "SELECT a.rowid, a.article_id FROM articles a WHERE 1", []
    else:
        sql = ("SELECT a.rowid, a.article_id FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
               "WHERE articles_fts MATCH ?")
        head = [expr]
    return sql + "".join(f" AND {c}" for c in conds) + " AND a.rowid > ? AND a.rowid <= ?", tuple(head + params)


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


def matched_terms(row: dict, rules: list[str]) -> list[str]:
    """The words of an article that made these rules fire (for highlighting)."""
    doc = article_document(row)
    return sorted({t for rule in rules for t in _surface(doc, parse(rule).evaluate(doc).hits)})


def match_new(db: Database, config: Config, now: datetime | None = None) -> int:
    """Match the articles each subscriber has not been matched against yet; returns how many matches."""
    subs = {s.id: s for s in config.alerts.subscribers}
    if not subs:
        return 0
    since = ((now or datetime.now().astimezone()) - timedelta(days=config.settings.alert_max_age_days)
             ).isoformat(timespec="seconds")
    hi = db.execute("SELECT coalesce(max(rowid), 0) FROM articles").fetchone()[0]
    cursors = {}
    for sid, sub in subs.items():
        row = db.execute("SELECT rules, last_rowid FROM alert_cursor WHERE subscriber = ?", [sid]).fetchone()
        if row and row[0] == rules_key(sub):
            cursors[sid] = row[1]
        else:  # new subscriber or changed rules: start with the articles still young enough to alert
            first = db.execute("SELECT min(rowid) FROM articles WHERE first_seen >= ?", [since]).fetchone()[0]
            cursors[sid] = (first - 1) if first else hi
            if row:
                db.execute("DELETE FROM alert_matches WHERE subscriber = ? AND article_id NOT IN "
                           "(SELECT article_id FROM alerted WHERE subscriber = ?)", [sid, sid])
    fired: dict[tuple[str, str], list[str]] = defaultdict(list)
    index = RuleIndex()
    for sid, sub in subs.items():
        if cursors[sid] >= hi:
            continue
        extra, extra_params = "", []
        if not sub.include_irrelevant:
            extra += " AND a.relevant = 1"
        if sub.sources:
            extra += f" AND a.source_id IN ({','.join('?' * len(sub.sources))})"
            extra_params += list(sub.sources)
        for rule in sub.all_rules():
            plan = sql_plan(rule)
            if plan is None:
                index.add(sid, rule)
                continue
            sql, params = plan
            for _, aid in db.execute(sql + extra, [*params, cursors[sid], hi, *extra_params]):
                fired[(sid, aid)].append(rule)
    if index.rules:  # the rules FTS5 cannot express: in memory, over the new rows only
        last = min(cursors.values())
        while last < hi:
            cur = db.execute("SELECT rowid, * FROM articles WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
                             [last, hi, BATCH])
            cols = [c[0] for c in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
            if not rows:
                break
            for row in rows:
                waiting = {sid for sid, c in cursors.items() if c < row["rowid"]}
                for sid, hits in index.match(article_document(row), waiting).items():
                    sub = subs[sid]
                    if (sub.sources and row["source_id"] not in sub.sources) or not (
                            row.get("relevant") or sub.include_irrelevant):
                        continue
                    fired[(sid, row["article_id"])] += [r for r, _ in hits]
            last = rows[-1]["rowid"]
    stamp = utcnow_iso()
    with db.atomic():
        db.conn.executemany(
            "INSERT OR IGNORE INTO alert_matches (subscriber, article_id, matched, rules, terms) VALUES (?, ?, ?, ?, NULL)",
            [(sid, aid, stamp, json.dumps(rules)) for (sid, aid), rules in fired.items()])
        db.conn.executemany("INSERT OR REPLACE INTO alert_cursor (subscriber, rules, last_rowid) VALUES (?, ?, ?)",
                            [(sid, rules_key(subs[sid]), max(cursors[sid], hi)) for sid in subs])
    return len(fired)


def test_query(db: Database, query: str, days: int, now: datetime | None = None, limit: int = 50) -> list[dict]:
    """What a rule would have matched among the articles first seen in the last ``days`` days
    (relevant or not), the same way the matcher decides, with the words that fired."""
    node = parse(query)
    since = ((now or datetime.now().astimezone()) - timedelta(days=days)).isoformat(timespec="seconds")
    lo = (db.execute("SELECT min(rowid) FROM articles WHERE first_seen >= ?", [since]).fetchone()[0] or 1) - 1
    hi = db.execute("SELECT coalesce(max(rowid), 0) FROM articles").fetchone()[0]
    plan = sql_plan(query)
    if plan is not None:
        ids = [aid for _, aid in db.execute(plan[0], [*plan[1], lo, hi])]
        marks = ",".join("?" * len(ids)) or "''"
        cur = db.execute(f"SELECT * FROM articles WHERE article_id IN ({marks}) AND first_seen >= ? "
                         "ORDER BY coalesce(published, first_seen) DESC", ids + [since])
    else:
        cur = db.execute("SELECT * FROM articles WHERE first_seen >= ? ORDER BY coalesce(published, first_seen) DESC",
                         [since])
    cols = [c[0] for c in cur.description]
    out = []
    for values in cur:
        row = dict(zip(cols, values))
        doc = article_document(row)
        result = node.evaluate(doc)
        if plan is None and not result.matched:
            continue
        out.append({**row, "terms": _surface(doc, result.hits)})
        if len(out) >= limit:
            break
    return out
