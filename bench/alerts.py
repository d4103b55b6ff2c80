"""Alert matching speed: subscriber rules against 10,000 articles, carewatch's matcher
(``alerts.match.match_new``, the rule index of alerts/rule_index.py) beside a naive baseline (one FTS5
query per rule), measured in one run, at 1,000, 10,000 and 100,000 rules, with how far the two agree.
Run: ``.venv/bin/python bench/alerts.py [--rules 1000,10000,100000] [--articles 10000]`` (about
15 minutes for the three cases, most of it the baseline's 100,000 queries and the matches written).

Articles: each 8-25 sentences drawn at random (fixed seed), in paragraphs of three, under a real
headline. Sentences come from the hand-labelled articles of tests/tagging_set/*.yaml (Birmingham
children's care) and, when ``../shared/data`` is there, from ~1,200 real news articles
(``bench.dedup.real_texts``: fundus, readability, trafilatura-eval; read, never copied). 40% of the
articles are "on the beat" (each sentence from the labelled set with probability 0.6), the rest
general news (without ../shared/data every sentence is from the labelled set). Every article is
tagged by the real tagger (``pipelines.tag.Tagger`` over config/topics.yaml and entities.yaml) and
written to a fresh SQLite file (``store.db.open_db``: the real schema, the FTS5 table ``articles_fts``
kept by its triggers) as the articles and article_topics rows ``save_article`` writes, in batched
transactions (no story grouping or LSH bands: matching reads neither). first_seen is within the last
week of a fixed ``now``. Build time is reported apart and not compared. Each case runs on its own copy
of that file.

Rules: generated with a fixed seed from the articles' vocabulary (words in 0.15%-20% of a sample of
the articles, letters only; half the picks among the words the labelled set uses): single words,
2-3 word "phrases" (consecutive words of a real sentence),
prefix* (a word cut to 4+ letters), A AND B, A OR B OR C, A AND NOT B, (A OR B) AND C, A NEAR/5 B
(A, B from one real sentence, so they can co-occur; C sometimes too) and ~10% topic:X filters
(alone, or AND a word), X from config/topics.yaml. Operands are mostly words, some prefix* or
"phrases". Duplicates dropped; when a kind runs out of distinct rules (topic:X alone; words at
100,000 rules) other kinds make up the number. 100,000 rules are made once and each case takes the
first N. Filed as N/10 subscribers x 10 rules (frequency immediate, ``include_irrelevant: true`` so
the relevance judgement does not hide matches from either side).

Timed: (a) carewatch: first the rule index is built (``alerts.match.rule_index``: every rule parsed,
weighed by the archive's FTS5 vocabulary counts, compiled and filed; its time and the memory it
takes are printed, and the batch's ratio is printed with and without it), then ``match_new(db,
config, now)`` end to end on the file: every article past the subscribers' cursors read once,
tokenized as FTS5 tokenizes it, the rules its words wake checked on its tokens, then
``alert_matches`` and the cursors written. (b) baseline: each rule translated to FTS5 (words and
"phrases" as FTS5 phrases of the rule's own text, prefix* as a prefix phrase, AND/OR/NOT,
NEAR(a b, 5); a topic:X filter as a join on article_topics, topic:X alone as a plain query of
article_topics), then one query per rule over ``articles_fts`` on the same file, each fetching every
matching article id (no writes; only the queries and their fetching are timed). The baseline runs
second, on a file whose pages the first run has just read.

Incremental (``--increment 100``, 0 to skip): then that many more articles are written (and the
WAL checkpointed, so neither side pays for those writes) and both sides match only them, as after a
crawl: ``match_new`` again (its cursors are past the first batch), and the queries with ``rowid >``
the last article already matched. The cost per new article is the increment's time over its
articles: reading, tokenizing, matching and writing the matches. (In a crawl, the pipeline matches
each article as it stores it, alerts.match.StoreTimeMatcher: the same work, in the article's own
transaction.)

Agreement: the (rule, article) pairs each found (carewatch's from alert_matches.rules), compared
pair for pair; disagreements are counted per rule kind and a few are shown. carewatch tokenizes with
FTS5's own tokenizer (store.fts_tokens) and reads headline and text as two columns, as FTS5 does.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dedup import sentences
from carewatch.alerts.match import article_document, clear_rule_index, fts_expression, rule_index
from carewatch.config import load_config
from carewatch.config.schema import Alerts, Subscriber
from carewatch.core.items import Article, article_id_for
from carewatch.core.query import And, Field, QueryError, parse, words
from carewatch.core.urls import url_key
from carewatch.ops.alerts import match_new
from carewatch.pipelines.dedupe import content_hash
from carewatch.pipelines.tag import Tagger
from carewatch.store.alerting import articles_between
from carewatch.store.articles import _fields
from carewatch.store.db import open_db

SEED = 20240611
SET = ROOT / "tests" / "tagging_set"
DATA = ROOT.parent / "shared" / "data"
NOW = datetime(2024, 6, 11, 12, 0, tzinfo=UTC)
PER_SUBSCRIBER = 10
BEAT_SHARE, BEAT_SENTENCES = 0.4, 0.6
# rule kinds and their shares of the rule set
MIX = [
    ("word", 0.18),
    ("phrase", 0.14),
    ("prefix", 0.10),
    ("A AND B", 0.12),
    ("A OR B OR C", 0.10),
    ("A AND NOT B", 0.08),
    ("(A OR B) AND C", 0.09),
    ("A NEAR/5 B", 0.09),
    ("topic:X", 0.03),
    ("topic:X AND A", 0.07),
]
_TOKEN = re.compile(r"[\w'’-]+")


# ---------------------------------------------------------------- articles


def corpus(use_real: bool) -> tuple[dict, str]:
    """Sentence and headline pools: beat (the labelled set) and general (real texts)."""
    items = []
    for f in sorted(SET.glob("*.yaml")):
        items += yaml.safe_load(f.read_text(encoding="utf-8"))
    beat = sorted({s for it in items for s in sentences(it["text"]) if 5 <= len(s.split()) <= 60})
    beat_titles = sorted({it["title"] for it in items})
    general, general_titles, note = [], [], "../shared/data not found: labelled set only"
    if use_real and DATA.is_dir():
        from bench.dedup import real_texts

        pool, stats = real_texts()
        general = sorted({s for r in pool for s in sentences(r["text"]) if 6 <= len(s.split()) <= 60})
        general_titles = sorted({r["title"].strip() for r in pool if 3 <= len(r["title"].split()) <= 20})
        note = f"{stats['kept']} real texts from ../shared/data"
    elif not use_real:
        note = "--no-real: labelled set only"
    return {
        "beat": beat,
        "beat_titles": beat_titles,
        "general": general or beat,
        "general_titles": general_titles or beat_titles,
    }, note


def make_articles(n: int, pools: dict, rng: random.Random, start: int = 0, days: float = 7) -> list[dict]:
    """n articles numbered from ``start``, first seen over the ``days`` before NOW."""
    out = []
    for i in range(start, start + n):
        on_beat = rng.random() < BEAT_SHARE
        k = rng.randint(8, 25)
        s = [
            rng.choice(pools["beat"] if on_beat and rng.random() < BEAT_SENTENCES else pools["general"])
            for _ in range(k)
        ]
        title = rng.choice(pools["beat_titles"] if on_beat else pools["general_titles"])
        url = f"https://bench{i % 40}.example/news/{i}"
        when = (NOW - timedelta(seconds=int(days * 86400 * (start + n - i) / n))).isoformat(timespec="seconds")
        out.append(
            {
                "source_id": f"bench-{i % 40}",
                "url": url,
                "title": title,
                "first_seen": when,
                "text": "\n".join(" ".join(s[j : j + 3]) for j in range(0, k, 3)),
            }
        )
    return out


_TAGGER: Tagger | None = None


def _tag_worker(a: dict) -> tuple:
    return _TAGGER.tag(a["title"], a["text"], a["first_seen"][:10])  # type: ignore[union-attr]


def tag_all(articles: list[dict], tagger: Tagger) -> list[tuple]:
    global _TAGGER
    _TAGGER = tagger
    procs = max(1, min(2, os.cpu_count() or 1))
    with mp.get_context("fork").Pool(procs) as pool:
        return list(pool.imap(_tag_worker, articles, chunksize=100))


def write(db, articles: list[dict], tags: list[tuple]) -> None:
    """The articles and article_topics rows save_article writes (FTS5 kept by the schema's triggers)."""
    rows, topics = [], []
    for a, (tm, relevance, relevant, why, entities) in zip(articles, tags):
        art = Article(
            source_id=a["source_id"],
            url=a["url"],
            canonical_url=a["url"],
            url_key=url_key(a["url"]),
            title=a["title"],
            text=a["text"],
            fetched_at=a["first_seen"],
            content_hash=content_hash(a["text"]),
            topics=tm,
            relevance=relevance,
            relevant=relevant,
            relevance_evidence=why,
            entities=entities,
        )
        aid = article_id_for(art.url_key)
        a["article_id"] = aid
        rows.append(
            {
                "article_id": aid,
                "url": art.url,
                "canonical_url": art.canonical_url,
                "url_key": art.url_key,
                "source_id": art.source_id,
                "first_seen": art.fetched_at,
                "updated": art.fetched_at,
                "version": 1,
                **_fields(art),
            }
        )
        topics += [(aid, t.topic, t.score, json.dumps(t.evidence, ensure_ascii=False)) for t in tm]
    with db.atomic():
        db["articles"].insert_all(rows, batch_size=500)
        db.conn.executemany(
            "INSERT INTO article_topics (article_id, topic, score, evidence) VALUES (?, ?, ?, ?)", topics
        )


# ---------------------------------------------------------------- rules


class RuleMaker:
    def __init__(self, articles: list[dict], pools: dict, topic_ids: list[str], rng: random.Random) -> None:
        self.rng = rng
        self.topics = topic_ids
        sample = rng.sample(articles, min(2000, len(articles)))
        df = Counter(w for a in sample for w in set(words(f"{a['title']}\n{a['text']}")))
        lo, hi = max(2, int(0.0015 * len(sample))), 0.20 * len(sample)
        self.vocab = {w for w, c in df.items() if lo <= c <= hi and re.fullmatch(r"[a-z]{3,}", w)}
        self.vocab_list = sorted(self.vocab)
        beat_words = {w for x in pools["beat"] for w in words(x)}
        self.beat_vocab = sorted(self.vocab & beat_words) or self.vocab_list
        self.sents = pools["beat"] + (pools["general"] if pools["general"] is not pools["beat"] else [])
        self.beat = pools["beat"]

    def _sentence(self) -> str:
        return self.rng.choice(self.beat if self.rng.random() < 0.5 else self.sents)

    def word(self) -> str:
        """Half the time a word of the labelled set's (the beat's) vocabulary, else of the whole corpus."""
        return self.rng.choice(self.beat_vocab if self.rng.random() < 0.5 else self.vocab_list)

    def prefix(self, w: str | None = None) -> str:
        while not w or len(w) < 5:
            w = self.word()
        return w[: self.rng.randint(4, max(4, len(w) - 2))] + "*"

    def phrase(self) -> str:
        while True:
            toks = _TOKEN.findall(self._sentence())
            if len(toks) < 3:
                continue
            n = self.rng.choice([2, 2, 3])
            i = self.rng.randrange(len(toks) - n + 1)
            got = [t.lower() for t in toks[i : i + n]]
            if any(w in self.vocab for t in got for w in words(t)) and all(words(t) for t in got):
                return '"' + " ".join(got) + '"'

    def operand(self, w: str | None = None) -> str:
        r = self.rng.random()
        if r < 0.15:
            return self.phrase()
        if r < 0.30:
            return self.prefix(w)
        return w or self.word()

    def pair(self, near: int | None = None) -> tuple[str, str]:
        """Two vocabulary words of one real sentence (at most ``near`` words apart)."""
        for _ in range(1000):
            ws = words(self._sentence())
            idx = [i for i, w in enumerate(ws) if w in self.vocab]
            pairs = [
                (i, j) for i in idx for j in idx if i < j and ws[i] != ws[j] and (near is None or j - i - 1 <= near)
            ]
            if pairs:
                i, j = self.rng.choice(pairs)
                return ws[i], ws[j]
        return self.word(), self.word()

    def rule(self, kind: str) -> str:
        if kind == "word":
            return self.word()
        if kind == "phrase":
            return self.phrase()
        if kind == "prefix":
            return self.prefix()
        if kind == "A AND B":
            a, b = self.pair()
            return f"{self.operand(a)} AND {self.operand(b)}"
        if kind == "A OR B OR C":
            return " OR ".join(self.operand() for _ in range(3))
        if kind == "A AND NOT B":
            return f"{self.operand()} AND NOT {self.operand()}"
        if kind == "(A OR B) AND C":
            a, c = self.pair()
            return f"({self.operand(a)} OR {self.operand()}) AND {self.operand(c)}"
        if kind == "A NEAR/5 B":
            a, b = self.pair(near=5)
            return f"{self.operand(a) if self.rng.random() < 0.8 else self.prefix(a)} NEAR/5 {b}"
        if kind == "topic:X":
            return f"topic:{self.rng.choice(self.topics)}"
        if kind == "topic:X AND A":
            return f"topic:{self.rng.choice(self.topics)} AND {self.operand()}"
        raise ValueError(kind)

    def rules(self, n: int) -> list[tuple[str, str]]:
        """[(kind, rule)] n distinct rules in the MIX shares."""
        counts = {k: round(share * n) for k, share in MIX}
        counts["word"] += n - sum(counts.values())
        out, seen = [], set()
        for kind, c in counts.items():
            made, tries = 0, 0
            while made < c and tries < 100 * c:
                tries += 1
                r = self.rule(kind)
                if r in seen:
                    continue
                try:
                    parse(r)
                except QueryError:  # a word of the vocabulary that is an operator (near, and, or, not)
                    continue
                to_fts(r)
                seen.add(r)
                out.append((kind, r))
                made += 1
        while len(out) < n:  # few topics (topic:X alone) or too few words: other kinds make up the number
            kind = self.rng.choice(["word", "A AND B", "A OR B OR C", "(A OR B) AND C", "topic:X AND A"])
            r = self.rule(kind)
            if r not in seen:
                seen.add(r)
                out.append((kind, r))
        self.rng.shuffle(out)
        return out


# ---------------------------------------------------------------- baseline: one FTS5 query per rule


def to_fts(rule: str, after: int | None = None) -> tuple[str, list]:
    """SQL and parameters of the baseline's one query for a rule (``after``: only articles past that rowid)."""
    node = parse(rule)
    parts = list(node.children) if type(node) is And else [node]
    topics = [p.value for p in parts if isinstance(p, Field) and p.name == "topic"]
    if any(isinstance(p, Field) and p.name != "topic" for p in parts):
        raise ValueError("only topic: filters are translated")
    rest = [p for p in parts if not isinstance(p, Field)]
    if not rest:
        sql = "SELECT t0.article_id FROM article_topics t0" + "".join(
            f" JOIN article_topics t{i} ON t{i}.article_id = t0.article_id" for i in range(1, len(topics))
        )
        sql += " WHERE " + " AND ".join(f"t{i}.topic = ?" for i in range(len(topics)))
        if after is None:
            return sql, topics
        return (
            sql.replace(" WHERE ", " JOIN articles a ON a.article_id = t0.article_id WHERE ", 1) + " AND a.rowid > ?",
            [*topics, after],
        )
    expr = fts_expression(rest[0] if len(rest) == 1 else And(tuple(rest)))
    sql = (
        "SELECT a.article_id FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
        + "".join(f" JOIN article_topics t{i} ON t{i}.article_id = a.article_id" for i in range(len(topics)))
        + " WHERE articles_fts MATCH ?"
        + "".join(f" AND t{i}.topic = ?" for i in range(len(topics)))
    )
    if after is None:
        return sql, [expr, *topics]
    return sql + " AND articles_fts.rowid > ?", [expr, *topics, after]


def baseline(db, rules: list[tuple[str, str]], after: int | None = None) -> tuple[float, list, list]:
    """One FTS5 query per rule: seconds (the queries and fetching their ids, nothing else), each
    rule's article ids, [(seconds, rule)]."""
    per_rule, found = [], []
    t0 = time.perf_counter()
    for _, rule in rules:
        t1 = time.perf_counter()
        sql, params = to_fts(rule, after)
        found.append(db.execute(sql, params).fetchall())
        per_rule.append((time.perf_counter() - t1, rule))
    return time.perf_counter() - t0, found, per_rule


class Pairs:
    """(rule, article) pairs as numbers (rule's place * 2^32 + article rowid): 19 million of them at
    100,000 rules, so kept compact."""

    def __init__(self, db, rules: list[tuple[str, str]]) -> None:
        self.rules = [r for _, r in rules]
        self.number = {r: i for i, r in enumerate(self.rules)}
        self.rowid = dict(db.execute("SELECT article_id, rowid FROM articles").fetchall())
        self.article = {v: k for k, v in self.rowid.items()}

    def of_baseline(self, found: list) -> set[int]:
        out: set[int] = set()
        rowid = self.rowid
        for i, ids in enumerate(found):
            base = i << 32
            out.update(base + rowid[aid] for (aid,) in ids)
        return out

    def of_carewatch(self, db, after: int = 0) -> set[int]:
        out: set[int] = set()
        number = self.number
        for rowid, fired in db.execute(
            "SELECT a.rowid, m.rules FROM alert_matches m JOIN articles a "
            "ON a.article_id = m.article_id WHERE a.rowid > ?",
            [after],
        ):
            out.update((number[r] << 32) + rowid for r in json.loads(fired))
        return out

    def decode(self, pair: int) -> tuple[str, str]:
        return self.rules[pair >> 32], self.article[pair & 0xFFFFFFFF]


def rss_mb() -> float:
    """This process's resident memory."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


# ---------------------------------------------------------------- run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="1000,10000,100000", help="rule counts, comma-separated, each a case")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-real", action="store_true", help="sentences from the labelled set only (fast start)")
    parser.add_argument("--examples", type=int, default=4, help="disagreements shown per side")
    parser.add_argument(
        "--increment",
        type=int,
        default=100,
        help="then time this many more new articles on top, both sides incremental (0: skip)",
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.rules.split(",")]
    rng = random.Random(args.seed)
    t_all = time.perf_counter()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")

    print("Build (not compared)")
    t0 = time.perf_counter()
    pools, note = corpus(not args.no_real)
    print(
        f"  sentences: {len(pools['beat'])} from the labelled set, {len(pools['general'])} general ({note}) "
        f"[{time.perf_counter() - t0:.1f}s]"
    )
    t0 = time.perf_counter()
    articles = make_articles(args.articles, pools, rng)
    base = load_config(ROOT / "config")
    tags = tag_all(articles, Tagger(base.topics, base.entities))
    extra = make_articles(args.increment, pools, random.Random(args.seed + 4), start=len(articles), days=0.01)
    extra_tags = tag_all(extra, Tagger(base.topics, base.entities)) if extra else []
    t_tag = time.perf_counter() - t0
    tagged = Counter(t.topic for tm in tags for t in tm[0])
    print(
        f"  {len(articles)} articles (+{len(extra)} for the increment) generated and tagged [{t_tag:.1f}s]; "
        f"{sum(1 for t in tags if t[0])} with a topic, {sum(1 for t in tags if t[2])} relevant; "
        f"topics: {dict(tagged.most_common())}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.db"
        db = open_db(template)
        t0 = time.perf_counter()
        write(db, articles, tags)
        db.execute("ANALYZE")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        print(
            f"  written to a fresh SQLite file (articles + FTS5 triggers + article_topics) "
            f"[{time.perf_counter() - t0:.1f}s], {template.stat().st_size / 1e6:.0f} MB; copied afresh for each case"
        )
        t0 = time.perf_counter()
        maker = RuleMaker(articles, pools, sorted(base.topics.topics), random.Random(args.seed + 1))
        every_rule = maker.rules(max(counts))
        print(
            f"  {len(every_rule)} rules from a vocabulary of {len(maker.vocab)} words "
            f"[{time.perf_counter() - t0:.1f}s]; each case takes the first N (the same shares of each kind)"
        )
        summary = []
        for n in counts:
            path = Path(tmp) / f"rules-{n}.db"
            shutil.copy(template, path)
            db = open_db(path)
            summary.append(case(db, every_rule[:n], base, articles, extra, extra_tags, args))
            db.close()
            path.unlink()
    print("\nSummary (ratio baseline/carewatch; > 1: carewatch faster)")
    print(
        f"  {'rules':>7}{'batch':>8}{'increment':>11}{'ms per new article':>20}{'build s':>9}{'index MB':>10}"
        f"   agreement: pairs both (batch + increment), carewatch only, baseline only"
    )
    for s in summary:
        print(
            f"  {s['rules']:>7}{s['batch']:>8.2f}{s.get('increment', float('nan')):>11.2f}"
            f"{s.get('per_article_ms', float('nan')):>20.2f}{s['build']:>9.2f}{s['mb']:>10.0f}"
            f"   {s['both'] + s.get('inc_both', 0)}, {s['cw_only'] + s.get('inc_cw_only', 0)}, "
            f"{s['fts_only'] + s.get('inc_fts_only', 0)}"
        )
    print(f"\ntotal {time.perf_counter() - t_all:.0f}s")


def case(db, rules: list, base, articles: list, extra: list, extra_tags: list, args) -> dict:
    """One rule count: the batch, the agreement, then the increment, on a fresh copy of the archive."""
    kind_of = {r: k for k, r in rules}
    n_subs = (len(rules) + PER_SUBSCRIBER - 1) // PER_SUBSCRIBER
    subs = tuple(
        Subscriber(
            id=f"bench-{i:05d}",
            name=f"Bench subscriber {i}",
            email=f"bench{i}@example.org",
            frequency="immediate",
            include_irrelevant=True,
            rules=tuple(r for _, r in rules[i * PER_SUBSCRIBER : (i + 1) * PER_SUBSCRIBER]),
        )
        for i in range(n_subs)
    )
    config = base.model_copy(
        update={
            "alerts": Alerts(subscribers=subs),
            "settings": base.settings.model_copy(update={"alert_max_age_days": 30}),
        }
    )
    n = len(articles)
    print(
        f"\n=== {len(rules)} rules ({n_subs} subscribers x {PER_SUBSCRIBER}): "
        + ", ".join(f"{k} {c}" for k, c in Counter(k for k, _ in rules).items())
    )
    print("  e.g. " + " | ".join(r for _, r in rules[:8]))

    # the index: compiled once, when the rules are first seen (a daemon keeps it)
    clear_rule_index()
    gc.collect()
    mb0 = rss_mb()
    t0 = time.perf_counter()
    index = rule_index(db, config)
    t_build = time.perf_counter() - t0
    gc.collect()
    mb = rss_mb() - mb0
    print(
        f"  rule index: {len(index)} rules compiled and filed in {t_build:.2f}s, {mb:.0f} MB "
        f"({len(index.by_word)} words, {len(index.by_prefix)} prefixes, {len(index.by_fact)} facts, "
        f"{len(index.always)} rules checked on every article)"
    )

    # (a) carewatch, end to end
    t0 = time.perf_counter()
    found = match_new(db, config, NOW)
    t_cw = time.perf_counter() - t0
    # (b) baseline: one FTS5 query per rule
    t_fts, ids, per_rule = baseline(db, rules)
    pairs = Pairs(db, rules)
    ours, theirs = pairs.of_carewatch(db), pairs.of_baseline(ids)
    del ids

    print(f"\nMatching {n} articles against {len(rules)} rules (same SQLite file)")
    print(f"  {'':<44}{'seconds':>9}{'articles/s':>12}{'(rule, article) matches':>25}")
    print(
        f"  {'carewatch match_new (end to end)':<44}{t_cw:>9.2f}{n / t_cw:>12.0f}{len(ours):>25}"
        f"   ({found} alert_matches rows)"
    )
    print(
        f"  {f'baseline: {len(rules)} FTS5 queries, one per rule':<44}{t_fts:>9.2f}{n / t_fts:>12.0f}{len(theirs):>25}"
    )
    print(f"  ratio baseline/carewatch: {t_fts / t_cw:.2f}  (> 1: carewatch faster)")
    print(
        f"  with the index's build counted too: carewatch {t_build + t_cw:.2f}s, ratio {t_fts / (t_build + t_cw):.2f}"
    )
    ms = sorted(1000 * t for t, _ in per_rule)
    per_rule.sort(reverse=True)
    print(
        f"  baseline per rule: median {ms[len(ms) // 2]:.2f} ms, p95 {ms[int(0.95 * len(ms))]:.2f} ms, "
        f"slowest {ms[-1]:.1f} ms ({per_rule[0][1]})"
    )

    both = ours & theirs
    print(
        f"\nAgreement: {len(both)} pairs found by both, {len(ours - theirs)} by carewatch only, "
        f"{len(theirs - ours)} by the baseline only; Jaccard {len(both) / max(1, len(ours | theirs)):.4f}"
    )
    print(f"  {'rule kind':<18}{'rules':>7}{'carewatch':>11}{'baseline':>10}{'both':>10}{'cw only':>9}{'fts only':>9}")
    per: dict[str, Counter] = defaultdict(Counter)
    for side, got in (("ours", ours), ("theirs", theirs), ("both", both)):
        for p in got:
            per[kind_of[pairs.rules[p >> 32]]][side] += 1
    for kind, _ in MIX:
        c = per[kind]
        nk = sum(1 for k, _ in rules if k == kind)
        if nk:
            print(
                f"  {kind:<18}{nk:>7}{c['ours']:>11}{c['theirs']:>10}{c['both']:>10}"
                f"{c['ours'] - c['both']:>9}{c['theirs'] - c['both']:>9}"
            )
    rows = {a.article_id: a for a in articles_between(db, 0, 1 << 62, 1 << 62)} if ours ^ theirs else {}
    rng = random.Random(args.seed + 2)
    show(db, rows, [pairs.decode(p) for p in sorted(ours - theirs)[:1000]], "carewatch only", args.examples, rng)
    show(db, rows, [pairs.decode(p) for p in sorted(theirs - ours)[:1000]], "baseline only", args.examples, rng)
    out = {
        "rules": len(rules),
        "batch": t_fts / t_cw,
        "build": t_build,
        "mb": mb,
        "both": len(both),
        "cw_only": len(ours - theirs),
        "fts_only": len(theirs - ours),
    }
    del ours, theirs, both
    if extra:
        out.update(increment(db, rules, config, extra, extra_tags, n))
    return out


def increment(db, rules: list, config, extra: list, tags: list, n: int) -> dict:
    """The steady state: a crawl's few new articles on top of the archive, both sides incremental."""
    last = db.execute("SELECT max(rowid) FROM articles").fetchone()[0]
    write(db, extra, tags)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the crawl's writes checkpointed: neither side pays for them
    pairs = Pairs(db, rules)
    t0 = time.perf_counter()
    found = match_new(db, config, NOW + timedelta(minutes=1))
    t_cw = time.perf_counter() - t0
    t_fts, ids, _ = baseline(db, rules, last)
    ours, theirs = pairs.of_carewatch(db, last), pairs.of_baseline(ids)
    k = len(extra)
    print(
        f"\nIncremental: {k} new articles on top of the {n} (the steady state: a crawl brings a few at a time); "
        "carewatch matches only past its cursors, the baseline's queries add rowid > the last matched"
    )
    print(f"  {'carewatch match_new (end to end)':<44}{t_cw:>9.3f}{k / t_cw:>12.0f}{len(ours):>25}   ({found} rows)")
    print(
        f"  {f'baseline: {len(rules)} FTS5 queries, rowid > last':<44}{t_fts:>9.3f}{k / t_fts:>12.0f}{len(theirs):>25}"
    )
    both = ours & theirs
    print(
        f"  ratio baseline/carewatch: {t_fts / t_cw:.2f}; pairs found by both {len(both)}, carewatch only "
        f"{len(ours - theirs)}, baseline only {len(theirs - ours)}"
    )
    print(
        f"  cost per new article: carewatch {1000 * t_cw / k:.2f} ms (read, analyse, match, write), "
        f"baseline {1000 * t_fts / k:.2f} ms"
    )
    return {
        "increment": t_fts / t_cw,
        "per_article_ms": 1000 * t_cw / k,
        "inc_both": len(both),
        "inc_cw_only": len(ours - theirs),
        "inc_fts_only": len(theirs - ours),
    }


def _context(tokens: list[str], a: int, b: int, around: int = 6) -> str:
    return " ".join(tokens[max(0, a - around) : a] + ["["] + tokens[a : b + 1] + ["]"] + tokens[b + 1 : b + 1 + around])


def show(db, rows: dict, pairs: list, label: str, k: int, rng: random.Random) -> None:
    if not pairs or not k:
        return
    print(f"\n  e.g. {label}:")
    by_rule: dict[str, list[str]] = defaultdict(list)
    for r, a in pairs:
        by_rule[r].append(a)
    for rule in rng.sample(sorted(by_rule), min(k, len(by_rule))):
        aid = rng.choice(by_rule[rule])
        row = rows[aid]
        sql, params = to_fts(rule)
        expr = params[0] if not sql.startswith("SELECT t0") else "(topic join only)"
        doc = article_document(row)
        res = parse(rule).evaluate(doc)
        if res.hits:
            h = res.hits[0]
            why = "carewatch hit: " + _context(doc.surface, h[1], h[2])
        else:
            rowid = db.execute("SELECT rowid FROM articles WHERE article_id = ?", [aid]).fetchone()[0]
            snip = (
                db.execute(
                    "SELECT snippet(articles_fts, -1, '[', ']', '…', 14) FROM articles_fts "
                    "WHERE articles_fts MATCH ? AND rowid = ?",
                    [params[0], rowid],
                ).fetchone()
                if not sql.startswith("SELECT t0")
                else None
            )
            why = "FTS5 snippet: " + (snip[0].replace("\n", " ") if snip else "-")
        print(f"    {rule!r}  (FTS5 {expr!r}), {len(by_rule[rule])} such articles; {aid}: {why}")


if __name__ == "__main__":
    main()
