"""The demo site changed while it runs (demo.server.DemoSites.put and publish, which bench/latency.py
uses): a new article is served at once, its feed with it, a conditional request for the changed feed
gets the new one; a real crawl then stores the article, the immediate subscriber's digest reaches
the mail sink (which notes when), and the archive holds each stage's time (store.timeline). Each
test changes a demo site of its own, never the session's (other tests count what the demo sites
hold)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import datetime

import pytest

from carewatch.demo.run import demo_config
from carewatch.demo.server import DemoServer
from carewatch.ops.alerts import send_alerts
from carewatch.ops.crawl import run_crawl
from carewatch.ops.database import open_archive
from carewatch.store.timeline import article_timeline

FEED = "http://www.thechamberlainfiles.com.test/feed/"
PAGE = "http://www.thechamberlainfiles.com.test/trust-fostering-contract-goes-out-to-tender/"
TITLE = "Children's Trust puts its fostering service out to tender"
PARAS = [
    "Birmingham Children's Trust is to put its in-house fostering service out to tender, a step campaigners "
    "call the privatisation of care for the city's most vulnerable children.",
    "The trust says outsourcing the recruitment and support of foster carers to an independent fostering "
    "agency would save money and find more homes for children in care; social workers fear the opposite.",
]
ITEM = f"""<item>
  <title>{TITLE}</title>
  <link>{PAGE}</link>
  <dc:creator><![CDATA[Robert Hanley]]></dc:creator>
  <pubDate>Wed, 27 Sep 2023 09:00:00 +0000</pubDate>
  <guid isPermaLink="false">{PAGE}</guid>
  <description><![CDATA[{PARAS[0]}]]></description>
</item>"""
HTML = (
    f"<!DOCTYPE html><html lang='en-GB'><head><meta charset='UTF-8'><title>{TITLE}</title></head><body>"
    f"<article><h1 class='entry-title'>{TITLE}</h1><div class='entry-content'>"
    + "".join(f"<p>{p}</p>" for p in PARAS)
    + "</div></article></body></html>"
)


def _get(server, url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.proxy_url}))
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture
def own_site():
    with DemoServer() as server:
        yield server


def test_a_published_article_and_its_feed_entry_are_served_at_once(own_site):
    demo_server = own_site
    status, headers, before = _get(demo_server, FEED)
    assert status == 200 and TITLE.encode() not in before
    assert _get(demo_server, FEED, {"If-None-Match": headers["ETag"]})[0] == 304
    assert _get(demo_server, PAGE)[0] == 404

    demo_server.sites.publish(FEED, ITEM, PAGE, HTML)

    status, page_headers, page = _get(demo_server, PAGE)
    assert status == 200 and page == HTML.encode() and page_headers["Content-Type"].startswith("text/html")
    status, new_headers, after = _get(demo_server, FEED, {"If-None-Match": headers["ETag"]})
    assert status == 200 and new_headers["ETag"] != headers["ETag"]
    assert new_headers["Content-Type"] == headers["Content-Type"]  # the feed's own type is kept
    assert after.index(TITLE.encode()) < after.index(b"<item>", after.index(b"</item>"))  # at the top
    assert after.replace(ITEM.encode() + b"\n", b"") == before  # and nothing else changed
    assert _get(demo_server, FEED.rstrip("/"))[2] == after  # the manifest's alias serves it too
    with pytest.raises(KeyError):
        demo_server.sites.put("http://nowhere.test/", "<html></html>")


@pytest.mark.timeout(180)
def test_a_crawl_stores_what_was_published_and_the_digest_reaches_the_sink(tmp_path, own_site, mail_sink):
    demo_server, demo_cfg = own_site, demo_config(own_site.proxy_url, mail_sink.port)
    db_path = tmp_path / "archive.db"
    run_crawl(demo_cfg, db_path, ["chamberlain-files"])
    db = open_archive(db_path)
    send_alerts(demo_cfg, db)
    sent_before = len(mail_sink.messages)

    published = time.time()
    demo_server.sites.publish(FEED, ITEM, PAGE, HTML)
    run_crawl(demo_cfg, db_path, ["chamberlain-files"])
    results = [r for r in send_alerts(demo_cfg, db) if r.subscriber == "organisers"]

    assert [r.status for r in results] == ["sent"] and TITLE in results[0].articles
    assert len(mail_sink.messages) == sent_before + 1 == len(mail_sink.received)
    assert published < mail_sink.received[-1] <= time.time()
    t = article_timeline(db, PAGE, "organisers")
    assert t is not None and t.source_id == "chamberlain-files" and t.delivery_status == "sent"
    stamps = [t.index_fetch, t.page_fetch, t.first_seen, t.stored, t.matched, t.delivery_created]
    assert all(stamps), t
    when = [datetime.fromisoformat(s or "") for s in stamps]
    assert "." in (t.stored or "")  # to the millisecond
    assert when[0] <= when[1] <= when[2] <= when[3].replace(microsecond=0)  # feed, page, parsed, stored
    assert when[0].timestamp() >= int(published)
    db.close()
