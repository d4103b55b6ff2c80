"""HTTP faults against the real crawl: every fault is a source of its own, beside good neighbours,
all crawled at once by ``cli.crawl.run_crawl`` (the real Scrapy crawl in a child process, the real
pipelines, a real SQLite file) from tests/faults/server.py, a loopback server that misbehaves on
purpose, with digests sent to a real SMTP server (demo.mailsink) after each round.

Three rounds on one database: (1) the faults on; (2) the same again: nothing stored twice, no alert
sent twice, each fault recorded again; (3) the server healed (every faulty path now serves a good
feed or page): the faulty sources' articles are stored, still nothing twice.

How the crawl reaches the server: the main crawl uses it as its ``http_proxy`` with the address
guard on (as in production), so the sources have public-looking host names (``*.example.test``) and
a redirect from one of them to 127.0.0.1, localhost, 169.254.169.254 or 10.x is refused by the guard
(scrapers/guard.py; the guard resolves names itself, and these names do not resolve, so they pass:
what is checked is where the redirect points). A refused connection cannot be had through a proxy
(the proxy always answers), so one more crawl, in parallel on the same database, fetches
``http://127.0.0.1:PORT`` directly with the guard off (as tests/test_guard.py does), for a closed
port and a good neighbour.

Each fault gets one row in the suite's report (``fault_ledger``) before it is asserted on.
"""

from __future__ import annotations

import json
import os
import random
import struct
import time
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

import pytest
import yaml

from carewatch.alerts.outbox import send_alerts
from carewatch.config import load_config
from carewatch.core.items import article_id_for
from carewatch.core.urls import url_key
from carewatch.demo.mailsink import MailSink
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db
from tests.faults.server import (
    Behaviour,
    FaultServer,
    closed_port,
    huge,
    page,
    redirect,
    reset_mid_body,
    short_body,
    stall_body,
    stall_headers,
    status,
    truncated_gzip,
)

pytestmark = pytest.mark.faults

TIMEOUT = 3  # download_timeout (seconds)
RETRY_TIMES = 1
MAX_BYTES = 2 * 1024 * 1024  # max_response_bytes; the huge bodies are 50 MB
SUBSCRIBER = "watchers"


# -- what is served --------------------------------------------------------------------------
WORDS = (
    "foster carers adoption placements caseloads agency locum social workers fostering allowance "
    "residential homes care leavers early help family hubs safeguarding partnership scrutiny committee "
    "councillors cabinet overspend underspend reserves budget savings commissioning contract tender "
    "provider inspection Ofsted monitoring visit improvement plan leadership recruitment retention "
    "vacancies duty rota assessment child protection plan looked after children special guardianship "
    "kinship respite disabled children transport education health plan youth service outreach "
    "domestic abuse exploitation missing episodes court proceedings legal costs mental health waiting "
    "list sufficiency strategy semi independent accommodation unregulated placements north south east "
    "west district Erdington Ladywood Perry Barr Selly Oak Yardley Hodge Hill Edgbaston Northfield "
    "Sutton Coldfield quarter report meeting briefing consultation parents carers young people"
).split()


def story(seed: str, title: str) -> list[str]:
    """Paragraphs about Birmingham children's social care; the words after the opening differ
    from seed to seed, so no two stories are near-copies of each other."""
    rng = random.Random(seed)
    figure = rng.randint(2, 97)
    paragraphs = [
        f"{title}. Birmingham Children's Trust, which runs children's social care for Birmingham "
        f"City Council, said the change affects {figure} families this year."
    ]
    for _ in range(5):
        words = [rng.choice(WORDS) for _ in range(24)]
        paragraphs.append(" ".join(words).capitalize() + ".")
    return paragraphs


def article_html(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><header><nav><a href='/'>Home</a></nav></header><main><article><h1>{escape(title)}</h1>"
        f"{body}</article></main><footer>Local news</footer></body></html>"
    ).encode()


def feed_xml(name: str, site: str, items: list[tuple[str, str, str | None]]) -> bytes:
    """RSS 2.0; items are (title, link, description or None)."""
    when = format_datetime(datetime.now(UTC) - timedelta(hours=6))
    out = [
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<pubDate>{when}</pubDate>" + (f"<description>{escape(d)}</description>" if d else "") + "</item>"
        for t, link, d in items
    ]
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>{escape(name)}</title>"
        f"<link>{escape(site)}</link><description>News</description>{''.join(out)}</channel></rss>"
    ).encode()


def png() -> bytes:
    """A real 64x64 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(v for x in range(64) for v in (x * 4, y * 4, 128)) for y in range(64))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


RANDOM_BYTES = random.Random(11).randbytes(200_000)


# -- the faults --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fault:
    name: str  # the row in the report
    source: str  # its source id
    level: str  # "feed": the source's feed misbehaves; "article": one page its feed links to does
    make: Callable[[Site], Behaviour]  # the faulty behaviour of the feed or the page
    expect: tuple[str, ...]  # the recorded error says (each, case-insensitive)
    kind: str | None = None  # the recorded error_kind
    direct: bool = False  # fetched directly (guard off), not through the proxy
    attempts: int = RETRY_TIMES + 1  # requests the faulty URL gets per crawl, at most


@dataclass
class Site:
    """One source as served: its feed, its good article, and (article faults) its broken page."""

    sid: str
    base: str  # http://host or http://127.0.0.1:port/prefix
    port: int  # the fault server's port (for redirects to loopback)

    @property
    def host(self) -> str:
        return self.base.split("://", 1)[1].split("/", 1)[0].split(":")[0]

    def path(self, rest: str) -> str:
        prefix = "/" + self.base.split("://", 1)[1].split("/", 1)[1] if self.base.count("/") > 2 else ""
        return prefix + rest

    @property
    def feed_url(self) -> str:
        return f"{self.base}/feed.xml"

    def article_url(self, n: str) -> str:
        return f"{self.base}/news/{self.sid}-{n}"

    def title(self, n: str) -> str:
        return f"{self.sid.replace('-', ' ').title()} story {n}: Birmingham children's services update"

    def page(self, n: str) -> bytes:
        return article_html(self.title(n), story(f"{self.sid}/{n}", self.title(n)))

    def summary(self, n: str) -> str:
        return story(f"{self.sid}/{n}", self.title(n))[0]


def _status(code: int, **kw) -> Callable[[Site], Behaviour]:
    return lambda s: status(code, **kw)


FAULTS: tuple[Fault, ...] = (
    # the source's own feed misbehaves
    Fault("HTTP 404 (feed)", "feed-404", "feed", _status(404), ("HTTP 404",), "http", attempts=1),
    Fault("HTTP 410 (feed)", "feed-410", "feed", _status(410), ("HTTP 410",), "http", attempts=1),
    Fault(
        "HTTP 429 + Retry-After (feed)",
        "feed-429",
        "feed",
        _status(429, headers=(("Retry-After", "1"),)),
        ("HTTP 429",),
        "http",
    ),
    Fault("HTTP 500 (feed)", "feed-500", "feed", _status(500), ("HTTP 500",), "http"),
    Fault("HTTP 502 (feed)", "feed-502", "feed", _status(502), ("HTTP 502",), "http"),
    Fault("HTTP 503 (feed)", "feed-503", "feed", _status(503), ("HTTP 503",), "http"),
    Fault(
        "connection refused (feed)",
        "feed-refused",
        "feed",
        lambda s: status(200),  # (nothing listens)
        ("Connection refused",),
        "DownloadConnectionRefusedError",
        direct=True,
    ),
    Fault(
        "connection reset mid-body (feed)",
        "feed-reset",
        "feed",
        lambda s: reset_mid_body(
            feed_xml("x", s.base, [(s.title("1"), s.article_url("1"), None)] * 40), "application/rss+xml"
        ),
        ("before the body's Content-Length was reached", "lost in a non-clean fashion"),
        "ResponseDataLossError",
    ),
    Fault(
        "headers never arrive (feed)",
        "feed-stall",
        "feed",
        lambda s: stall_headers(),
        (f"took longer than {TIMEOUT:.1f} seconds",),
        "DownloadTimeoutError",
    ),
    Fault(
        "redirect loop A->B->A (feed)",
        "feed-loop",
        "feed",
        lambda s: redirect(f"{s.base}/loop-b"),
        (
            "redirect loop: http://feed-loop.example.test/feed.xml -> http://feed-loop.example.test/loop-b -> "
            "http://feed-loop.example.test/feed.xml",
        ),
        "redirect",
        attempts=2,
    ),
    Fault(
        "redirect to file:// (feed)",
        "feed-to-file",
        "feed",
        lambda s: redirect("file:///etc/passwd"),
        ("file:///etc/passwd", "not followed"),
        "http",
        attempts=1,
    ),
    Fault(
        "redirect to ftp:// (feed)",
        "feed-to-ftp",
        "feed",
        lambda s: redirect("ftp://ftp.example.test/pub/feed.xml"),
        ("ftp://ftp.example.test/pub/feed.xml", "not followed"),
        "http",
        attempts=1,
    ),
    Fault(
        "redirect public name -> loopback/private (feed)",
        "feed-to-loopback",
        "feed",
        lambda s: redirect(f"http://127.0.0.1:{s.port}/secret"),
        ("blocked address 127.0.0.1",),
        "blocked",
        attempts=1,
    ),
    Fault(
        "redirect public name -> loopback/private (feed)",
        "feed-to-localhost",
        "feed",
        lambda s: redirect(f"http://localhost:{s.port}/secret"),
        ("blocked address", "for localhost"),
        "blocked",
        attempts=1,
    ),
    Fault(
        "redirect public name -> loopback/private (feed)",
        "feed-to-metadata",
        "feed",
        lambda s: redirect("http://169.254.169.254/latest/meta-data/"),
        ("blocked address 169.254.169.254",),
        "blocked",
        attempts=1,
    ),
    Fault(
        "redirect public name -> loopback/private (feed)",
        "feed-to-private",
        "feed",
        lambda s: redirect("http://10.20.30.40/feed.xml"),
        ("blocked address 10.20.30.40",),
        "blocked",
        attempts=1,
    ),
    # the feed is fine; one page it links to misbehaves
    Fault("HTTP 404 (article)", "page-404", "article", _status(404), ("HTTP 404",), "http", attempts=1),
    Fault("HTTP 503 (article)", "page-503", "article", _status(503), ("HTTP 503",), "http"),
    Fault(
        "connection reset mid-body (article)",
        "page-reset",
        "article",
        lambda s: reset_mid_body(s.page("broken")),
        ("before the body's Content-Length was reached", "lost in a non-clean fashion"),
        "ResponseDataLossError",
    ),
    Fault(
        "body never completes (article)",
        "page-stall",
        "article",
        lambda s: stall_body(s.page("broken")),
        (f"took longer than {TIMEOUT:.1f} seconds",),
        "DownloadTimeoutError",
    ),
    Fault(
        "truncated gzip (article)",
        "page-gzip",
        "article",
        lambda s: truncated_gzip(s.page("broken")),
        ("truncated gzip body",),
        "truncated",
        attempts=1,
    ),
    Fault(
        "Content-Length > body sent (article)",
        "page-short",
        "article",
        lambda s: short_body(s.page("broken")),
        ("before the body's Content-Length was reached", "closed cleanly"),
        "ResponseDataLossError",
    ),
    Fault(
        "50 MB body, Content-Length given (article)",
        "page-huge",
        "article",
        lambda s: huge(declare_length=True),
        (
            "too large, not downloaded: the server announced 52,428,800 bytes (50.0 MB), over max_response_bytes "
            f"({MAX_BYTES:,} bytes, {MAX_BYTES / 2**20:.1f} MB)",
        ),
        "too-large",
    ),
    Fault(
        "50 MB body, no Content-Length (article)",
        "page-huge-stream",
        "article",
        lambda s: huge(declare_length=False),
        ("too large", f"more than {MAX_BYTES:,} bytes"),
        "too-large",
    ),
    Fault(
        "binary body: a PNG (article)",
        "page-png",
        "article",
        lambda s: page(png(), "image/png"),
        ("expected an HTML page or a PDF, got binary data (image/png",),
        "not-html",
        attempts=1,
    ),
    Fault(
        "binary body: random bytes as text/html (article)",
        "page-noise",
        "article",
        lambda s: page(RANDOM_BYTES, "text/html; charset=utf-8"),
        ("binary data served as text/html",),
        "not-html",
        attempts=1,
    ),
    Fault(
        "redirect loop A->B->A (article)",
        "page-loop",
        "article",
        lambda s: redirect(s.article_url("loop-b")),
        ("redirect loop",),
        "redirect",
        attempts=2,
    ),
)
NEIGHBOURS = ("good-a", "good-b")  # through the proxy
DIRECT_NEIGHBOUR = "good-direct"  # fetched directly, in the parallel crawl


@dataclass
class Round:
    number: int
    reports: dict  # crawl name -> CrawlReport
    seconds: float
    urls: list[str]  # articles.url after the round (a list: duplicates would show)
    fetches: list[dict]  # fetches rows written during the round
    hits: Counter
    log: list
    streamed: dict
    deliveries: list[dict]  # deliveries sent after this round
    messages: int  # messages the SMTP server received after this round
    started: float = 0.0


@dataclass
class Run:
    db_path: str
    sites: dict[str, Site]
    expected: dict[int, dict[str, set[str]]]  # round -> source -> URLs that must be stored
    rounds: list[Round] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)

    def missing(self, sources: set[str], rounds=(1, 2, 3)) -> int:
        return sum(
            len(self.expected[r.number].get(s, set()) - set(r.urls))
            for r in self.rounds
            if r.number in rounds
            for s in sources
        )

    def duplicate_alerts(self, article_ids: set[str] | None = None) -> int:
        seen: Counter = Counter()
        for r in self.rounds:
            for d in r.deliveries:
                for aid in json.loads(d["articles"]):
                    if article_ids is None or aid in article_ids:
                        seen[(d["subscriber"], aid)] += 1
        return sum(n - 1 for n in seen.values() if n > 1)


def _serve(server: FaultServer, site: Site, fault: Fault | None, items: list[str]) -> list[tuple]:
    """Route the site's feed and pages; returns [(path, faulty, healed)] for the routes a fault owns."""
    owned = []
    entries = [(site.title(n), site.article_url(n), site.summary(n) if n != "broken" else None) for n in items]
    feed = page(feed_xml(site.sid, site.base, entries), "application/rss+xml; charset=utf-8")
    for n in ("1", "2", "broken"):
        server.route(site.host, site.path(f"/news/{site.sid}-{n}"), page(site.page(n)))
    if fault is None:
        server.route(site.host, site.path("/feed.xml"), feed)
    elif fault.level == "feed":
        owned.append((site.path("/feed.xml"), fault.make(site), feed))
        if fault.source == "feed-loop":
            owned.append((site.path("/loop-b"), redirect(site.feed_url), feed))
    else:
        server.route(site.host, site.path("/feed.xml"), feed)
        owned.append((site.path(f"/news/{site.sid}-broken"), fault.make(site), page(site.page("broken"))))
        if fault.source == "page-loop":
            owned.append(
                (site.path(f"/news/{site.sid}-loop-b"), redirect(site.article_url("broken")), page(site.page("broken")))
            )
    for path, faulty, _ in owned:
        server.route(site.host, path, faulty)
    return owned


def _crawl(config, db_path, plan):
    """The main crawl and the direct one, in parallel on one database (as the daemon runs them)."""
    with ThreadPoolExecutor(2) as pool:
        futures = {
            name: pool.submit(run_crawl, cfg, db_path, ids, log_level="CRITICAL") for name, (cfg, ids) in plan.items()
        }
        return {name: f.result(timeout=config.settings.crawl_timeout + 30) for name, f in futures.items()}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("http-faults")
    with FaultServer() as server, MailSink(tmp / "mail") as sink:
        refused_port = closed_port()
        sites: dict[str, Site] = {}
        healing: list[tuple[str, str, Behaviour]] = []
        expected = {1: {}, 2: {}, 3: {}}
        for sid in NEIGHBOURS:
            sites[sid] = Site(sid, f"http://{sid}.example.test", server.port)
            _serve(server, sites[sid], None, ["1", "2"])
            for r in (1, 2, 3):
                expected[r][sid] = {sites[sid].article_url("1"), sites[sid].article_url("2")}
        sites[DIRECT_NEIGHBOUR] = Site(DIRECT_NEIGHBOUR, f"http://127.0.0.1:{server.port}/direct", server.port)
        _serve(server, sites[DIRECT_NEIGHBOUR], None, ["1", "2"])
        for r in (1, 2, 3):
            expected[r][DIRECT_NEIGHBOUR] = {sites[DIRECT_NEIGHBOUR].article_url(n) for n in ("1", "2")}
        for fault in FAULTS:
            base = f"http://127.0.0.1:{refused_port}/refused" if fault.direct else f"http://{fault.source}.example.test"
            site = sites[fault.source] = Site(fault.source, base, server.port)
            if fault.level == "feed":
                healing += [(site.host, p, healed) for p, _, healed in _serve(server, site, fault, ["1"])]
                expected[3][fault.source] = {site.article_url("1")}
            else:
                healing += [(site.host, p, healed) for p, _, healed in _serve(server, site, fault, ["1", "broken"])]
                for r in (1, 2, 3):
                    expected[r][fault.source] = {site.article_url("1")}
                expected[3][fault.source].add(site.article_url("broken"))
        # the canary a redirect to loopback would reach, were it followed
        for host in ("127.0.0.1", "localhost", "169.254.169.254", "10.20.30.40"):
            server.route(host, "/secret", page(b"secret"))

        cfg_dir = tmp / "config"
        cfg_dir.mkdir()
        (cfg_dir / "sources.yaml").write_text(
            yaml.safe_dump(
                {
                    "sources": [
                        {"id": sid, "name": sid, "kind": "feed", "url": site.feed_url, "local": True}
                        for sid, site in sites.items()
                    ]
                }
            )
        )
        (cfg_dir / "settings.yaml").write_text(
            yaml.safe_dump(
                {
                    "http_proxy": server.proxy_url,
                    "block_private_addresses": True,  # the guard on, as in production
                    "download_delay": 0,
                    "autothrottle": False,
                    "concurrent_requests_per_domain": 2,
                    "download_timeout": TIMEOUT,
                    "retry_times": RETRY_TIMES,
                    "retry_backoff": 0.2,
                    "max_response_bytes": MAX_BYTES,
                    "obey_robots": True,
                    "crawl_timeout": 90,
                    "smtp": {"host": "127.0.0.1", "port": sink.port, "timeout": 5},
                }
            )
        )
        (cfg_dir / "alerts.yaml").write_text(
            yaml.safe_dump(
                {
                    "subscribers": [
                        {
                            "id": SUBSCRIBER,
                            "name": "Fault watchers",
                            "email": "watchers@example.org",
                            "frequency": "immediate",
                            "rules": ["birmingham"],
                            "include_irrelevant": True,
                        }
                    ]
                }
            )
        )
        config = load_config(cfg_dir)
        direct = config.model_copy(
            update={
                "settings": config.settings.model_copy(update={"http_proxy": None, "block_private_addresses": False})
            }
        )  # 127.0.0.1 itself, as test_guard does
        direct_ids = [DIRECT_NEIGHBOUR, *(f.source for f in FAULTS if f.direct)]
        plan = {"proxied": (config, [s for s in sites if s not in direct_ids]), "direct": (direct, direct_ids)}

        db_path = tmp / "faults.db"
        result = Run(str(db_path), sites, expected)
        env_proxy = {
            k: os.environ.pop(k) for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY") if k in os.environ
        }  # the direct crawl must not go through a proxy of the environment
        try:
            for number in (1, 2, 3):
                if number == 3:  # healed: every faulty path serves a good feed or page
                    for host, path, healed in healing:
                        server.route(host, path, healed)
                    server.listen(refused_port)
                server.clear()
                db = open_db(db_path)
                last_fetch = db.execute("SELECT coalesce(max(id), 0) FROM fetches").fetchone()[0]
                last_delivery = db.execute("SELECT coalesce(max(id), 0) FROM deliveries").fetchone()[0]
                db.close()
                started = time.monotonic()
                reports = _crawl(config, db_path, plan)
                seconds = time.monotonic() - started
                before = len(sink.messages)
                db = open_db(db_path)
                send_alerts(config, db)
                cur = db.execute("SELECT * FROM fetches WHERE id > ? ORDER BY id", [last_fetch])
                cols = [c[0] for c in cur.description]
                fetches = [dict(zip(cols, row)) for row in cur.fetchall()]
                cur = db.execute(
                    "SELECT * FROM deliveries WHERE id > ? AND status = 'sent' ORDER BY id", [last_delivery]
                )
                cols = [c[0] for c in cur.description]
                deliveries = [dict(zip(cols, row)) for row in cur.fetchall()]
                urls = [u for (u,) in db.execute("SELECT url FROM articles")]
                db.close()
                result.rounds.append(
                    Round(
                        number,
                        reports,
                        seconds,
                        urls,
                        fetches,
                        Counter(server.hits),
                        list(server.log),
                        dict(server.streamed),
                        deliveries,
                        len(sink.messages) - before,
                        started,
                    )
                )
            result.message_ids = [m["Message-ID"] for m in sink.messages]
        finally:
            os.environ.update(env_proxy)
        yield result


# -- measures ----------------------------------------------------------------------------------
def _crawls_survived(run: Run) -> bool:
    """Every crawl of every round ended by itself, well inside its time limit, without a crash."""
    return all(
        report.returncode == 0
        and not any(e["error_kind"] in ("crash", "timeout") and e["error"].startswith("crawl ") for e in report.errors)
        for r in run.rounds
        for report in r.reports.values()
    ) and all(r.seconds < 80 for r in run.rounds)


def _recorded(fault: Fault, r: Round) -> list[dict]:
    """The round's error or warning rows of the fault's source that name the fault."""
    rows = [
        f
        for f in r.fetches
        if f["source_id"] == fault.source
        and f["status"] in ("error", "warning")
        and f["role"] == ("index" if fault.level == "feed" else "article")
    ]
    return [
        f
        for f in rows
        if all(e.lower() in (f["error"] or "").lower() for e in fault.expect)
        and (fault.kind is None or f["error_kind"] == fault.kind)
    ]


def _article_ids(run: Run, sources: set[str]) -> set[str]:
    return {article_id_for(url_key(u)) for r in run.expected.values() for s in sources for u in r.get(s, ())}


@pytest.mark.parametrize("fault", FAULTS, ids=[f.source for f in FAULTS])
def test_fault_is_survived_recorded_and_lost_nothing(run, fault, fault_ledger):
    neighbours = {*NEIGHBOURS, DIRECT_NEIGHBOUR}
    lost = run.missing({fault.source} | neighbours)
    duplicates = run.duplicate_alerts(_article_ids(run, {fault.source} | neighbours))
    survived = _crawls_survived(run) and run.missing(neighbours) == 0
    recorded = [_recorded(fault, r) for r in run.rounds[:2]]
    errors_r1 = [
        (f["status"], f["error_kind"], f["error"])
        for f in run.rounds[0].fetches
        if f["source_id"] == fault.source and f["status"] != "ok"
    ]
    fault_ledger.record(
        "HTTP",
        fault.name,
        survived=survived,
        lost=lost,
        duplicates=duplicates,
        recorded=all(recorded),
        note=f"{fault.source}: {errors_r1[0][1]}: {errors_r1[0][2][:120]}" if errors_r1 else "",
    )

    assert survived, [
        (r.number, {n: (rep.returncode, rep.errors[:2]) for n, rep in r.reports.items()}, r.seconds) for r in run.rounds
    ]
    assert lost == 0, [
        (r.number, sorted(run.expected[r.number].get(fault.source, set()) - set(r.urls))) for r in run.rounds
    ]
    assert duplicates == 0
    assert all(recorded), errors_r1
    # an article fault leaves the source's own feed alone
    if fault.level == "article":
        assert [
            f["status"] for f in run.rounds[0].fetches if f["source_id"] == fault.source and f["role"] == "index"
        ] == ["ok"]
    # healed, the source works again: no errors in round 3
    assert [
        f
        for f in run.rounds[2].fetches
        if f["source_id"] == fault.source and f["status"] != "ok" and f["status"] != "not_modified"
    ] == []


def test_neighbours_store_everything_every_round_and_nothing_twice(run):
    for r in run.rounds:
        for sid in (*NEIGHBOURS, DIRECT_NEIGHBOUR):
            assert run.expected[r.number][sid] <= set(r.urls), (r.number, sid)
        assert len(r.urls) == len(set(r.urls)), r.number  # no article stored twice
    one, two, three = run.rounds
    assert len(two.urls) == len(one.urls)  # the faults again: nothing new
    everything = set().union(*run.expected[3].values())
    assert set(three.urls) == everything  # healed: every source's articles, and nothing else
    assert set(one.urls) == set().union(*run.expected[1].values())
    assert not any(rep.errors for rep in three.reports.values()), [rep.errors for rep in three.reports.values()]


def test_digests_reach_the_smtp_server_once_per_article(run):
    one, two, three = run.rounds
    assert one.messages == len(one.deliveries) >= 1
    assert two.messages == 0 and two.deliveries == []  # the same faults again: nothing new to say
    assert three.messages == len(three.deliveries) >= 1
    alerted_1 = {a for d in one.deliveries for a in json.loads(d["articles"])}
    alerted_3 = {a for d in three.deliveries for a in json.loads(d["articles"])}
    assert len(alerted_1) == len(one.urls) and len(alerted_3) == len(three.urls) - len(one.urls)
    assert run.duplicate_alerts() == 0
    assert len(run.message_ids) == len(set(run.message_ids))
    # every stored article marked alerted to the subscriber, by a digest that was sent
    db = open_db(run.db_path)
    alerted = db.execute(
        "SELECT a.article_id, d.status FROM alerted a JOIN deliveries d ON d.id = a.delivery_id WHERE a.subscriber = ?",
        [SUBSCRIBER],
    ).fetchall()
    stored = {aid for (aid,) in db.execute("SELECT article_id FROM articles")}
    db.close()
    assert {aid for aid, _ in alerted} == stored == alerted_1 | alerted_3 and {s for _, s in alerted} == {"sent"}


def test_no_request_storms(run):
    """Retries stop at retry_times, a redirect loop at its first hop back, and a 429's Retry-After
    is waited for; a refused redirect to loopback never reaches it."""
    for r in run.rounds[:2]:
        for fault in FAULTS:
            site = run.sites[fault.source]
            if fault.level == "feed":
                paths = [site.path("/feed.xml")] + ([site.path("/loop-b")] if fault.source == "feed-loop" else [])
            else:
                paths = [site.path(f"/news/{site.sid}-broken")] + (
                    [site.path(f"/news/{site.sid}-loop-b")] if fault.source == "page-loop" else []
                )
            hits = sum(r.hits[(site.host, p)] for p in paths)
            assert hits <= fault.attempts, (r.number, fault.source, hits)
        for host in ("127.0.0.1", "localhost", "169.254.169.254", "10.20.30.40"):
            assert r.hits[(host, "/secret")] == 0
        for code in ("500", "502", "503"):
            site = run.sites[f"feed-{code}"]
            assert r.hits[(site.host, "/feed.xml")] == RETRY_TIMES + 1  # retried, exactly as configured
        tries = [q.time for q in r.log if q.host == "feed-429.example.test" and q.path == "/feed.xml"]
        assert len(tries) == RETRY_TIMES + 1 and tries[1] - tries[0] >= 0.9  # Retry-After: 1 honoured
    # the 50 MB bodies were cut off (a few MB went out into the socket buffers), not read to the end
    for r in run.rounds[:2]:
        for sid in ("page-huge", "page-huge-stream"):
            site = run.sites[sid]
            assert 0 < r.streamed.get((site.host, f"/news/{sid}-broken"), 0) < 25 * 1024 * 1024
