"""Match new articles against every subscriber's rules, once each, as they arrive.

The rules are compiled once into the process's rule index (alerts/rule_index.py: each rule filed
under the terms an article must contain for it, and checked on the article's own FTS5 tokens), so
an article is read and analysed once and wakes only the rules it could match. Articles are matched
as the pipeline stores them, in the article's transaction (``StoreTimeMatcher``), for the
subscribers already matched up to the article before; ``match_new`` catches up the others.

Each subscriber has a cursor: the last article row it has been matched against, and the rules it
was matched with. Matches are kept in ``alert_matches``. When a subscriber's rules change, its
cursor restarts at the articles still young enough to alert. The matched words, for highlighting,
are worked out later for the few articles a digest actually shows.

For search (``carewatch search``, ``alerts test``, the web search), a rule FTS5 can express runs as
one FTS5 query (``rule_query``); the few it cannot (NEAR around a bracket, a NOT with nothing beside
it) are checked by the same compiled test over the articles a wider FTS5 query finds.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlite_utils import Database

from carewatch.alerts.rule_index import ArticleTerms, Compiler, Key, RuleIndex, length_cost, term_words, terms_of
from carewatch.alerts.subscribers import with_subscribers
from carewatch.config.schema import Config, Subscriber
from carewatch.core.items import utcnow_iso
from carewatch.core.query import And, Document, Field, Near, Node, Not, Or, QueryError, Term, parse
from carewatch.store.alerting import (
    AlertArticle,
    AlertCursor,
    ArticleFilter,
    ArticleToMatch,
    RuleQuery,
    alert_cursors,
    articles_seen_since,
    articles_to_match,
    articles_to_match_by_rowid,
    cursors_caught_up_to,
    fact_article_counts,
    first_rowid_since,
    forget_unsent_matches,
    last_article_rowid,
    prefix_article_counts,
    rule_rowids,
    save_article_matches,
    save_matches,
    word_article_counts,
)
from carewatch.store.search import SearchHit, hits_by_rowid
from carewatch.store.search import search as search_rows

BATCH = 1000


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
    test = Compiler(length_cost).compile(parse(rule)).test
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
        batch = articles_to_match_by_rowid(db, candidates[i : i + BATCH])
        out += [a.rowid for a in batch if test(article_terms(a))]
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
            "kind": {article.kind or "html"},
            "committee": {f.removeprefix("committee:") for f in (article.committee_facts or "").split()},
        },
    )


def _surface(doc: Document, hits: tuple) -> list[str]:
    return sorted({" ".join(doc.surface[h[1] : h[2] + 1]) for h in hits})


def matched_terms(article: AlertArticle, rules: tuple[str, ...]) -> list[str]:
    """The words of an article that made these rules fire (for highlighting)."""
    doc = article_document(article)
    return sorted({t for rule in rules for t in _surface(doc, parse(rule).evaluate(doc).hits)})


def article_terms(article: ArticleToMatch) -> ArticleTerms:
    """An article as the rule index reads it: FTS5's tokens of its headline and text (two columns,
    as articles_fts has them) and the facts filters test (topics, entities, source, relevance)."""
    return ArticleTerms(article.title, article.text, article.facts.split())


def archive_cost(db: Database, rules: Iterable[Node]) -> dict[Key, float]:
    """How many archived articles contain each term of these rules (FTS5's vocabulary, the topic,
    entity and source counts): what the index's presearch weighs to file a rule under its rarest term."""
    words: set[str] = set()
    prefixes: set[str] = set()
    for tree in rules:
        for term in terms_of(tree):
            tokens, prefix = term_words(term)
            if tokens and prefix:
                prefixes.add(tokens[-1])
                tokens = tokens[:-1]
            words.update(tokens)
    counts: dict[Key, float] = {("w", w): n for w, n in word_article_counts(db, sorted(words)).items()}
    counts.update({("p", p): n for p, n in prefix_article_counts(db, sorted(prefixes)).items()})
    counts.update({("f", f): n for f, n in fact_article_counts(db).items()})
    return counts


class ArchiveWeights:
    """A term's cost for the presearch: the articles that contain it (0 when none do yet), the
    word-length estimate breaking ties (and standing in for an empty archive)."""

    def __init__(self, counts: dict[Key, float]) -> None:
        self.counts = counts

    def __call__(self, key: Key) -> float:
        return self.counts.get(key, 0) + length_cost(key) / 1e6


def sync_index(index: RuleIndex, db: Database, config: Config) -> RuleIndex:
    """Bring the index up to date with the configuration's subscribers: only the rules it does not
    hold yet are compiled, weighed by the archive's term counts."""
    wanted = {s.id: tuple(s.all_rules()) for s in config.alerts.subscribers}
    trees = {r: parse(r) for rules in wanted.values() for r in rules if r not in index.by_text}
    if trees:
        index.compiler = Compiler(ArchiveWeights(archive_cost(db, trees.values())))
    index.sync(wanted, trees)
    return index


_INDEX = RuleIndex()
_INDEX_LOCK = threading.Lock()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Matching makes many short-lived objects and no reference cycles, while Python's cycle
    collector, each time it runs, walks every object of the compiled index (millions at 100,000
    rules): it is paused while articles are matched (bench/alerts.py: a fifth of the cost per new
    article at 100,000 rules)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def clear_rule_index() -> None:
    """Forget every compiled rule (a benchmark timing the index's build from nothing)."""
    global _INDEX
    with _INDEX_LOCK:
        _INDEX = RuleIndex()


def rule_index(db: Database, config: Config) -> RuleIndex:
    """The process's rule index (kept between runs: a daemon compiles a rule once), synced with
    the configuration."""
    with _INDEX_LOCK:
        return sync_index(_INDEX, db, config)


class _Takers:
    """Which subscribers take an article, by its source and relevance (their ``sources`` and
    ``include_irrelevant``), worked out once per kind of article rather than per match."""

    def __init__(self, subs: dict[str, Subscriber]) -> None:
        self.subs = subs
        self._refusing: dict[tuple[str, bool], frozenset[str]] = {}

    def refusing(self, source: str, relevant: bool) -> frozenset[str]:
        key = (source, relevant)
        got = self._refusing.get(key)
        if got is None:
            got = self._refusing[key] = frozenset(
                sid
                for sid, sub in self.subs.items()
                if (sub.sources and source not in sub.sources) or not (relevant or sub.include_irrelevant)
            )
        return got


def _fired(index: RuleIndex, article: ArticleToMatch, takers: _Takers, done: frozenset[str] | set[str]) -> dict:
    """subscriber -> the rules (in its own order) of the article's matches, for the subscribers
    that take it and are not in ``done`` (matched past it already)."""
    skip = takers.refusing(article.source_id, bool(article.relevant))
    if done:
        skip = skip | done
    by_sub: dict[str, list[tuple[int, str]]] = {}
    for rule in index.matching(article_terms(article)):
        for sid, place in rule.owners:
            if sid in skip:
                continue
            hits = by_sub.get(sid)
            if hits is None:
                by_sub[sid] = [(place, rule.text)]
            else:
                hits.append((place, rule.text))
    return {
        sid: [hits[0][1]] if len(hits) == 1 else list(dict.fromkeys(text for _, text in sorted(hits)))
        for sid, hits in by_sub.items()
    }


def match_new(db: Database, config: Config, now: datetime | None = None) -> int:
    """Match the articles each subscriber has not been matched against yet (past its cursor: the
    ones the pipeline stored before its rules were known, or while they were changing); returns how
    many matches. Each article is read and analysed once, whatever the number of rules."""
    config = with_subscribers(db, config)
    subs = {s.id: s for s in config.alerts.subscribers}
    if not subs:
        return 0
    since = ((now or datetime.now().astimezone()) - timedelta(days=config.settings.alert_max_age_days)).isoformat(
        timespec="seconds"
    )
    hi = last_article_rowid(db)
    kept = alert_cursors(db)
    keys = {sid: rules_key(sub) for sid, sub in subs.items()}
    cursors = {}
    for sid in subs:
        cursor = kept.get(sid)
        if cursor and cursor.rules == keys[sid]:
            cursors[sid] = cursor.last_rowid
        else:  # new subscriber or changed rules: start with the articles still young enough to alert
            first = first_rowid_since(db, since)
            cursors[sid] = (first - 1) if first else hi
            if cursor:
                forget_unsent_matches(db, sid)
    fired: dict[tuple[str, str], list[str]] = {}
    last, ahead = min(cursors.values()), max(cursors.values())  # past ``ahead``, every subscriber waits
    takers = _Takers(subs)
    if last < hi:
        with _INDEX_LOCK, _collector_paused():  # one thread at a time reads and syncs the process's index
            index = sync_index(_INDEX, db, config)
            while last < hi:
                rows = articles_to_match(db, last, hi, BATCH)
                if not rows:
                    break
                for row in rows:
                    done = {sid for sid, c in cursors.items() if c >= row.rowid} if row.rowid <= ahead else ()
                    for sid, rules in _fired(index, row, takers, frozenset(done)).items():
                        fired[(sid, row.article_id)] = rules
                last = rows[-1].rowid
    save_matches(db, fired, [AlertCursor(sid, keys[sid], max(cursors[sid], hi)) for sid in subs], utcnow_iso())
    return len(fired)


class StoreTimeMatcher:
    """Matches an article as the pipeline stores it, in the store's own transaction
    (store.articles.save_article's ``on_stored``): the matches and the cursors of the subscribers
    already matched up to the article before it are written with the article, so a crash loses both
    or neither. A subscriber whose cursor is behind, or was moved under other rules (a new or
    changed subscriber), is left to ``match_new``, which takes the rows past its cursor."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.subs: dict[str, Subscriber] | None = None  # the subscribers at the first article (alerts.subscribers)
        self.keys: dict[str, str] = {}
        self.index: RuleIndex | None = None  # its own, built at the first article: the config is fixed
        self.takers = _Takers({})

    def _start(self, db: Database) -> dict[str, Subscriber]:
        self.config = with_subscribers(db, self.config)
        self.subs = {s.id: s for s in self.config.alerts.subscribers}
        self.keys = {sid: rules_key(s) for sid, s in self.subs.items()}
        self.takers = _Takers(self.subs)
        return self.subs

    def __call__(self, db: Database, rowid: int) -> int:
        if not (self.subs if self.subs is not None else self._start(db)):
            return 0
        live = {c.subscriber for c in cursors_caught_up_to(db, rowid) if self.keys.get(c.subscriber) == c.rules}
        if not live:
            return 0
        found = articles_to_match_by_rowid(db, [rowid])
        if not found:  # its page is pending: matched once it is read
            return 0
        (article,) = found
        if self.index is None:
            self.index = sync_index(RuleIndex(), db, self.config)
        with _collector_paused():
            fired = _fired(self.index, article, self.takers, frozenset(self.subs) - live)
        save_article_matches(db, article.article_id, fired, sorted(live), rowid, utcnow_iso())
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
