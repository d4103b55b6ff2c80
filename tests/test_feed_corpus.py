"""feedparser's own test corpus (2,106 feeds: well-formed, ill-formed, odd encodings, entities,
HTTP-header cases) crawled by the real crawler in ONE run: every file served over loopback with
the headers its INDEX.json entry gives, one ``kind: feed``, ``follow: false`` source per file,
the real pipelines, a real SQLite file. Then, from that file:

- no crash, no hang: the crawl exits 0 and every source has a row in ``fetches``;
- a feed feedparser flags as bozo is recorded as a source error carrying feedparser's reason
  (``error_kind`` 'bozo' or 'feed'), and no well-formed feed is recorded as an error;
- every stored title, author and text is clean text: str or NULL, no control characters
  other than newline and tab, no raw HTML tags;
- for the fault suite's ledger (tests/faults/ledger.py, ``pytest -m faults``): one row over all
  2,106 files (the few that ``skip_unless`` leaves out crawled in a run of their own), each file
  surviving (no crash, no hang) and its outcome recorded (an error or warning with feedparser's
  reason wherever feedparser flags it bozo).

Run with ``pytest -s`` to see the one-line summary.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from types import SimpleNamespace

import feedparser
import pytest
import yaml

from carewatch.config import load_config
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db
from tests.conftest import shared_data
from tests.corpus_server import DEFAULT_CONTENT_TYPE, CorpusServer

PYTEST_TIMEOUT = 600  # generous: the crawl itself takes well under a minute on 2 cores
CRAWL_TIMEOUT = 300  # seconds: run_crawl stops a hung crawl long before pytest gives up

# Well-formed files (expects_bozo false, not under illformed/) that the crawler may record as
# a source error, each with the reason. Keep this short.
WELLFORMED_ERROR_ALLOWED = {
    # CDF (Microsoft's Channel Definition Format) channels with no <item>: feedparser parses them
    # without complaint (bozo 0) but names no format (version '') and returns no entries, so a
    # `feed` source (documented as RSS/Atom) rightly reports "not a feed (no RSS or Atom found)".
    # Their Expect: lines test channel metadata only; there is nothing a feed source could store.
    **{
        f"wellformed/cdf/{name}.xml": "CDF channel without items: feedparser gives version '' and no entries"
        for name in (
            "channel_abstract_map_description",
            "channel_abstract_map_tagline",
            "channel_href_map_link",
            "channel_href_map_links",
            "channel_lastmod",
            "channel_lastmod_parsed",
            "channel_title",
        )
    },
}

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")  # C0 controls except \t (09) and \n (0a)
HTML_TAG = re.compile(r"</?(script|style|iframe|object|embed|p|div|span|a|img|br)\b", re.I)
# Stored values that match HTML_TAG but are the right text, each with the reason. Keyed by value, not
# by source: corpus feeds share entry links (http://www.example.com/ ...), so which source's row
# holds a value depends on crawl order.
CLEAN_TEXT_ALLOWED = {
    # wellformed/rss/item_description_code_br.xml: the description is `<code>&lt;br /></code>`, a code
    # sample; its text, as a browser shows it, is literally "<br />". Stripping it would lose content.
    ("text", "<br />"): "wellformed/rss/item_description_code_br.xml: escaped markup shown as a code sample",
}
CLEAN_FIELDS = {"articles": ("title", "author", "text"), "article_versions": ("title", "text")}


def _skip_unless_holds(expr: str | None) -> bool:
    """As feedparser's runtests: a file whose `Skip-unless:` expression fails or is false is skipped."""
    if not expr:
        return True
    try:
        return bool(eval(expr, {"__builtins__": builtins, "feedparser": feedparser}, {}))
    except Exception:  # ImportError (chardet), LookupError (codecs), AttributeError (old feedparser API)
        return False


def _source_ids(files: list[str]) -> dict[str, str]:
    """file path -> a unique source id matching ^[a-z0-9][a-z0-9_-]*$."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for file in files:
        base = re.sub(r"[^a-z0-9_-]+", "-", file.lower().removesuffix(".xml")).strip("-_") or "feed"
        sid, n = base, 1
        while sid in taken:
            n += 1
            sid = f"{base}-{n}"
        taken.add(sid)
        ids[file] = sid
    return ids


@contextmanager
def _stderr_to(path):
    """Send file descriptor 2 to a file: run_crawl's child process inherits it, so its log lands there."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "wb") as f:
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


_LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[([^\]]+)\] (\w+): ", re.M)


def _log_errors(log: str) -> list[str]:
    """ERROR/CRITICAL records of a Scrapy log, each as its first line and its last (the exception)."""
    starts = list(_LOG_RECORD.finditer(log))
    out = []
    for i, m in enumerate(starts):
        if m.group(2) not in ("ERROR", "CRITICAL"):
            continue
        record = log[m.start() : starts[i + 1].start() if i + 1 < len(starts) else len(log)].strip().splitlines()
        first = record[0][:160]
        out.append(first if len(record) == 1 else f"{first} ... {record[-1][:200]}")
    return out


def _rows(db, sql: str, params=()) -> list[dict]:
    cur = db.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _examples(items, n: int = 8) -> str:
    items = list(items)
    return f"{len(items)}: " + "; ".join(str(i) for i in items[:n]) + (" ..." if len(items) > n else "")


def _crawl_corpus(root, entries: list[dict], tmp) -> SimpleNamespace:
    """Serve ENTRIES over loopback and crawl them, one ``kind: feed``, ``follow: false`` source per
    file, in one real run; the fetch log, articles and versions read back from the SQLite file."""
    ids = _source_ids([e["file"] for e in entries])
    cfg_dir = tmp / "config"
    cfg_dir.mkdir()
    db_path = tmp / "corpus.db"
    with CorpusServer(root, entries) as server, pytest.MonkeyPatch.context() as mp:
        for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            mp.delenv(var, raising=False)  # loopback must not go through a proxy
        urls = {e["file"]: server.url_for(e["file"]) for e in entries}
        (cfg_dir / "settings.yaml").write_text(
            yaml.safe_dump(
                {
                    "database": str(db_path),
                    "download_delay": 0,
                    "autothrottle": False,
                    "concurrent_requests_per_domain": 16,
                    "retry_times": 0,
                    "download_timeout": 10,
                    "obey_robots": True,
                    "crawl_timeout": CRAWL_TIMEOUT,
                    "block_private_addresses": False,  # the corpus is served on 127.0.0.1
                }
            )
        )
        (cfg_dir / "sources.yaml").write_text(
            yaml.safe_dump(
                {
                    "sources": [
                        {
                            "id": ids[e["file"]],
                            "name": e["file"],
                            "kind": "feed",
                            "url": urls[e["file"]],
                            "follow": False,
                            "notes": e.get("description") or None,
                        }
                        for e in entries
                    ]
                },
                allow_unicode=True,
            )
        )
        (cfg_dir / "alerts.yaml").write_text("subscribers: []\n")
        config = load_config(cfg_dir)

        t0 = time.monotonic()
        with _stderr_to(tmp / "crawl.log"):
            report = run_crawl(config, db_path, log_level="ERROR")
        seconds = time.monotonic() - t0
    crawl_log = (tmp / "crawl.log").read_text(encoding="utf-8", errors="replace")
    requests = server.requests

    db = open_db(db_path)
    fetches = defaultdict(list)
    for row in _rows(db, "SELECT * FROM fetches ORDER BY id"):
        fetches[row["source_id"]].append(row)
    articles = _rows(db, "SELECT * FROM articles")
    versions = _rows(db, "SELECT * FROM article_versions")
    db.close()
    by_sid = {ids[e["file"]]: e for e in entries}
    index_rows = {sid: [r for r in fetches.get(sid, []) if r["url"] == urls[e["file"]]] for sid, e in by_sid.items()}
    return SimpleNamespace(
        ids=ids,
        urls=urls,
        config=config,
        report=report,
        fetches=fetches,
        index_rows=index_rows,
        articles=articles,
        versions=versions,
        requests=requests,
        seconds=seconds,
        crawl_log=crawl_log,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = shared_data("feedparser-tests")
    index = json.loads((root / "INDEX.json").read_text(encoding="utf-8"))
    entries = [e for e in index if _skip_unless_holds(e.get("skip_unless"))]
    skipped = [e["file"] for e in index if e not in entries]
    crawled = _crawl_corpus(root, entries, tmp_path_factory.mktemp("feed-corpus"))
    report, seconds, requests, articles = crawled.report, crawled.seconds, crawled.requests, crawled.articles
    urls, index_rows = crawled.urls, crawled.index_rows

    served = {r.path.lstrip("/") for r in requests if r.method == "GET" and r.status == 200}
    ok = sum(1 for rows in index_rows.values() if any(r["status"] == "ok" for r in rows))
    as_error = sum(
        1 for rows in index_rows.values() if any(r["error"] and r["error_kind"] in ("bozo", "feed") for r in rows)
    )
    print(
        f"\nfeed corpus: {len(served & set(urls))} feeds served ({len(entries)} of {len(index)} INDEX entries, "
        f"{len(skipped)} skipped by skip_unless), {ok} fetched OK, {as_error} recorded as bozo/feed errors, "
        f"{len(articles)} articles stored, {len(requests)} requests logged; crawl took {seconds:.1f}s "
        f"(returncode {report.returncode})"
    )
    return SimpleNamespace(root=root, index=index, entries=entries, skipped=skipped, **vars(crawled))


@pytest.mark.timeout(PYTEST_TIMEOUT)
def test_one_source_per_corpus_file(corpus):
    assert len(corpus.config.sources) == len(corpus.entries)
    assert len(corpus.entries) + len(corpus.skipped) == len(corpus.index)
    assert len(set(corpus.ids.values())) == len(corpus.entries)
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", sid) for sid in corpus.ids.values())


@pytest.mark.timeout(PYTEST_TIMEOUT)
def test_crawl_finishes_and_fetches_every_feed(corpus):
    assert corpus.report.returncode == 0, f"crawl exited with {corpus.report.returncode} after {corpus.seconds:.0f}s"
    missing = [f for f, sid in corpus.ids.items() if not corpus.fetches.get(sid)]
    assert not missing, f"sources without any fetches row, {_examples(missing)}"
    feed_gets = Counter(r.path.lstrip("/") for r in corpus.requests if r.method == "GET")
    not_requested = [f for f in corpus.urls if not feed_gets[f]]
    assert not not_requested, f"feeds never requested from the server, {_examples(not_requested)}"
    crashed = [
        (f, r["error_kind"], r["error"])
        for f, sid in corpus.ids.items()
        for r in corpus.fetches[sid]
        if r["error_kind"] in ("crash", "timeout")
    ]
    assert not crashed, f"fetches recorded as crash/timeout, {_examples(crashed)}"


@pytest.mark.timeout(PYTEST_TIMEOUT)
def test_crawl_log_has_no_errors(corpus):
    """No spider callback or pipeline raised on any corpus feed: an exception there loses entries silently
    (the fetch is still recorded), so the crawl's own log is the only witness."""
    errors = _log_errors(corpus.crawl_log)
    assert not errors, f"ERROR records in the crawl log, {_examples(errors, 5)}"


@pytest.mark.timeout(PYTEST_TIMEOUT)
def test_bozo_feeds_are_recorded_as_source_errors(corpus):
    bozo = [e["file"] for e in corpus.entries if e.get("expects_bozo") is True]
    assert bozo
    wrong = []
    for file in bozo:
        rows = corpus.index_rows[corpus.ids[file]]
        if not any(r["error"] and r["error_kind"] in ("bozo", "feed") for r in rows):
            wrong.append((file, [(r["status"], r["error_kind"], (r["error"] or "")[:90]) for r in rows]))
    assert not wrong, (
        f"bozo feeds not recorded as a 'bozo'/'feed' source error with feedparser's reason, {_examples(wrong, 25)}"
    )


@pytest.mark.timeout(PYTEST_TIMEOUT)
def test_wellformed_feeds_are_not_recorded_as_errors(corpus):
    wellformed = [
        e["file"] for e in corpus.entries if e.get("expects_bozo") is False and not e["file"].startswith("illformed/")
    ]
    assert len(wellformed) > 1500
    wrong = [
        (f, r["error_kind"], (r["error"] or "")[:100])
        for f in wellformed
        if f not in WELLFORMED_ERROR_ALLOWED
        for r in corpus.fetches[corpus.ids[f]]
        if r["status"] == "error"
    ]
    assert not wrong, f"well-formed feeds recorded with status 'error', {_examples(wrong, 15)}"
    stale = set(WELLFORMED_ERROR_ALLOWED) - set(wellformed)
    assert not stale, f"allow-list names files that are not well-formed corpus entries: {sorted(stale)}"


@pytest.mark.timeout(PYTEST_TIMEOUT)
def test_stored_article_fields_are_clean_text(corpus):
    assert corpus.articles, "the corpus's feeds have entries with links: some articles must be stored"
    rows = {"articles": corpus.articles, "article_versions": corpus.versions}
    not_str, control, html = [], [], []
    for table, fields in CLEAN_FIELDS.items():
        for row in rows[table]:
            for field in fields:
                value = row[field]
                where = f"{table}.{field} of {row.get('source_id') or row['article_id']} <{row['url']}>"
                if value is None:
                    continue
                if not isinstance(value, str):
                    not_str.append(f"{where}: {type(value).__name__}")
                    continue
                if m := CONTROL.search(value):
                    control.append(f"{where}: {m.group()!r} in {value[max(0, m.start() - 30) : m.end() + 30]!r}")
                if (m := HTML_TAG.search(value)) and (field, value) not in CLEAN_TEXT_ALLOWED:
                    html.append(f"{where}: {value[max(0, m.start() - 30) : m.end() + 40]!r}")
    problems = [
        f"not str, {_examples(not_str)}" if not_str else "",
        f"C0 control characters, {_examples(control)}" if control else "",
        f"raw HTML tags, {_examples(html)}" if html else "",
    ]
    assert not any(problems), "\n".join(p for p in problems if p)


# -- the fault ledger's row (tests/faults/ledger.py): 0 crashes, 0 hangs over every corpus file ----
def _feedparser_verdict(root, entry: dict) -> tuple[bool, int]:
    """(bozo, entries) from feedparser itself, given the file with the headers the server sends."""
    headers = {"content-type": DEFAULT_CONTENT_TYPE}
    headers.update({k.lower(): v for k, v in (entry.get("http_headers") or {}).items()})
    parsed = feedparser.parse((root / entry["file"]).read_bytes(), response_headers=headers)
    return bool(parsed.bozo), len(parsed.entries)


def _file_outcome(crawled, entry: dict, bozo: bool, found: int) -> tuple[bool, bool, str]:
    """(survived, recorded, why) for one corpus file. Survived: the crawl exited by itself and the
    file's feed has a fetch row, none a crash or timeout. Recorded: where feedparser flags the file
    bozo, carewatch recorded an error or warning with the reason ('bozo' or 'feed'); where it yields
    no entries, the fetch row says so (0 items found, or an error with the reason); otherwise the
    row is there."""
    rows = crawled.index_rows.get(crawled.ids[entry["file"]], [])
    all_rows = crawled.fetches.get(crawled.ids[entry["file"]], [])
    survived = (
        crawled.report.returncode == 0
        and bool(rows)
        and not any(r["error_kind"] in ("crash", "timeout") for r in all_rows)
    )
    explained = any(
        r["status"] in ("error", "warning") and r["error"] and r["error_kind"] in ("bozo", "feed") for r in rows
    )
    if bozo:
        recorded, why = explained, "bozo"
    elif not found:
        recorded = any(r["items_found"] == 0 and (r["status"] == "ok" or r["error"]) for r in rows)
        why = "no entries"
    else:
        recorded, why = bool(rows), "well-formed"
    return survived, recorded, why


@pytest.mark.faults
@pytest.mark.timeout(PYTEST_TIMEOUT)
def test_fault_ledger_no_crash_no_hang_over_every_corpus_file(corpus, fault_ledger, tmp_path):
    # The files feedparser's own runner skips here (skip_unless: chardet absent, say) are crawled
    # too, in a run of their own: the content checks above do not apply to them, crashes and hangs do.
    skipped = [e for e in corpus.index if e["file"] in set(corpus.skipped)]
    runs = [(corpus, corpus.entries)] + ([(_crawl_corpus(corpus.root, skipped, tmp_path), skipped)] if skipped else [])
    outcomes: Counter[tuple[bool, bool]] = Counter()
    failed: list[tuple[str, str, list]] = []
    for crawled, entries in runs:
        for entry in entries:
            bozo, found = _feedparser_verdict(corpus.root, entry)
            survived, recorded, why = _file_outcome(crawled, entry, bozo, found)
            outcomes[survived, recorded] += 1
            if not (survived and recorded):
                rows = crawled.index_rows.get(crawled.ids[entry["file"]], [])
                failed.append(
                    (entry["file"], why, [(r["status"], r["error_kind"], (r["error"] or "")[:80]) for r in rows])
                )
    files = sum(outcomes.values())
    fault = f"feedparser-tests corpus ({len(corpus.index):,} files)"
    note = f"{files} files crawled ({len(skipped)} skip_unless files in a run of their own)" + (
        f"; not clean: {_examples(failed, 5)}" if failed else ""
    )
    for i, ((survived, recorded), n) in enumerate(outcomes.items()):
        fault_ledger.record("Content", fault, tried=n, survived=survived, recorded=recorded, note=note if not i else "")
    assert files == len(corpus.index)
    assert all(run.report.returncode == 0 for run, _ in runs), [run.report.returncode for run, _ in runs]
    assert not failed, f"corpus files that crashed, hung or went unrecorded, {_examples(failed, 10)}"
