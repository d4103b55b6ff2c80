"""The rule index (alerts/rule_index.py) and the tokenizer it reads articles with
(store/fts_tokens.py) against SQLite's FTS5 itself: the same tokens for every Unicode character and
for real news in many languages, and the same (rule, article) pairs as one FTS5 query per rule over
a real archive of real texts, for every kind of rule FTS5 can express."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from pathlib import Path

import pytest

from carewatch.alerts.match import article_terms, rule_query
from carewatch.alerts.rule_index import ArticleTerms, RuleIndex
from carewatch.core.items import Article
from carewatch.core.query import QueryError
from carewatch.core.urls import url_key
from carewatch.pipelines.dedupe import content_hash
from carewatch.store.alerting import articles_to_match, rule_rowids
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from carewatch.store.fts_tokens import fts_tokens
from tests.conftest import shared_data


def fts5_tokens(texts: list[str]) -> list[list[str]]:
    """Each text's tokens as an FTS5 table (unicode61, its defaults, as articles_fts) indexes them."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
    conn.executemany("INSERT INTO t (rowid, x) VALUES (?, ?)", list(enumerate(texts, 1)))
    out: list[list[str]] = [[] for _ in texts]
    for doc, term in conn.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
        out[doc - 1].append(term)
    conn.close()
    return out


def real_texts() -> list[tuple[str, str, str]]:
    """(country, title, body) of the fundus news-parser test pages: 250-odd articles from 41
    countries, in many languages."""
    out = []
    for f in sorted(shared_data("fundus-news-parser-tests").glob("*/*.json")):
        if f.name == "INDEX.json":
            continue
        for version in json.loads(f.read_text(encoding="utf-8")).values():
            body = version.get("body") or {}
            paragraphs = list(body.get("summary") or [])
            for section in body.get("sections") or []:
                paragraphs += (section.get("headline") or []) + (section.get("paragraphs") or [])
            if paragraphs:
                out.append((f.parent.name, version.get("title") or "", "\n".join(paragraphs)))
    return out


def test_tokens_are_fts5s_for_every_unicode_character():
    """Each character alone, inside a word, and beside another: FTS5's tokens, whatever the
    character (letters of every script, digits, marks, punctuation, symbols, private use, ...):
    every character of the planes with assigned ones (0-3, 14), and 4,000 of each other plane
    (unassigned, or private use in 15-16)."""
    rng = random.Random(7)
    codes = [c for c in range(1, 0x40000) if not 0xD800 <= c <= 0xDFFF] + list(range(0xE0000, 0xF0000))
    for plane in (*range(4, 14), 15, 16):
        codes += rng.sample(range(plane << 16, (plane + 1) << 16), 4000)
    chars = [chr(c) for c in codes]
    texts = []
    for i in range(0, len(chars), 2000):
        chunk = chars[i : i + 2000]
        pairs = [c + rng.choice(chars) for c in chunk]
        texts.append(" ".join(f"k{c}k {c} {p}Q" for c, p in zip(chunk, pairs)))
    theirs = fts5_tokens(texts)
    wrong = [(i, t) for i, t in enumerate(texts) if fts_tokens(t) != theirs[i]]
    assert not wrong, f"{len(wrong)} of {len(texts)} texts tokenized differently, e.g. {wrong[0][1][:200]!r}"


def test_tokens_are_fts5s_for_real_news_in_many_languages():
    texts = [t for _, title, body in real_texts() for t in (title, body)]
    assert len(texts) > 400
    theirs = fts5_tokens(texts)
    assert sum(map(len, theirs)) > 100_000
    for text, want in zip(texts, theirs):
        assert fts_tokens(text) == want, text[:200]


# -- the index against one FTS5 query per rule --------------------------------------------------------
@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, list[tuple[str, str, str]]]:
    """The real texts stored through the store's own write path (articles_fts kept by its triggers)."""
    texts = real_texts()
    path = tmp_path_factory.mktemp("rule-index") / "archive.db"
    db = open_db(path)
    for i, (country, title, body) in enumerate(texts):
        url = f"https://news.example/{country}/{i}"
        save_article(
            db,
            Article(
                source_id=f"news-{country}",
                url=url,
                canonical_url=url,
                url_key=url_key(url),
                title=title,
                text=body,
                fetched_at="2026-12-01T10:00:00+00:00",
                content_hash=content_hash(body),
                relevant=i % 3 == 0,
            ),
        )
    db.close()
    return path, texts


_AS_WRITTEN = re.compile(r"[^\s\"()*]+")


def make_rules(texts: list[tuple[str, str, str]], n: int, seed: int) -> list[str]:
    """Rules of every kind FTS5 expresses, from the texts' own words as written (capitals,
    apostrophes, hyphens, diacritics, other scripts, £ and figures): words, phrases (some across the
    headline and the text), prefix*, AND, OR, NOT, brackets, NEAR/0..12, source: and relevant:."""
    rng = random.Random(seed)
    sentences = [s for _, title, body in texts for s in [title, *body.split("\n")] if len(s.split()) >= 4]

    def written() -> list[str]:
        return _AS_WRITTEN.findall(rng.choice(sentences))

    def word() -> str:
        while True:
            ws = [w for w in written() if fts_tokens(w)]
            if ws:
                return rng.choice(ws)

    def phrase() -> str:
        if rng.random() < 0.1:  # the end of a headline and the start of its text: never a phrase
            country, title, body = rng.choice(texts)
            t, b = _AS_WRITTEN.findall(title)[-1:], _AS_WRITTEN.findall(body)[:1]
            if t and b:
                return f'"{t[0]} {b[0]}"'
        ws = written()
        k = rng.choice([2, 2, 3, 4])
        i = rng.randrange(max(1, len(ws) - k + 1))
        return '"' + " ".join(ws[i : i + k]) + '"'

    def prefix() -> str:
        while True:
            w = word().strip("'’-")
            tokens = fts_tokens(w)
            if tokens and len(tokens[-1]) >= 3 and not w.endswith(("'", "’")):
                return w[: max(1, len(w) - rng.randint(0, 3))] + "*"

    def operand() -> str:
        r = rng.random()
        return phrase() if r < 0.25 else prefix() if r < 0.4 else word()

    def near() -> str:
        ws = written()
        if len(ws) < 3:
            return f"{operand()} NEAR/{rng.randint(0, 12)} {operand()}"
        i, j = sorted(rng.sample(range(len(ws)), 2))
        a, b = ws[i], ws[j]
        if rng.random() < 0.3:
            a = '"' + " ".join(ws[i : i + 2]) + '"'
        if rng.random() < 0.2:
            b = b + "*" if fts_tokens(b) else b
        return f"{a} NEAR/{rng.randint(0, 12)} {b}" if rng.random() < 0.7 else f"{b} NEAR/{rng.randint(0, 12)} {a}"

    countries = sorted({c for c, _, _ in texts})
    kinds = [
        lambda: word(),
        lambda: phrase(),
        lambda: prefix(),
        lambda: f"{operand()} AND {operand()}",
        lambda: f"{operand()} {operand()}",
        lambda: " OR ".join(operand() for _ in range(rng.randint(2, 4))),
        lambda: f"{operand()} AND NOT {operand()}",
        lambda: f"({operand()} OR {operand()}) AND {operand()}",
        lambda: f"({operand()} OR {operand()}) AND NOT ({operand()} OR {operand()})",
        near,
        lambda: f"source:news-{rng.choice(countries)} AND {operand()}",
        lambda: f"relevant:{rng.choice(['yes', 'no'])} AND {operand()}",
        lambda: f"{operand()} AND NOT source:news-{rng.choice(countries)}",
    ]
    out: list[str] = []
    while len(out) < n:
        rule = rng.choice(kinds)()
        try:
            expressible = rule_query(rule) is not None
        except QueryError:  # a written word that is an operator (OR), a field (x:y) or punctuation
            continue
        if expressible and rule not in out:
            out.append(rule)
    return out


def index_pairs(db, rules: list[str]) -> set[tuple[str, int]]:
    index = RuleIndex()
    index.sync({f"s{i}": (rule,) for i, rule in enumerate(rules)})
    pairs = set()
    for article in articles_to_match(db, 0, 1 << 62, 1 << 30):
        for rule in index.matching(article_terms(article)):
            pairs.add((rule.text, article.rowid))
    return pairs


def fts5_pairs(db, rules: list[str]) -> set[tuple[str, int]]:
    return {(rule, rowid) for rule in rules for rowid in rule_rowids(db, rule_query(rule), 0, 1 << 62)}


def test_the_index_finds_what_fts5_finds_pair_for_pair(archive):
    path, texts = archive
    db = open_db(path)
    rules = make_rules(texts, 1500, seed=11)
    ours, theirs = index_pairs(db, rules), fts5_pairs(db, rules)
    rules_matching = {r for r, _ in theirs}
    assert len(theirs) > 5000 and len(rules_matching) > 1000, (len(theirs), len(rules_matching))
    only_ours = sorted(ours - theirs)[:5]
    only_theirs = sorted(theirs - ours)[:5]
    assert ours == theirs, f"index only: {only_ours}; FTS5 only: {only_theirs}"


def test_agreement_holds_for_rules_in_the_config_language_edges(archive):
    """Rules written the way organisers write them, with the edges of the two tokenisers: a
    possessive, a hyphen, curly quotes, a currency sign, a figure, accents, upper case."""
    path, texts = archive
    db = open_db(path)
    rules = [
        "children's",
        '"children’s services"',
        "looked-after",
        "£*",
        '"£5m"',
        "café OR cafe",
        "OFSTED",
        "Präsident*",
        '"Donald Trump" NEAR/3 Präsident*',
        "government NEAR/0 said",
        "(minister OR ministers) AND NOT government*",
        '"the" NEAR/1 "of the"',
    ]
    assert index_pairs(db, rules) == fts5_pairs(db, rules)


def test_an_article_wakes_only_the_rules_it_could_match(archive):
    """The presearch: rules filed under words an article does not contain are not even checked."""
    path, texts = archive
    db = open_db(path)
    rules = make_rules(texts, 2000, seed=5)
    index = RuleIndex()
    index.sync({"s": tuple(rules)})
    nothing = index.candidates(ArticleTerms("ǂǂǂ", "ǂǂ ǂǂǂǂ"))  # click letters: a word no rule has
    assert nothing == set(), [index.rules[r].text for r in nothing]
    woken = [len(index.candidates(article_terms(a))) for a in articles_to_match(db, 0, 1 << 62, 1 << 30)]
    assert sum(woken) / len(woken) < 0.2 * len(rules), sum(woken) / len(woken)


def test_sync_recompiles_only_what_changed_and_drops_what_went():
    index = RuleIndex()
    index.sync({"a": ("budget*", "children AND council"), "b": ("children AND council",)})
    shared = index.by_text["children AND council"]
    compiled = index.rules[shared].compiled
    index.sync({"a": ("ofsted",), "b": ("children AND council",)})
    assert set(index.by_text) == {"ofsted", "children AND council"}
    assert index.rules[shared].compiled is compiled and index.rules[shared].owners == [("b", 0)]
    assert not index.by_prefix and "budget" not in index.by_prefix
    index.sync({})
    assert not index.rules and not any(index.by_word.values()) and not index.always


def test_near_around_a_bracket_and_a_lone_not_are_checked_exactly():
    """Rules FTS5 cannot express are verified on the article's own positions, and a rule that is all
    NOT wakes for every article."""
    index = RuleIndex()
    index.sync({"a": ("(budget OR funding) NEAR/2 council", "NOT ofsted", "(cuts AND jobs) NEAR/1 trust")})
    doc = ArticleTerms("Headline", "The council's budget was cut. Jobs at the trust go; more cuts.")
    got = {r.text for r in index.matching(doc)}
    assert got == {"(budget OR funding) NEAR/2 council", "NOT ofsted"}  # council s budget: 1 word between
    far = ArticleTerms("Headline", "The council said, after many months, that its budget would fall.")
    assert {r.text for r in index.matching(far)} == {"NOT ofsted"}
    assert index.always == [index.by_text["NOT ofsted"]]
