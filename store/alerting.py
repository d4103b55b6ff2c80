"""What keyword alerts read and keep: the articles rules are matched against (the new rows in
batches, as the rule index reads them: ``ArticleToMatch``; a rule as one FTS5 query for search),
the term counts the index weighs, each subscriber's matches (``alert_matches``) and cursor
(``alert_cursor``), the matched articles a digest or feed shows, and the sent ones edited since.
An entry kept from its feed because its page failed (``page_pending``) is none of these: rules
are matched against it only once its page has been read (store.articles.save_article)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from sqlite_utils import Database

from carewatch.store.db import fetch_all


@dataclass(frozen=True, slots=True)
class AlertArticle:
    """An article as alerts read it: what rules match (headline, text, topics, entities, source,
    relevance) and what a digest shows of it."""

    rowid: int
    article_id: str
    source_id: str
    url: str
    canonical_url: str | None
    title: str | None
    text: str | None
    published: str | None
    first_seen: str
    topics: str | None  # JSON: [{topic, label, score, evidence}]
    entities: str | None  # JSON: [{entity, name, count, evidence}]
    relevant: int | None
    story_id: str | None
    version: int | None
    kind: str = "html"
    committee_facts: str | None = None  # "committee:cabinet …" for a meeting's document


# The committee: facts of a meeting's document (its meeting's committee), for rules' committee: filters
_COMMITTEE_FACTS = (
    "(SELECT m.committee_facts FROM meeting_documents d JOIN meetings m USING (meeting_id) "
    "WHERE d.url_key = a.url_key LIMIT 1)"
)
_ARTICLE = (
    "a.rowid, a.article_id, a.source_id, a.url, a.canonical_url, a.title, a.text, a.published, a.first_seen, "
    f"a.topics, a.entities, a.relevant, a.story_id, a.version, coalesce(a.kind, 'html'), {_COMMITTEE_FACTS}"
)
_WIDTH = 16  # the columns of _ARTICLE


def _articles(cursor: Iterator[tuple]) -> Iterator[AlertArticle]:
    for row in cursor:
        yield AlertArticle(*row)


@dataclass(frozen=True, slots=True)
class ArticleToMatch:
    """An article as the rule index reads it: what articles_fts indexes (headline, text) and the
    facts the rules' filters test, as the search's joins test them (space-separated ``topic:x``
    from article_topics, ``entity:x`` from article_entities, ``source:x``, ``relevant:yes|no``)."""

    rowid: int
    article_id: str
    source_id: str
    title: str | None
    text: str | None
    relevant: int | None
    facts: str


_TO_MATCH = (
    "SELECT a.rowid, a.article_id, a.source_id, a.title, a.text, a.relevant, "
    "coalesce((SELECT group_concat('topic:' || t.topic, ' ') FROM article_topics t "
    "WHERE t.article_id = a.article_id) || ' ', '') || "
    "coalesce((SELECT group_concat('entity:' || e.entity, ' ') FROM article_entities e "
    "WHERE e.article_id = a.article_id) || ' ', '') || "
    "'source:' || a.source_id || coalesce(' relevant:' || CASE a.relevant WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END, '') "
    f"|| ' kind:' || coalesce(a.kind, 'html') || coalesce(' ' || {_COMMITTEE_FACTS}, '') "
    "FROM articles a"
)


def articles_to_match(db: Database, after: int, upto: int, limit: int) -> list[ArticleToMatch]:
    """Up to ``limit`` read articles (not ``page_pending``) with rowid in (after, upto], in rowid
    order, as the rule index reads them."""
    return [
        ArticleToMatch(*row)
        for row in db.execute(
            f"{_TO_MATCH} WHERE a.rowid > ? AND a.rowid <= ? AND a.page_pending = 0 ORDER BY a.rowid LIMIT ?",
            [after, upto, limit],
        )
    ]


def articles_to_match_by_rowid(db: Database, rowids: list[int]) -> list[ArticleToMatch]:
    """These articles (the read ones: not ``page_pending``) as the rule index reads them, in rowid order."""
    return [
        ArticleToMatch(*row)
        for row in db.execute(
            f"{_TO_MATCH} WHERE a.rowid IN (SELECT value FROM json_each(?)) AND a.page_pending = 0 ORDER BY a.rowid",
            [json.dumps(rowids)],
        )
    ]


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """A condition on an article beside its text: ``topic``/``entity`` it has, ``source`` it is
    from (value: the source id), ``kind`` it is (articles.kind), ``committee`` its meeting's (a
    meeting's document), or ``relevant`` (value 1 or 0); ``negated`` for NOT."""

    field: str
    value: str | int
    negated: bool = False


@dataclass(frozen=True, slots=True)
class RuleQuery:
    """A rule as one query over the archive: an FTS5 MATCH expression over headline and text
    (None: the rule has no text part) and the filters beside it, all to hold."""

    fts: str | None
    filters: tuple[ArticleFilter, ...] = ()


def _filter_sql(f: ArticleFilter, name: str) -> str:
    if f.field == "topic":
        sql = f"EXISTS (SELECT 1 FROM article_topics t WHERE t.article_id = a.article_id AND t.topic = :{name})"
    elif f.field == "entity":
        sql = f"EXISTS (SELECT 1 FROM article_entities e WHERE e.article_id = a.article_id AND e.entity = :{name})"
    elif f.field == "source":
        sql = f"a.source_id = :{name}"
    elif f.field == "kind":
        sql = f"coalesce(a.kind, 'html') = :{name}"
    elif f.field == "committee":
        sql = f"(' ' || coalesce({_COMMITTEE_FACTS}, '') || ' ') LIKE ('% committee:' || :{name} || ' %')"
    else:
        sql = f"a.relevant = :{name}"
    return f"NOT ({sql})" if f.negated else sql


@lru_cache(maxsize=8192)
def _rule_sql(query: RuleQuery) -> tuple[str, tuple[tuple[str, str | int], ...]]:
    """The query as the FROM and WHERE of a select over articles ``a`` (FTS5 MATCH and the
    filters), with its named parameters (``rule_…``): the one translation of a rule into SQL, for
    the alert matcher, ``carewatch search`` and the archive's web search alike."""
    params: list[tuple[str, str | int]] = []
    if query.fts is None:
        sql = "FROM articles a WHERE a.page_pending = 0"
    else:
        sql = (
            "FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
            "WHERE articles_fts MATCH :rule_fts AND a.page_pending = 0"
        )
        params.append(("rule_fts", query.fts))
    for i, f in enumerate(query.filters):
        sql += f" AND {_filter_sql(f, f'rule_f{i}')}"
        params.append((f"rule_f{i}", f.value))
    return sql, tuple(params)


def rule_select(query: RuleQuery, columns: str = "a.rowid") -> tuple[str, dict[str, str | int]]:
    """``SELECT <columns>`` (of articles ``a``) of every article the query matches, and its named
    parameters."""
    body, params = _rule_sql(query)
    return f"SELECT {columns} {body}", dict(params)


def rule_rowids(db: Database, query: RuleQuery, after: int, upto: int) -> list[int]:
    """The rowids in (after, upto] of the articles the query matches, in rowid order."""
    sql, params = rule_select(query)
    sql += " AND a.rowid > :after AND a.rowid <= :upto ORDER BY a.rowid"
    return [r[0] for r in db.execute(sql, {**params, "after": after, "upto": upto})]


def last_article_rowid(db: Database) -> int:
    """The rowid of the newest article (0 in an empty archive)."""
    return db.execute("SELECT coalesce(max(rowid), 0) FROM articles").fetchone()[0]


def first_rowid_since(db: Database, since: str) -> int | None:
    """The rowid of the first article first seen at or after ``since`` (None: there is none)."""
    return db.execute("SELECT min(rowid) FROM articles WHERE first_seen >= ?", [since]).fetchone()[0]


def articles_between(db: Database, after: int, upto: int, limit: int) -> list[AlertArticle]:
    """Up to ``limit`` read articles (not ``page_pending``) with rowid in (after, upto], in rowid order."""
    return list(
        _articles(
            db.execute(
                f"SELECT {_ARTICLE} FROM articles a WHERE a.rowid > ? AND a.rowid <= ? AND a.page_pending = 0 "
                "ORDER BY a.rowid LIMIT ?",
                [after, upto, limit],
            )
        )
    )


def articles_seen_since(db: Database, since: str, rowids: list[int] | None = None) -> Iterator[AlertArticle]:
    """The articles first seen at or after ``since`` (only those with these rowids, when given),
    newest first, read as they are taken."""
    only = "" if rowids is None else " AND a.rowid IN (SELECT value FROM json_each(:rowids))"
    return _articles(
        db.execute(
            f"SELECT {_ARTICLE} FROM articles a WHERE a.first_seen >= :since{only} "
            "ORDER BY coalesce(a.published, a.first_seen) DESC",
            {"since": since, "rowids": json.dumps(rowids)},
        )
    )


def articles_by_id(db: Database, article_ids: list[str]) -> dict[str, AlertArticle]:
    """These articles, by article_id (the ones no longer stored left out)."""
    marks = ",".join("?" * len(article_ids))
    return {
        a.article_id: a
        for a in _articles(
            db.execute(f"SELECT {_ARTICLE} FROM articles a WHERE a.article_id IN ({marks})", article_ids)
        )
    }


def aliases_of(db: Database, article_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """article_id -> [(url, reason)] of the other places its story was found, first seen first."""
    out: dict[str, list[tuple[str, str]]] = {}
    if not article_ids:
        return out
    marks = ",".join("?" * len(article_ids))
    for aid, url, reason in db.execute(
        f"SELECT article_id, url, reason FROM article_aliases WHERE article_id IN ({marks}) ORDER BY seen",
        article_ids,
    ).fetchall():
        out.setdefault(aid, []).append((url, reason or ""))
    return out


@dataclass(frozen=True, slots=True)
class AlertCursor:
    """How far a subscriber has been matched: the last article rowid, under which rules."""

    subscriber: str
    rules: str  # alerts.match.rules_key of the rules it was matched with
    last_rowid: int


def alert_cursors(db: Database) -> dict[str, AlertCursor]:
    """Every subscriber's cursor, by subscriber id."""
    return {
        c.subscriber: c
        for c in fetch_all(db.execute("SELECT subscriber, rules, last_rowid FROM alert_cursor"), AlertCursor)
    }


def forget_unsent_matches(db: Database, subscriber: str) -> None:
    """Drop the subscriber's matches not yet alerted (its rules changed: they are matched again)."""
    db.execute(
        "DELETE FROM alert_matches WHERE subscriber = ? AND article_id NOT IN "
        "(SELECT article_id FROM alerted WHERE subscriber = ?)",
        [subscriber, subscriber],
    )


@lru_cache(maxsize=65536)
def _json_list(items: tuple[str, ...]) -> str:
    return json.dumps(items)


def _insert_matches(db: Database, matches: Mapping[tuple[str, str], list[str]], matched: str) -> None:
    """(subscriber, article_id) -> the rules that fired, stamped ``matched``; a pair kept already stays."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO alert_matches (subscriber, article_id, matched, rules, terms) VALUES (?, ?, ?, ?, NULL)",
        [(sid, aid, matched, _json_list(tuple(rules))) for (sid, aid), rules in matches.items()],
    )


def save_matches(
    db: Database, matches: Mapping[tuple[str, str], list[str]], cursors: list[AlertCursor], matched: str
) -> None:
    """In one transaction: the new matches, (subscriber, article_id) -> the rules that fired (a
    pair already kept stays as it is), stamped ``matched``, and the subscribers' cursors."""
    with db.atomic():
        _insert_matches(db, matches, matched)
        db.conn.executemany(
            "INSERT OR REPLACE INTO alert_cursor (subscriber, rules, last_rowid) VALUES (?, ?, ?)",
            [(c.subscriber, c.rules, c.last_rowid) for c in cursors],
        )


def save_article_matches(
    db: Database, article_id: str, matches: Mapping[str, list[str]], subscribers: list[str], rowid: int, matched: str
) -> None:
    """An article's matches (subscriber -> the rules that fired), and the cursors of ``subscribers``
    (those it was matched for) moved to its rowid: in the caller's transaction, the article's own."""
    with db.atomic():
        _insert_matches(db, {(sid, article_id): rules for sid, rules in matches.items()}, matched)
        db.execute(
            "UPDATE alert_cursor SET last_rowid = ? WHERE subscriber IN (SELECT value FROM json_each(?))",
            [rowid, json.dumps(subscribers)],
        )


@dataclass(frozen=True, slots=True)
class MatchedArticle:
    """An article a subscriber's rules matched: the rules that fired and, when kept, the words."""

    article: AlertArticle
    rules: tuple[str, ...]
    terms: tuple[str, ...] | None  # None: not worked out yet


def unalerted_matches(db: Database, subscriber: str, since: str) -> list[MatchedArticle]:
    """The subscriber's matches first seen at or after ``since`` and not yet alerted to it, newest first."""
    rows = db.execute(
        f"SELECT {_ARTICLE}, m.rules, m.terms FROM alert_matches m "
        "JOIN articles a ON a.article_id = m.article_id WHERE m.subscriber = ? AND a.first_seen >= ? "
        "AND a.page_pending = 0 AND a.article_id NOT IN (SELECT article_id FROM alerted WHERE subscriber = ?) "
        "ORDER BY coalesce(a.published, a.first_seen) DESC",
        [subscriber, since, subscriber],
    ).fetchall()
    return [
        MatchedArticle(
            AlertArticle(*r[:_WIDTH]),
            tuple(json.loads(r[_WIDTH] or "[]")),
            tuple(json.loads(r[_WIDTH + 1])) if r[_WIDTH + 1] else None,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class EditedArticle:
    """An article a subscriber was sent and that has been edited substantively since."""

    article: AlertArticle
    sent_version: int  # the version it was sent


def edited_since_sent(db: Database, subscriber: str) -> list[EditedArticle]:
    """The articles sent to the subscriber with a substantive edit after the version it was sent, latest edit first."""
    rows = db.execute(
        f"SELECT {_ARTICLE}, al.version FROM articles a JOIN alerted al "
        "ON al.article_id = a.article_id AND al.subscriber = ? "
        "WHERE a.edited IS NOT NULL AND a.version > coalesce(al.version, 1) ORDER BY a.edited DESC",
        [subscriber],
    ).fetchall()
    return [EditedArticle(AlertArticle(*r[:_WIDTH]), r[_WIDTH] or 1) for r in rows]


def edit_diffs(db: Database, article_id: str, from_version: int) -> list[str]:
    """The diffs of the substantive changes since ``from_version``, in order (empty ones left out)."""
    return [
        d
        for (d,) in db.execute(
            "SELECT diff FROM article_versions WHERE article_id = ? AND version >= ? AND changed > 0 ORDER BY version",
            [article_id, from_version],
        ).fetchall()
        if d
    ]


@dataclass(frozen=True, slots=True)
class FeedArticle:
    """A matched article as a subscription's feed lists it."""

    article_id: str
    title: str | None
    canonical_url: str | None
    url: str
    source_id: str
    published: str | None
    first_seen: str
    text: str | None
    updated: str | None
    terms: str | None  # JSON list of the words that fired, when worked out


def feed_articles(db: Database, subscriber: str, limit: int) -> list[FeedArticle]:
    """The subscriber's latest ``limit`` matches, newest first."""
    return fetch_all(
        db.execute(
            "SELECT a.article_id, a.title, a.canonical_url, a.url, a.source_id, a.published, a.first_seen, a.text, "
            "a.updated, m.terms FROM alert_matches m JOIN articles a ON a.article_id = m.article_id "
            "WHERE m.subscriber = ? ORDER BY coalesce(a.published, a.first_seen) DESC LIMIT ?",
            [subscriber, limit],
        ),
        FeedArticle,
    )


def _vocabulary(db: Database) -> str:
    """A temporary fts5vocab table over articles_fts (term, doc: how many articles have it)."""
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.articles_fts_words USING fts5vocab(main, articles_fts, row)")
    return "temp.articles_fts_words"


def word_article_counts(db: Database, words: list[str]) -> dict[str, int]:
    """How many articles have each of these FTS5 tokens (in headline or text); absent ones left out."""
    table = _vocabulary(db)
    out: dict[str, int] = {}
    for i in range(0, len(words), 500):
        chunk = words[i : i + 500]
        marks = ",".join("?" * len(chunk))
        out.update(db.execute(f"SELECT term, doc FROM {table} WHERE term IN ({marks})", chunk).fetchall())
    return out


def prefix_article_counts(db: Database, prefixes: list[str]) -> dict[str, int]:
    """For each prefix, the sum over the FTS5 tokens it starts of how many articles have them (an
    upper bound of the articles with any of them)."""
    table = _vocabulary(db)
    return {
        p: db.execute(
            f"SELECT coalesce(sum(doc), 0) FROM {table} WHERE term >= ? AND term < ?", [p, p + "\U0010ffff"]
        ).fetchone()[0]
        for p in prefixes
    }


def fact_article_counts(db: Database) -> dict[str, int]:
    """How many articles have each fact rules filter on: ``topic:x``, ``entity:x``, ``source:x``,
    ``relevant:yes|no``."""
    out: dict[str, int] = {}
    for sql in (
        "SELECT 'topic:' || topic, count(*) FROM article_topics GROUP BY topic",
        "SELECT 'entity:' || entity, count(*) FROM article_entities GROUP BY entity",
        "SELECT 'source:' || source_id, count(*) FROM articles GROUP BY source_id",
        "SELECT 'kind:' || coalesce(kind, 'html'), count(*) FROM articles GROUP BY coalesce(kind, 'html')",
        "SELECT CASE relevant WHEN 1 THEN 'relevant:yes' ELSE 'relevant:no' END, count(*) FROM articles "
        "WHERE relevant IS NOT NULL GROUP BY relevant",
    ):
        out.update(db.execute(sql).fetchall())
    return out


def cursors_caught_up_to(db: Database, rowid: int) -> list[AlertCursor]:
    """The cursors of the subscribers matched up to the article before this one, or further."""
    return fetch_all(
        db.execute(
            "SELECT subscriber, rules, last_rowid FROM alert_cursor WHERE last_rowid >= "
            "(SELECT coalesce(max(rowid), 0) FROM articles WHERE rowid < ?)",
            [rowid],
        ),
        AlertCursor,
    )
