"""The demo site changed while it runs (demo.server.DemoSites.put and publish, which bench/latency.py
uses): a new article is served at once, its feed with it, a conditional request for the changed feed
gets the new one. Each test changes a demo site of its own, never the session's (other tests count
what the demo sites hold)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from carewatch.demo.server import DemoServer

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
