"""Fault injection, content part (issue 11): hostile and awkward content, crawled for real.

One real crawl (``cli.crawl.run_crawl``: Scrapy in a child process, the real pipelines, a real
SQLite file) reads every source below at once, from the demo server on loopback
(tests/faults/content_pages.py), beside a good neighbour (the demo's Chamberlain Files feed, 4
articles) that must come through untouched:

1. XML entity expansion: "billion laughs" (9 levels) and a quadratic blow-up (one 20,000-character
   entity used 20,000 times): refused, quickly and in little memory, with the reason in ``fetches``.
2. External entities (XXE): ``file:///etc/passwd`` in a title and a description, and an external
   DTD, parameter entity and general entity pointing at a canary HTTP server that counts every
   connection: nothing of the file in any column of any table, no canary hit, an error recorded.
3. Wrong and missing charsets (pages and feeds): £, ’ and é stored right, no mojibake.
4. A listing of 100,000 links: bounded time and memory, at most ``max_links_per_page`` pages
   fetched, a warning recorded.
5. Script and style injection, in the HTML email digest (sent through the real SMTP sink) and in
   the archive (the real ``carewatch serve``, parsed; and in headless Chromium where it is here).

Each fault is one row of the fault ledger (tests/faults/ledger.py), recorded before asserting.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import yaml
from bs4 import BeautifulSoup

from carewatch.alerts.outbox import send_alerts
from carewatch.config import load_config
from carewatch.config.schema import Smtp
from carewatch.demo.mailsink import MailSink
from carewatch.demo.server import DemoServer, DemoSites
from carewatch.ops import crawl as crawl_module
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db
from tests.conftest import ROOT
from tests.faults import content_pages as pages
from tests.test_archive import Served, copy_archive

pytestmark = pytest.mark.faults

GROUP = "Content"
NEIGHBOUR, NEIGHBOUR_URL, NEIGHBOUR_ARTICLES = "good-neighbour", "http://www.thechamberlainfiles.com.test/feed/", 4
LINK_CAP = 30  # max_links_per_page for this crawl (the default is 500; fewer keeps the test quick)
CRAWL_SECONDS = 120  # the whole crawl, 100,000 links and all, must finish well within this
PEAK_RSS_MB = 1024  # ...and the crawl process must never hold more than this
PARSE_SECONDS, PARSE_PEAK_MB = 2.0, 64  # one entity bomb: refused this fast, in this much memory
MOJIBAKE = ("Ã", "â€", "Â£", "\ufffd")
CANARY_TEXT = "CANARY-BODY-7f3c"  # what the canary answers: it must never reach the database

SOURCES = [
    ("laughs", "feed", "/entities/billion-laughs.xml", {"follow": False}),
    ("quadratic", "feed", "/entities/quadratic.xml", {"follow": False}),
    ("xxe-file", "feed", "/xxe/file.xml", {"follow": False}),
    ("xxe-canary", "feed", "/xxe/canary.xml?canary={canary}", {"follow": False}),
    ("charset-pages", "listing", "/charset/", {"links": "ul.charset a"}),
    *[(name, "feed", f"/charset-feed/{name}", {"follow": False}) for name in pages.CHARSET_FEEDS],
    ("many-links", "listing", "/many/", {"links": "ul.many a"}),
    ("inject-page", "listing", "/inject/", {"links": "ul.inject a"}),
    ("inject-feed", "feed", "/inject/feed.xml", {"follow": False}),
]


class Canary:
    """A loopback HTTP server that counts every connection made to it (and answers CANARY_TEXT)."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                body = CANARY_TEXT.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/xml-dtd")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_POST = do_GET

            def log_message(self, *args: object) -> None:
                """Quiet: the canary's hits are counted, not logged."""

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request, client_address) -> bool:
                self.connections += 1
                return True

        self.hits = hits
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.connections = 0
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def connections(self) -> int:
        return self.server.connections

    def __enter__(self) -> Canary:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class PeakRss:
    """The largest resident set of this process's crawl children (cli.crawl.RUNNING), from /proc."""

    def __init__(self) -> None:
        self.kb = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.stop.is_set():
            for proc in list(crawl_module.RUNNING):
                try:
                    status = Path(f"/proc/{proc.pid}/status").read_text()
                except OSError:
                    continue
                m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
                if m:
                    self.kb = max(self.kb, int(m[1]))
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def rows(db, sql: str, params=()) -> list[dict]:
    cur = db.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    """Every source above and the good neighbour, crawled once, for real."""
    tmp = tmp_path_factory.mktemp("faults-content")
    manifest = tmp / "manifest.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "sites": {
                    "faults": {
                        "host": pages.HOST,
                        "routes": [{"prefix": "/", "handler": "tests.faults.content_pages:serve"}],
                    }
                }
            }
        )
    )
    sites = DemoSites.load(manifest)
    sites.hosts.update(DemoSites.load().hosts)
    cfg_dir = tmp / "config"
    cfg_dir.mkdir()
    db_path = tmp / "content.db"
    with Canary() as canary, DemoServer(sites) as server, PeakRss() as peak:
        sources = [
            {"id": sid, "name": sid, "kind": kind, "url": pages.BASE + path.format(canary=canary.url), **extra}
            for sid, kind, path, extra in SOURCES
        ]
        sources.append({"id": NEIGHBOUR, "name": "A working source", "kind": "feed", "url": NEIGHBOUR_URL})
        (cfg_dir / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}))
        (cfg_dir / "settings.yaml").write_text(
            yaml.safe_dump(
                {
                    "http_proxy": server.proxy_url,
                    "download_delay": 0,
                    "autothrottle": False,
                    "retry_times": 0,
                    "concurrent_requests_per_domain": 8,
                    "crawl_timeout": 300,
                    "max_links_per_page": LINK_CAP,
                }
            )
        )
        (cfg_dir / "alerts.yaml").write_text(
            yaml.safe_dump(
                {
                    "subscribers": [
                        {
                            "id": "watchers",
                            "name": "Kingsmere watchers",
                            "email": "watchers@example.org",
                            "frequency": "immediate",
                            "keywords": [pages.MARK],
                            "include_irrelevant": True,
                        },
                        # the page's article alone: its title is the digest's subject line
                        {
                            "id": "home-watch",
                            "name": "Children's homes watch",
                            "email": "homes@example.org",
                            "frequency": "immediate",
                            "keywords": [pages.MARK],
                            "sources": ["inject-page"],
                            "include_irrelevant": True,
                        },
                    ]
                }
            )
        )
        config = load_config(cfg_dir)
        t0 = time.monotonic()
        report = run_crawl(config, db_path, log_level="ERROR")
        seconds = time.monotonic() - t0
        requests = list(server.requests)
        canary_paths = ("/external.dtd", "/parameter.dtd", "/general-entity")
        proxied_canary = [
            r for r in requests if r.host.endswith(canary.url.rsplit(":", 1)[-1]) or r.path in canary_paths
        ]
        canary_hits = canary.connections + len(canary.hits) + len(proxied_canary)
    db = open_db(db_path)
    fetches = rows(db, "SELECT * FROM fetches ORDER BY id")
    articles = rows(db, "SELECT * FROM articles")
    db.close()
    print(
        f"\ncontent faults crawl: {seconds:.1f}s, peak RSS {peak.kb / 1024:.0f} MB, {len(requests)} requests, "
        f"{len(fetches)} fetches, {len(articles)} articles, canary hits {canary_hits} (returncode {report.returncode})"
    )
    return SimpleNamespace(
        config=config,
        cfg_dir=cfg_dir,
        db_path=db_path,
        report=report,
        seconds=seconds,
        requests=requests,
        canary_hits=canary_hits,
        peak_mb=peak.kb / 1024,
        fetches=fetches,
        articles=articles,
        tmp=tmp,
    )


def of(crawl, source_id: str, role: str | None = None) -> list[dict]:
    return [f for f in crawl.fetches if f["source_id"] == source_id and (role is None or f["role"] == role)]


def stored(crawl, source_id: str) -> list[dict]:
    return [a for a in crawl.articles if a["source_id"] == source_id]


def neighbour_lost(crawl) -> int:
    return NEIGHBOUR_ARTICLES - len(stored(crawl, NEIGHBOUR))


def crawl_survived(crawl, *source_ids: str) -> bool:
    """The crawl finished by itself, the neighbour came through, and none of these sources crashed
    a stage (no crash, timeout or pipeline rows) or went unfetched."""
    bad = [
        f
        for f in crawl.fetches
        if f["error_kind"] in ("crash", "timeout") or (f["source_id"] in source_ids and f["error_kind"] == "pipeline")
    ]
    return (
        crawl.report.returncode == 0
        and crawl.seconds < CRAWL_SECONDS
        and not bad
        and neighbour_lost(crawl) == 0
        and all(of(crawl, s, "index") for s in source_ids)
    )


def explained(crawl, source_id: str, *words: str) -> bool:
    """The source's own fetch is recorded as an error or warning whose text says one of WORDS."""
    return any(
        f["status"] in ("error", "warning") and f["error"] and any(w in f["error"].lower() for w in words)
        for f in of(crawl, source_id, "index")
    )


def every_stored_value(db_path: Path):
    """(table, column, value) of every text or blob cell of every table, FTS shadow tables included."""
    db = open_db(db_path)
    try:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cur = db.execute(f"SELECT * FROM [{table}]")
            cols = [c[0] for c in cur.description]
            for row in cur.fetchall():
                for col, value in zip(cols, row):
                    if isinstance(value, (str, bytes)):
                        yield table, col, value
    finally:
        db.close()


# -- 1. entity expansion ---------------------------------------------------------------------------
_MEASURE = r"""
import json, sys, time, tracemalloc
from scrapy.http import Request, Response
from carewatch.scrapers.spider import SourceSpider
from tests.faults import content_pages
out = {}
for sid, path in json.loads(sys.argv[1]):
    status, ctype, body = content_pages.serve(path)
    url = content_pages.BASE + path
    spider = SourceSpider(sources=[{"id": sid, "kind": "feed", "url": url, "follow": False}])
    response = Response(url, status=200, headers={"Content-Type": ctype}, body=body,
                        request=Request(url, meta={"source_id": sid, "role": "index", "page": 1}))
    tracemalloc.start()
    t = time.perf_counter()
    items = list(spider.parse_feed(response))
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out[sid] = {"seconds": seconds, "peak_mb": peak / 2**20, "items": len(items)}
print(json.dumps(out))
"""


def measure_parse(feeds: list[tuple[str, str]]) -> dict:
    """The spider's own handling of each feed (SourceSpider.parse_feed on the served bytes), timed
    and its peak allocation traced, in a child process capped at 2 GB so a regression cannot take
    the test run down with it."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    try:
        result = subprocess.run(
            [sys.executable, "-c", _MEASURE, json.dumps(feeds)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=cap,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if result.returncode == 0:
            return json.loads(result.stdout.strip().splitlines()[-1])
        failure = f"exit {result.returncode}: {result.stderr.strip().splitlines()[-1:]}"
    except subprocess.TimeoutExpired:
        failure = "still parsing after 60s"
    return {sid: {"seconds": float("inf"), "peak_mb": float("inf"), "items": 0, "failure": failure} for sid, _ in feeds}


def test_entity_expansion_is_refused_quickly_in_little_memory(crawl, fault_ledger):
    measured = measure_parse([("laughs", "/entities/billion-laughs.xml"), ("quadratic", "/entities/quadratic.xml")])
    results = {}
    for sid, fault in (
        ("laughs", "XML entity expansion: billion laughs (9 levels)"),
        ("quadratic", "XML entity expansion: quadratic blow-up (20k x 20k chars)"),
    ):
        m = measured[sid]
        quick = m["seconds"] < PARSE_SECONDS and m["peak_mb"] < PARSE_PEAK_MB and crawl.peak_mb < PEAK_RSS_MB
        # Nothing expanded was stored: no stored text of this source longer than the feed itself.
        unexpanded = all(len(a["text"] or "") < 10_000 for a in stored(crawl, sid))
        recorded = explained(crawl, sid, "entit")
        results[sid] = (quick, unexpanded, recorded, m)
        fault_ledger.record(
            GROUP,
            fault,
            survived=crawl_survived(crawl, sid) and quick and unexpanded,
            lost=neighbour_lost(crawl),
            recorded=recorded,
            note=f"{sid}: parsed in {m['seconds']:.3f}s, peak {m['peak_mb']:.1f} MB; crawl peak RSS "
            f"{crawl.peak_mb:.0f} MB; {of(crawl, sid, 'index')[0]['error'] if of(crawl, sid, 'index') else ''}",
        )
    assert crawl.report.returncode == 0 and crawl.seconds < CRAWL_SECONDS, (crawl.report, crawl.seconds)
    assert neighbour_lost(crawl) == 0
    assert crawl.peak_mb < PEAK_RSS_MB, f"the crawl process peaked at {crawl.peak_mb:.0f} MB"
    for sid, (_quick, unexpanded, recorded, m) in results.items():
        assert m["seconds"] < PARSE_SECONDS and m["peak_mb"] < PARSE_PEAK_MB, (sid, m)
        assert unexpanded, [len(a["text"] or "") for a in stored(crawl, sid)]
        assert recorded, of(crawl, sid)
        [index] = of(crawl, sid, "index")
        assert index["status"] == "error" and "refused" in index["error"], index


# -- 2. external entities --------------------------------------------------------------------------
def test_external_entities_are_never_resolved(crawl, fault_ledger):
    passwd = Path("/etc/passwd").read_text(errors="replace")
    assert passwd.startswith("root:"), "the test needs a readable /etc/passwd that starts with root:"
    secrets = ("root:", passwd.splitlines()[0], CANARY_TEXT)
    leaks = [
        (table, col, (v if isinstance(v, str) else v.decode("latin-1"))[:80])
        for table, col, v in every_stored_value(crawl.db_path)
        if any(s in (v if isinstance(v, str) else v.decode("latin-1")) for s in secrets)
    ]
    plain_entry_lost = 0 if any(a["title"] == "A plain entry beside it" for a in stored(crawl, "xxe-file")) else 1
    file_recorded = explained(crawl, "xxe-file", "entity", "refused")
    canary_recorded = explained(crawl, "xxe-canary", "entity", "refused")
    fault_ledger.record(
        GROUP,
        "XXE: SYSTEM entity file:///etc/passwd in title and description",
        survived=crawl_survived(crawl, "xxe-file") and not leaks,
        lost=neighbour_lost(crawl) + plain_entry_lost,
        recorded=file_recorded,
        note=f"leaks: {leaks[:3]}; xxe-file: {[f['error'] for f in of(crawl, 'xxe-file', 'index')]}",
    )
    fault_ledger.record(
        GROUP,
        "XXE: external DTD + parameter/general entities to an HTTP canary",
        survived=crawl_survived(crawl, "xxe-canary") and crawl.canary_hits == 0 and not leaks,
        lost=neighbour_lost(crawl),
        recorded=canary_recorded,
        note=f"canary hits: {crawl.canary_hits}; xxe-canary: {[f['error'] for f in of(crawl, 'xxe-canary', 'index')]}",
    )
    assert not leaks, f"file or canary content stored: {leaks[:5]}"
    assert crawl.canary_hits == 0
    assert file_recorded and canary_recorded, (of(crawl, "xxe-file"), of(crawl, "xxe-canary"))
    assert plain_entry_lost == 0 and neighbour_lost(crawl) == 0
    # The entity references stayed what they were: text, unexpanded.
    titles = {a["title"] for a in stored(crawl, "xxe-file") + stored(crawl, "xxe-canary")}
    assert not any("passwd" in t or "root" in t for t in titles), titles


# -- 3. charsets -----------------------------------------------------------------------------------
def test_wrong_and_missing_charsets_are_read_right(crawl, fault_ledger):
    # name -> (source, URL fetched, URL of the stored article)
    cases = {
        name: ("charset-pages", f"{pages.BASE}/charset/{name}", f"{pages.BASE}/charset/{name}")
        for name in pages.CHARSET_PAGES
    }
    cases.update(
        {
            name: (name, f"{pages.BASE}/charset-feed/{name}", f"{pages.BASE}/charset/{name}/entry")
            for name in pages.CHARSET_FEEDS
        }
    )
    wrong = {}
    for name, (sid, fetched, url) in cases.items():
        [article] = [a for a in stored(crawl, sid) if a["url"] == url] or [None]
        # The outcome is in the fetch log: a row for the page or feed, not an error.
        logged = [f for f in crawl.fetches if f["url"] == fetched and f["status"] in ("ok", "warning")]
        problems = []
        if article is None:
            problems.append("not stored")
        else:
            title, text = article["title"] or "", article["text"] or ""
            if title != pages.charset_title(name):
                problems.append(f"title {title!r}")
            if pages.CHARSET_SENTENCE not in text:
                problems.append(f"text {text[:90]!r}")
            if any(bad in title + text for bad in MOJIBAKE):
                problems.append("mojibake")
        fault_ledger.record(
            GROUP,
            f"Wrong or missing charset ({len(cases)} pages and feeds)",
            survived=crawl_survived(crawl, sid) and article is not None,
            lost=1 if problems else 0,
            recorded=bool(logged),
            note=f"{name}: {'; '.join(problems)}" if problems else "",
        )
        if problems or not logged:
            wrong[name] = (problems, [(f["status"], f["error"]) for f in crawl.fetches if f["source_id"] == sid])
    assert not wrong, wrong
    # Where feedparser had to override what a feed declared, the fetch log says so (a warning).
    for name in ("feed-cp1252-declared-utf8", "feed-no-charset-cp1252"):
        assert explained(crawl, name, "characterencodingoverride", "parsed as"), of(crawl, name)


# -- 4. a listing of 100,000 links -----------------------------------------------------------------
def test_a_listing_of_100000_links_is_capped_and_says_so(crawl, fault_ledger):
    followed = [r for r in crawl.requests if r.host == pages.HOST and r.path.startswith("/many/a/")]
    [index] = of(crawl, "many-links", "index")
    articles = stored(crawl, "many-links")
    bounded = len(followed) <= LINK_CAP and crawl.seconds < CRAWL_SECONDS and crawl.peak_mb < PEAK_RSS_MB
    recorded = (
        index["status"] == "warning" and "100,000" in (index["error"] or "") and "max_links_per_page" in index["error"]
    )
    fault_ledger.record(
        GROUP,
        f"Listing page with {pages.MANY_LINKS:,} links",
        survived=crawl_survived(crawl, "many-links") and bounded,
        lost=neighbour_lost(crawl) + max(0, len(followed) - len(articles)),
        recorded=recorded,
        note=f"{len(followed)} pages fetched, {len(articles)} stored, crawl {crawl.seconds:.1f}s, "
        f"peak RSS {crawl.peak_mb:.0f} MB; {index['status']}: {index['error']}",
    )
    assert len(followed) == LINK_CAP, len(followed)
    assert index["items_found"] == pages.MANY_LINKS and index["items_new"] == LINK_CAP, index
    assert len(articles) == LINK_CAP
    assert crawl.seconds < CRAWL_SECONDS and crawl.peak_mb < PEAK_RSS_MB, (crawl.seconds, crawl.peak_mb)
    assert recorded, index


# -- 5. script and style injection -----------------------------------------------------------------
LITERAL = list(pages.PAYLOADS)  # as they must read wherever they are shown: text
ON_ATTR = re.compile(r"^on", re.I)


def injected(soup: BeautifulSoup, own_scripts: bool = False) -> list[str]:
    """What in a parsed page would run or restyle it: script elements and on* attributes (those
    carrying the payload, where the page has scripts of its own: Datasette's), javascript: URLs,
    style elements from the article."""
    found = []
    for el in soup.find_all("script"):
        if not own_scripts or "alert" in el.get_text():
            found.append(f"<script>{el.get_text()[:60]}")
    for el in soup.find_all(True):
        for attr, value in el.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            if ON_ATTR.match(attr) and (not own_scripts or "alert" in value):
                found.append(f"<{el.name} {attr}={value[:60]!r}>")
            if "javascript:" in value.replace(" ", "").lower():
                found.append(f"<{el.name} {attr}={value[:60]!r}>")
    for el in soup.find_all("style"):
        if "display:none" in el.get_text().replace(" ", "") or "alert" in el.get_text():
            found.append(f"<style>{el.get_text()[:60]}")
    return found


def injection_articles(crawl) -> list[dict]:
    return stored(crawl, "inject-page") + stored(crawl, "inject-feed")


def inert(crawl) -> tuple[bool, list[str]]:
    """Both injection articles stored, the payloads kept as text (their characters, never markup
    that the store would later serve), and some payload there to test the rendering with."""
    arts = injection_articles(crawl)
    shown = [p for p in LITERAL if any(p in (a["text"] or "") + (a["title"] or "") for a in arts)]
    return len(arts) == 2 and len(shown) >= 3 and all(pages.MARK in (a["title"] or "") for a in arts), shown


@pytest.fixture(scope="module")
def digest(crawl, tmp_path_factory):
    """The digests as carewatch sends them: send_alerts through the real SMTP sink, read back as
    .eml; then a second run, which must send nothing again. A failure is kept, not raised."""
    mail = tmp_path_factory.mktemp("faults-mail")
    results, errors = [], []
    with MailSink(mail) as sink:
        config = crawl.config.model_copy(
            update={
                "settings": crawl.config.settings.model_copy(
                    update={"smtp": Smtp(host="127.0.0.1", port=sink.port, timeout=10)}
                )
            }
        )
        db = open_db(crawl.db_path)
        for _ in range(2):
            try:
                results += send_alerts(config, db)
            except Exception as e:
                errors.append(f"send_alerts raised {type(e).__name__}: {e}")
        deliveries = rows(db, "SELECT subscriber, status, last_error FROM deliveries")
        db.close()
        files = list(sink.files)
    messages = [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]
    return SimpleNamespace(results=results, errors=errors, deliveries=deliveries, messages=messages, files=files)


EXPECTED_DIGESTS = {"watchers": 2, "home-watch": 1}  # subscriber -> injection articles in its digest


def test_injection_is_inert_in_the_html_email_digest(crawl, digest, fault_ledger):
    ok_stored, shown = inert(crawl)
    problems = list(digest.errors)
    sent = Counter((r.subscriber, title) for r in digest.results if r.status == "sent" for title in r.articles)
    duplicates = sum(n - 1 for n in sent.values())
    per_subscriber = Counter(sub for sub, _ in sent)
    lost = sum(max(0, n - per_subscriber[sub]) for sub, n in EXPECTED_DIGESTS.items())
    stuck = [d for d in digest.deliveries if d["status"] != "sent"]
    if stuck:
        problems.append(f"deliveries not sent: {stuck}")
    if len(digest.messages) != len(EXPECTED_DIGESTS):
        problems.append(f"{len(digest.messages)} messages received, {len(EXPECTED_DIGESTS)} expected")
    for msg in digest.messages:
        to = msg["To"]
        html = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()
        if pages.MARK not in msg["Subject"] or "alert" in msg["Subject"]:
            problems.append(f"{to}: subject {msg['Subject']!r}")
        for parser in ("html.parser", "lxml"):
            soup = BeautifulSoup(html, parser)
            problems += [f"{to} ({parser}): {p}" for p in injected(soup)]
            if soup.find_all("style"):
                problems.append(f"{to} ({parser}): a <style> element")
            if not any(p in soup.get_text() for p in shown):
                problems.append(f"{to} ({parser}): no payload shown as text (nothing was tested)")
        if pages.MARK not in text or "&lt;" in text or "&gt;" in text:
            problems.append(f"{to}: plain-text part escaped as HTML, or the article is missing")
        if not any(p in text for p in shown):
            problems.append(f"{to}: plain-text part shows no payload literally")
    fault_ledger.record(
        GROUP,
        "Script/style injection: HTML email digest",
        survived=crawl_survived(crawl, "inject-page", "inject-feed") and not problems,
        lost=lost,
        duplicates=duplicates,
        recorded=ok_stored,
        note="; ".join(problems[:5]) + f" (payloads stored as text: {len(shown)})",
    )
    assert ok_stored, [(a["title"], (a["text"] or "")[:200]) for a in injection_articles(crawl)]
    assert not problems, problems
    assert lost == 0 and duplicates == 0, (sent, digest.results)


@pytest.fixture(scope="module")
def archive(crawl, tmp_path_factory):
    work = tmp_path_factory.mktemp("faults-archive")
    db = copy_archive(crawl.db_path, work / "carewatch.db")
    server = Served(db, work)  # the real `carewatch --db DB serve --port N`
    yield server
    server.stop()


def archive_pages(crawl, archive) -> dict[str, str]:
    """Each injection article's page, and the search results that list them (cards and table)."""
    paths = {
        f"article {a['source_id']}": f"/{archive.public}/articles/{quote(a['article_id'])}"
        for a in injection_articles(crawl)
    }
    paths["search results"] = f"/{archive.public}/articles?_search={pages.MARK}"
    paths["search results (table)"] = f"/{archive.public}/articles?_search={pages.MARK}&_layout=table"
    return paths


def test_injection_is_inert_in_the_archive(crawl, archive, fault_ledger):
    ok_stored, shown = inert(crawl)
    problems = []
    for name, path in archive_pages(crawl, archive).items():
        status, body = archive.get(path)
        if status != 200:
            problems.append(f"{name}: HTTP {status}")
            continue
        for parser in ("html.parser", "lxml"):
            soup = BeautifulSoup(body, parser)
            problems += [f"{name} ({parser}): {p}" for p in injected(soup, own_scripts=True)]
        ids = [a["article_id"] for a in injection_articles(crawl)]
        on_page = [i for i in ids if i in body]
        if not on_page or (name.startswith("search") and len(on_page) != len(ids)):
            problems.append(f"{name}: injection articles on the page: {len(on_page)} of {len(ids)}")
        if name.startswith("article") and not any(p in BeautifulSoup(body, "lxml").get_text() for p in shown):
            problems.append(f"{name}: no payload shown as text")
    fault_ledger.record(
        GROUP,
        "Script/style injection: archive (carewatch serve)",
        survived=crawl_survived(crawl, "inject-page", "inject-feed") and not problems,
        recorded=ok_stored,
        note="; ".join(problems[:5]),
    )
    assert ok_stored
    assert not problems, problems


CHROMIUM = "/usr/bin/chromium"


def test_injection_never_runs_in_a_browser(crawl, archive, digest, fault_ledger):
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed: the parsed-HTML checks above stand alone")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    dialogs, problems = [], []
    targets = [(name, archive.url(path)) for name, path in archive_pages(crawl, archive).items()]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for name, url in targets:
                response = page.goto(url, wait_until="load")
                page.wait_for_timeout(200)
                hidden = page.evaluate("getComputedStyle(document.body).display === 'none'")
                if response is None or response.status != 200 or hidden:
                    problems.append(f"{name}: status {response and response.status}, body hidden {hidden}")
            for msg in digest.messages:
                page.set_content(msg.get_body(("html",)).get_content(), wait_until="load")
                page.wait_for_timeout(200)
                if page.evaluate("getComputedStyle(document.body).display === 'none'"):
                    problems.append(f"email to {msg['To']}: body hidden")
        finally:
            browser.close()
    fault_ledger.record(
        GROUP,
        "Script/style injection: archive and email in headless Chromium",
        survived=not dialogs and not problems,
        recorded=inert(crawl)[0],
        note=f"dialogs: {dialogs}; {problems}",
    )
    assert not dialogs, f"alert() was called: {dialogs}"
    assert not problems, problems
