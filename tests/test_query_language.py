"""One query language: `carewatch alerts test`, `carewatch search` and the archive's web search
(Datasette as `carewatch serve` makes it, asked through its in-process client) read a query with
the same parser and find the same articles in the demo archive (built by the real `carewatch
demo`), and a query naming a topic, source, entity or field that does not exist fails in each of
them, and in `carewatch config check`, with a message naming the valid ones."""

from __future__ import annotations

import html
import json
import re
import sqlite3
import urllib.parse

import pytest

from carewatch.core.query import Document, QueryError, UnknownName, check_names, parse
from carewatch.demo.run import DEMO_CONFIG
from tests.conftest import ROOT, carewatch
from tests.test_archive import InProcess, copy_archive, demo_archive

RULES = [
    "privatis*",  # a prefix: FTS5 reads it
    "topic:ofsted AND trust",  # a filter beside a word
    '"social worker*" NEAR/5 (caseload* OR agency)',  # NEAR around a bracket: read article by article
    "entity:unison OR strike*",
    "budget* AND NOT source:birmingham-against-the-cuts",
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    work = tmp_path_factory.mktemp("query-language")
    return copy_archive(demo_archive(tmp_path_factory), work / "carewatch.db")


@pytest.fixture(scope="module")
def web(archive):
    return InProcess(archive)


def cli(archive, *args: str):
    return carewatch("--config", str(DEMO_CONFIG), "--db", str(archive), *args)


def cli_ids(archive, *args: str) -> set[str]:
    result = cli(archive, *args, "--json")
    assert result.returncode == 0, result.stderr
    return {r["article_id"] for r in json.loads(result.stdout)}


def web_search(web: InProcess, query: str, suffix: str = ".json?_shape=objects&_size=max&") -> tuple[int, str]:
    return web.get(f"/{web.public}/articles{suffix}_search={urllib.parse.quote(query)}")


def rows(archive, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("rule", RULES)
def test_alerts_test_search_and_the_web_find_the_same_articles(archive, web, rule):
    tried = cli_ids(archive, "alerts", "test", rule, "--days", "100000", "--limit", "1000")
    searched = cli_ids(archive, "search", rule, "--limit", "1000")
    status, body = web_search(web, rule)
    assert status == 200, body[:500]
    data = json.loads(body)
    on_the_web = {r["article_id"] for r in data["rows"]}
    assert data["filtered_table_rows_count"] == len(on_the_web)
    total = rows(archive, "SELECT count(*) FROM articles")[0][0]
    assert 0 < len(tried) < total, f"{rule!r} matched {len(tried)} of {total}: not a test of anything"
    assert tried == searched == on_the_web


def test_the_rules_find_what_they_say(archive):
    """Two of the rules checked against the archive itself, not only against each other: every
    article with a word starting 'privatis' (and only those), and every article tagged ofsted with
    the word trust."""
    words = re.compile(r"\bprivatis", re.IGNORECASE)
    trust = re.compile(r"\btrust\b", re.IGNORECASE)
    articles = rows(archive, "SELECT article_id, coalesce(title, '') || ' ' || coalesce(text, '') FROM articles")
    ofsted = {r[0] for r in rows(archive, "SELECT article_id FROM article_topics WHERE topic = 'ofsted'")}
    assert cli_ids(archive, "search", "privatis*", "--limit", "1000") == {a for a, t in articles if words.search(t)}
    expected = {a for a, t in articles if a in ofsted and trust.search(t)}
    assert cli_ids(archive, "search", "topic:ofsted AND trust", "--limit", "1000") == expected


@pytest.mark.parametrize(
    "query, says",
    [
        ("topic:nosuch", ["unknown topic 'nosuch'", "the topics are: campaigns, child_deaths"]),
        ("source:bbc", ["unknown source 'bbc'", "did you mean 'bbc-birmingham'?", "ofsted-news"]),
        ("cuts AND entity:ofstd", ["unknown entity 'ofstd'", "did you mean 'ofsted'?", "unison"]),
        (
            "author:smith",
            ["unknown field 'author'", "the fields are: committee, entity, exact, kind, relevant, source, topic"],
        ),
    ],
)
def test_an_unknown_name_fails_loudly_everywhere(archive, web, query, says):
    for verb in (["alerts", "test", query], ["search", query]):
        result = cli(archive, *verb)
        assert result.returncode == 2, (verb, result.stdout)
        assert all(s in result.stderr for s in says), result.stderr
        assert "Traceback" not in result.stderr and "0 article(s)" not in result.stdout
    status, body = web_search(web, query, "?")
    page = html.unescape(re.sub(r"<[^>]+>", " ", body))
    assert status == 400 and all(s in page for s in says), page[:2000]
    status, body = web_search(web, query)
    assert status == 400 and all(s in json.loads(body)["error"] for s in says)


def test_config_check_names_the_file_line_and_field_of_an_unknown_name(tmp_path):
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "sources.yaml").write_text((ROOT / "config" / "sources.yaml").read_text())
    (cfg / "alerts.yaml").write_text(
        "subscribers:\n  - id: a\n    name: A\n    email: a@example.org\n    rules:\n"
        "      - 'cuts'\n      - 'cuts AND entity:nobody'\n"
    )
    result = carewatch("--config", str(cfg), "config", "check")
    assert result.returncode == 2
    assert "alerts.yaml:7: subscribers.0.rules.1: unknown entity 'nobody' in 'cuts AND entity:nobody'" in result.stderr
    assert "birmingham_city_council" in result.stderr
    topics = (ROOT / "config" / "topics.yaml").read_text()
    assert "  send:\n" in topics
    (cfg / "alerts.yaml").unlink()
    (cfg / "topics.yaml").write_text(topics.replace("  send:\n", "  send:\n    exclude: ['source:ofsted-nwes']\n", 1))
    line = (cfg / "topics.yaml").read_text().splitlines().index("    exclude: ['source:ofsted-nwes']") + 1
    result = carewatch("--config", str(cfg), "config", "check")
    assert result.returncode == 2
    assert f"topics.yaml:{line}: topics.send.exclude.0: unknown source 'ofsted-nwes'" in result.stderr, result.stderr
    assert "did you mean 'ofsted-news'" in result.stderr


def test_check_names_and_the_grammar():
    names = {"topic": {"funding", "ofsted"}, "source": {"bbc-birmingham"}, "entity": {"ofsted"}}
    check_names("topic:funding AND NOT (entity:ofsted OR source:bbc-birmingham) AND relevant:no", names)
    with pytest.raises(UnknownName, match=r"unknown topic 'fundng' .*did you mean 'funding'\?"):
        check_names("budget AND topic:fundng", names)
    with pytest.raises(UnknownName, match=r"unknown field 'topics' .*did you mean 'topic'\?"):
        parse("topics:funding")
    with pytest.raises(QueryError, match="relevant: takes yes or no"):
        parse("relevant:maybe")
    with pytest.raises(QueryError, match="needs a value"):
        parse("topic:")
    # words that begin like the NEAR operator are words
    doc = Document("It was nearly a near-miss, nearby.")
    assert parse("nearly AND nearby AND near-miss").evaluate(doc).matched
    assert not parse("nearly AND nearby AND farther").evaluate(doc).matched


def test_an_operator_with_a_star_or_a_hyphen_is_a_word():
    """near*, and*, or-else: prefixes and words an organiser may write, not operators."""
    from carewatch.core.query import And, Near, Term, parse

    for word in ("near*", "and*", "or*", "not*", "NEAR-miss", "or-else"):
        assert isinstance(parse(word), Term), word
    assert isinstance(parse("care NEAR/3 near*"), Near)
    assert parse("a and* b") == And((Term("a", ("a",)), Term("and*", ("and*",)), Term("b", ("b",))))
