"""A page that fails is not alerted from its feed's stub: real crawls (``ops.crawl.run_crawl``: the
Scrapy crawl in a child process, the real pipelines, a real SQLite file) of a feed served by the
misbehaving loopback server (tests/faults/server.py), digests sent to a real SMTP server.

The feed links three good pages and three that fail: 50 MB of body, random bytes served as
text/html, a redirect loop. Round 1: the three failed entries are stored with what the feed said
(nothing lost) but marked ``page_pending``, and the digest holds only the good pages and the
entries of a feed-only source (``follow: false``: its feed is all there is). Round 2: the pages
are healed and the feed no longer lists one of them; each failed page is fetched again, stored
with its page's text, and alerted then, once. Round 3: nothing new, nothing sent.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

import pytest
import yaml

from carewatch.alerts.outbox import send_alerts
from carewatch.config import load_config
from carewatch.demo.mailsink import MailSink
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db
from tests.faults.server import FaultServer, huge, page, redirect

pytestmark = pytest.mark.faults

HOST = "pages.example.test"
FEED_ONLY_HOST = "briefs.example.test"
MAX_BYTES = 2 * 1024 * 1024
GOOD = ("good-1", "good-2", "good-3")
FAILING = {  # the page's slug -> how it fails
    "big-article": lambda: huge(declare_length=True),
    "noise": lambda: page(random.Random(5).randbytes(100_000), "text/html; charset=utf-8"),
    "loop": lambda: redirect(f"http://{HOST}/news/loop-b"),
}


def _title(slug: str) -> str:
    return f"Birmingham children's services: the {slug.replace('-', ' ')} story"


def _summary(slug: str) -> str:
    return f"Stub from the feed about {slug}: Birmingham Children's Trust said more in the full article."


def _page(slug: str) -> bytes:
    rng = random.Random(slug)
    words = "foster carers placements caseloads agency social workers budget Ofsted inspection leadership".split()
    body = "".join(
        f"<p>{' '.join(rng.choice(words) for _ in range(30)).capitalize()} in Birmingham, page {slug}.</p>"
        for _ in range(6)
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(_title(slug))}</title></head><body>"
        f"<main><article><h1>{escape(_title(slug))}</h1><p>The full text of {slug}, as the page has it.</p>"
        f"{body}</article></main></body></html>"
    ).encode()


def _feed(host: str, slugs: list[str]) -> bytes:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=3))
    items = "".join(
        f"<item><title>{escape(_title(s))}</title><link>http://{host}/news/{s}</link><guid>{s}</guid>"
        f"<pubDate>{when}</pubDate><description>{escape(_summary(s))}</description></item>"
        for s in slugs
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>t</title>"
        f"<link>http://{host}/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def _config(tmp, server: FaultServer, sink: MailSink):
    cfg = tmp / "config"
    cfg.mkdir()
    sources = [
        {"id": "pages", "name": "Pages", "kind": "feed", "url": f"http://{HOST}/feed.xml", "local": True},
        {
            "id": "briefs",
            "name": "Briefs",
            "kind": "feed",
            "url": f"http://{FEED_ONLY_HOST}/feed.xml",
            "follow": False,
            "local": True,
        },
    ]
    (cfg / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}))
    (cfg / "settings.yaml").write_text(
        yaml.safe_dump(
            {
                "http_proxy": server.proxy_url,
                "download_delay": 0,
                "autothrottle": False,
                "download_timeout": 5,
                "retry_times": 0,
                "max_response_bytes": MAX_BYTES,
                "crawl_timeout": 90,
                "revisit_days": 0,  # the retries asserted on are the failed pages', not edit checks
                "smtp": {"host": "127.0.0.1", "port": sink.port, "timeout": 5},
            }
        )
    )
    (cfg / "alerts.yaml").write_text(
        yaml.safe_dump(
            {
                "subscribers": [
                    {
                        "id": "watchers",
                        "name": "Watchers",
                        "email": "watchers@example.org",
                        "frequency": "immediate",
                        "rules": ["birmingham"],
                        "include_irrelevant": True,
                    }
                ]
            }
        )
    )
    return load_config(cfg)


def _rows(db_path) -> dict[str, tuple]:
    db = open_db(db_path)
    try:
        return {
            url.rsplit("/", 1)[-1]: (pending, text)
            for url, pending, text in db.execute("SELECT url, page_pending, text FROM articles").fetchall()
        }
    finally:
        db.close()


def _send(config, db_path) -> list[str]:
    """Send the due digests; the slugs of the articles they hold."""
    db = open_db(db_path)
    try:
        before = db.execute("SELECT coalesce(max(id), 0) FROM deliveries").fetchone()[0]
        results = send_alerts(config, db)
        assert all(r.status == "sent" for r in results), results
        held = []
        for (articles,) in db.execute("SELECT articles FROM deliveries WHERE id > ?", [before]).fetchall():
            for aid in json.loads(articles):
                (url,) = db.execute("SELECT url FROM articles WHERE article_id = ?", [aid]).fetchone()
                held.append(url.rsplit("/", 1)[-1])
        return held
    finally:
        db.close()


def test_a_failed_page_is_kept_not_alerted_and_fetched_again_until_read(tmp_path, fault_ledger):
    with FaultServer() as server, MailSink(tmp_path / "mail") as sink:
        config = _config(tmp_path, server, sink)
        db_path = tmp_path / "pages.db"
        server.route(HOST, "/feed.xml", page(_feed(HOST, [*GOOD, *FAILING]), "application/rss+xml"))
        server.route(FEED_ONLY_HOST, "/feed.xml", page(_feed(FEED_ONLY_HOST, ["brief-1"]), "application/rss+xml"))
        for slug in GOOD:
            server.route(HOST, f"/news/{slug}", page(_page(slug)))
        for slug, make in FAILING.items():
            server.route(HOST, f"/news/{slug}", make())
        server.route(HOST, "/news/loop-b", redirect(f"http://{HOST}/news/loop"))

        # round 1: the failures
        report = run_crawl(config, db_path, log_level="CRITICAL")
        rows = _rows(db_path)
        sent1 = _send(config, db_path)
        # (the loop's failure is recorded where it was found: its second page, loop-b)
        failed_kinds = {e["url"].rsplit("/", 1)[-1].removesuffix("-b"): e["error"] for e in report.errors}
        kept = all(rows.get(s) == (1, _summary(s)) for s in FAILING)  # the feed's text, kept, pending
        alerted_stubs = sorted(set(sent1) & set(FAILING))
        fault_ledger.record(
            "failed pages",
            "page failed (50 MB, binary as HTML, redirect loop): feed stub not alerted",
            survived=report is not None,
            lost=sum(1 for s in FAILING if s not in rows),
            duplicates=len(alerted_stubs),  # an alert from a stub is an alert the page will make again
            recorded=set(FAILING) <= set(failed_kinds),
            tried=len(FAILING),
            note=f"round 1 digest: {sorted(sent1)}",
        )
        assert set(FAILING) <= set(failed_kinds), report.errors
        assert kept, {s: rows.get(s) for s in FAILING}
        assert all(rows[s][0] == 0 for s in (*GOOD, "brief-1")), rows
        assert rows["brief-1"][1] == _summary("brief-1")  # feed-only: the feed's text is the article
        assert alerted_stubs == []
        assert sorted(sent1) == sorted([*GOOD, "brief-1"])

        # round 2: the pages healed; the feed no longer lists big-article, which is fetched all the same
        server.clear()
        server.route(HOST, "/feed.xml", page(_feed(HOST, [*GOOD, "noise", "loop"]), "application/rss+xml"))
        for slug in FAILING:
            server.route(HOST, f"/news/{slug}", page(_page(slug)))
        run_crawl(config, db_path, log_level="CRITICAL")
        rows = _rows(db_path)
        refetched = {s: len(server.requests_to(HOST, f"/news/{s}")) for s in FAILING}
        sent2 = _send(config, db_path)
        read = [s for s in FAILING if rows[s][0] == 0 and f"The full text of {s}" in rows[s][1]]

        # round 3: nothing new, nothing sent, nothing fetched again
        server.clear()
        run_crawl(config, db_path, log_level="CRITICAL")
        sent3 = _send(config, db_path)
        again = {s: len(server.requests_to(HOST, f"/news/{s}")) for s in (*FAILING, *GOOD)}
        fault_ledger.record(
            "failed pages",
            "failed page fetched again and alerted once read",
            survived=True,
            lost=len(FAILING) - len(read),
            duplicates=len(sent1 + sent2 + sent3) - len(set(sent1 + sent2 + sent3)),
            recorded=True,
            tried=len(FAILING),
            note=f"round 2 requests {refetched}, digest {sorted(sent2)}",
        )
        assert all(n == 1 for n in refetched.values()), refetched
        assert read == list(FAILING), rows
        assert sorted(sent2) == sorted(FAILING)  # alerted now, from the page
        assert sent3 == [] and not any(again.values()), (sent3, again)
