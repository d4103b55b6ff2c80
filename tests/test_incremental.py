"""Incremental, polite crawling, proven from the demo server's request log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import yaml

from carewatch.config import load_config
from carewatch.config.schema import duration_seconds
from carewatch.core.items import Fetch
from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import demo_config
from carewatch.demo.server import DemoServer, DemoSites, Route
from carewatch.ops.crawl import run_crawl
from carewatch.scrapers.meetings import _CALENDAR as CALENDAR
from carewatch.scrapers.meetings import MEETING_KINDS, months
from carewatch.store.db import open_db
from carewatch.store.fetches import due_sources, record_fetch, source_health
from tests.conftest import ROOT


@pytest.fixture
def server():
    with DemoServer() as s:
        yield s


@pytest.fixture
def config(server):
    with MailSink() as sink:
        yield demo_config(server.proxy_url, sink.port)


def _only(config, source_id: str):
    return config.model_copy(update={"sources": tuple(s for s in config.sources if s.id == source_id)})


def _index_urls(config):
    """Each source's own page; a meetings source's are its calendar months."""
    urls = set()
    for s in config.sources:
        if s.kind in MEETING_KINDS:
            urls |= {CALENDAR[s.kind](s.url, y, m) for y, m in months(date.today(), s.months_back, s.months_ahead)}
        else:
            urls.add(s.url)
    return urls


def test_second_crawl_is_conditional_and_stores_nothing(tmp_path, server, config):
    db_path = tmp_path / "a.db"
    first = run_crawl(config, db_path)
    assert first.counts["new"] >= 20

    server.requests.clear()
    second = run_crawl(config, db_path)
    log = [r for r in server.requests if r.path != "/robots.txt"]
    assert second.counts.get("new", 0) == 0 and second.counts.get("updated", 0) == 0

    by_url = {f"http://{r.host}{r.path}": r for r in log}
    meetings = set().union(*(_index_urls(_only(config, s.id)) for s in config.sources if s.kind in MEETING_KINDS))
    healthy = (
        _index_urls(config)
        - meetings
        - {
            "http://www.birminghammail.co.uk.test/news/midlands-news/?service=rss",  # malformed
            "http://birminghamagainstthecuts.wordpress.com.test/category/news/feed/",  # HTTP 500
            "http://reports.ofsted.gov.uk.test/provider/44/80429",  # one of its links failed
        }
    )  # and the meetings sources' calendars, read whole each time (their meeting pages are conditional)
    for url in healthy:
        req = by_url[url]
        assert req.headers.get("If-None-Match") and req.headers.get("If-Modified-Since"), url
        assert req.status == 304, url
    # Failed sources are asked again in full (no validators saved), never hidden behind a 304.
    for url in _index_urls(config) - healthy:
        assert "If-None-Match" not in by_url[url].headers and by_url[url].status != 304
    # Stored pages are asked again only to catch edits (first seen within revisit_days): with
    # the validators they had, so they answer 304; pages of sources whose run had a failure were
    # saved without validators and are fetched whole. Only the link that failed is fetched anew.
    failed_sources = {e["source_id"] for e in first.errors}
    failed_hosts = {urlsplit(config.source(s).url).hostname for s in failed_sources}
    articles = {u: r for u, r in by_url.items() if u not in _index_urls(config)}
    assert "http://reports.ofsted.gov.uk.test/v1/file/10023867" in articles
    for url, req in articles.items():
        if req.host not in failed_hosts:
            assert req.headers.get("If-None-Match") and req.status == 304, url


def test_retries_back_off(tmp_path, server, config):
    run_crawl(config, tmp_path / "a.db", ["birmingham-against-the-cuts-news"])
    hits = [r for r in server.requests if r.path == "/category/news/feed/"]
    assert [r.status for r in hits] == [500] * (config.settings.retry_times + 1)
    gaps = [b.time - a.time for a, b in zip(hits, hits[1:])]
    assert all(g >= config.settings.retry_backoff * 0.9 for g in gaps), gaps


def _at(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def test_failing_after_n_retried_with_capped_backoff_and_silence_flagged(tmp_path, config):
    db = open_db(tmp_path / "h.db")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    n = config.settings.failing_after
    for i in range(n + 3):
        record_fetch(
            db,
            Fetch(
                "birmingham-live",
                "http://x/feed",
                _at(t0 + timedelta(hours=i)),
                "error",
                error_kind="http",
                error="HTTP 503",
            ),
        )
    record_fetch(db, Fetch("chamberlain-files", "http://y/feed", _at(t0), "ok"))
    now = t0 + timedelta(hours=n + 3)
    health = {h.source_id: h for h in source_health(db, config, now)}
    live = health["birmingham-live"]
    assert live.state == "failing" and live.consecutive_failures == n + 3 and live.last_error == "http: HTTP 503"
    interval = config.settings.crawl_interval_minutes
    expected = min(interval * 2**3, config.settings.retry_failing_max_hours * 60)
    last = t0 + timedelta(hours=n + 2)
    assert datetime.fromisoformat(live.next_retry) == last + timedelta(minutes=expected)
    assert "birmingham-live" not in due_sources(db, config, now)
    assert "birmingham-live" in due_sources(db, config, last + timedelta(minutes=expected + 1))
    # A source that works but has produced nothing for longer than its cadence is silent.
    assert health["chamberlain-files"].state == "ok"
    quiet = timedelta(seconds=duration_seconds(config.source("chamberlain-files").cadence) + 86400)
    later = {h.source_id: h for h in source_health(db, config, t0 + quiet)}
    assert (
        later["chamberlain-files"].state == "silent"
        and "nothing new since 2026-01-01" in later["chamberlain-files"].last_error
    )
    assert [h.state for h in source_health(db, config, now)][0] == "failing"


def test_robots_txt_disallow_is_obeyed_and_recorded(tmp_path, config):
    manifest = tmp_path / "manifest.yaml"
    site = ROOT / "demo" / "site"
    (tmp_path / "chamberlain").symlink_to(site / "chamberlain")
    (tmp_path / "robots.txt").write_text("User-agent: *\nDisallow: /last-chance-saloon\n")
    routes = yaml.safe_load((site / "manifest.yaml").read_text())["sites"]["chamberlain"]
    routes["routes"].append({"path": "/robots.txt", "file": "robots.txt", "content_type": "text/plain"})
    manifest.write_text(yaml.safe_dump({"sites": {"chamberlain": routes}}))
    with DemoServer(DemoSites.load(manifest)) as server:
        cfg = config.model_copy(
            update={"settings": config.settings.model_copy(update={"http_proxy": server.proxy_url})}
        )
        report = run_crawl(cfg, tmp_path / "r.db", ["chamberlain-files"])
        paths = [r.path for r in server.requests]
    assert not [p for p in paths if p.startswith("/last-chance-saloon")]
    [err] = [e for e in report.errors if "last-chance-saloon" in e["url"]]
    assert "robots.txt" in err["error"]
    assert report.counts["new"] == 4  # every entry stored: the blocked one from the feed's own text
    [(kind,)] = (
        open_db(tmp_path / "r.db").execute("SELECT kind FROM articles WHERE url LIKE '%last-chance-saloon%'").fetchall()
    )
    assert kind == "feed-entry"


def test_bad_pages_get_a_recorded_explained_outcome(tmp_path, config):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "sites": {
                    "bad": {
                        "host": "bad.example.test",
                        "routes": [{"prefix": "/bad/", "handler": "tests.badpages:serve"}],
                    }
                }
            }
        )
    )
    cfg_dir = tmp_path / "config"
    cfg_dir.mkdir()
    (cfg_dir / "sources.yaml").write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "id": "bad",
                        "name": "Bad pages",
                        "kind": "listing",
                        "url": "http://bad.example.test/bad/",
                        "links": "ul.bad a",
                    },
                    {
                        "id": "good-neighbour",
                        "name": "A working source",
                        "kind": "feed",
                        "url": "http://www.thechamberlainfiles.com.test/feed/",
                    },
                ]
            }
        )
    )
    sites = DemoSites.load(manifest)
    real = DemoSites.load()
    sites.hosts.update(real.hosts)
    with DemoServer(sites) as server:
        (cfg_dir / "settings.yaml").write_text(
            yaml.safe_dump(
                {
                    "http_proxy": server.proxy_url,
                    "download_delay": 0,
                    "autothrottle": False,
                    "retry_times": 0,
                    "max_response_bytes": 10 * 1024 * 1024,
                }
            )
        )
        cfg = load_config(cfg_dir)
        report = run_crawl(cfg, tmp_path / "bad.db")
    db = open_db(tmp_path / "bad.db")
    outcome = {
        url.rsplit("/", 1)[-1]: (status, kind, error)
        for url, status, kind, error in db.execute(
            "SELECT url, status, error_kind, error FROM fetches WHERE source_id = 'bad' AND role = 'article'"
        )
    }
    assert outcome["huge"][0] == "error" and "too large" in outcome["huge"][2]
    assert outcome["empty"][:2] == ("warning", "extract") and "no text could be extracted" in outcome["empty"][2]
    assert outcome["scan.pdf"][:2] == ("warning", "extract") and "no text layer" in outcome["scan.pdf"][2]
    assert outcome["locked.pdf"][:2] == ("warning", "extract") and "encrypted PDF" in outcome["locked.pdf"][2]
    texts = dict(db.execute("SELECT title, text FROM articles WHERE source_id = 'bad'").fetchall())
    assert set(texts) == {"A good page", "Trust overspend met from reserves", "Caseloads fall at the Trust"}
    for title in ("Trust overspend met from reserves", "Caseloads fall at the Trust"):
        assert "£9m overspend on children’s social care" in texts[title]  # no mojibake, no U+FFFD
    assert db.execute("SELECT count(*) FROM articles WHERE source_id = 'good-neighbour'").fetchone()[0] == 4
    assert report.returncode == 0


HEADLINE_HOST = "headlines.example.test"
_PARAGRAPH = " ".join(
    f"The scrutiny committee heard that placement costs rose again in quarter {i}." for i in range(1, 13)
)


def _headline_page(extra: str = "") -> bytes:
    """A page whose own headline (its <h1>, the first line of its text) and meta date differ from
    what its feed says, served without validators so that every revisit is answered in full."""
    return (
        "<!doctype html><html><head><title>Headlines | The trust's budget</title>"
        '<meta property="article:published_time" content="2026-03-02T09:30:00Z"></head>'
        f"<body><article><h1>Page headline: the trust's budget</h1><p>{_PARAGRAPH}</p>{extra}"
        f"<p>{_PARAGRAPH}</p></article></body></html>"
    ).encode()


def test_refetching_an_unchanged_page_is_not_a_version(tmp_path):
    """A revisit has no feed entry in hand: the page's <h1> and meta date must not replace the
    feed's title and date, nor change the text (the headline line is dropped only when it is the
    title): a version is a change of the article's text, not of where its title came from."""
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>H</title><link>http://{HEADLINE_HOST}/</link>'
        f"<description>d</description><item><title>Feed title for the budget story</title>"
        f"<link>http://{HEADLINE_HOST}/story</link><guid>http://{HEADLINE_HOST}/story</guid>"
        "<pubDate>Sun, 01 Mar 2026 08:00:00 GMT</pubDate><author>Jo Bloggs</author></item></channel></rss>"
    ).encode()
    sites = DemoSites()
    html = "text/html; charset=utf-8"
    sites.hosts[HEADLINE_HOST] = {
        "/feed": Route(200, "application/rss+xml", feed, ""),
        "/story": Route(200, html, _headline_page(), ""),  # no ETag: a revisit gets the whole page
    }
    cfg_dir = tmp_path / "config"
    cfg_dir.mkdir()
    (cfg_dir / "sources.yaml").write_text(
        yaml.safe_dump({"sources": [{"id": "h", "name": "H", "kind": "feed", "url": f"http://{HEADLINE_HOST}/feed"}]})
    )
    db_path = tmp_path / "h.db"
    with DemoServer(sites) as server:
        (cfg_dir / "settings.yaml").write_text(
            yaml.safe_dump(
                {"http_proxy": server.proxy_url, "download_delay": 0, "autothrottle": False, "retry_times": 0}
            )
        )
        cfg = load_config(cfg_dir)
        query = "SELECT title, published, author, version, text FROM articles"
        assert run_crawl(cfg, db_path).counts.get("new") == 1
        db = open_db(db_path)
        [first] = db.execute(query).fetchall()
        assert first[:4] == ("Feed title for the budget story", "2026-03-01T08:00:00+00:00", "Jo Bloggs", 1)

        server.requests.clear()
        again = run_crawl(cfg, db_path)
        assert [r.status for r in server.requests if r.path == "/story"] == [200]  # really fetched again
        assert again.counts.get("unchanged") == 1 and again.counts.get("updated", 0) == 0
        assert db.execute(query).fetchall() == [first]
        assert db.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 0

        # A real edit of the text is a version; the feed's title and date stay the article's.
        sites.hosts[HEADLINE_HOST]["/story"] = Route(
            200, html, _headline_page("<p>The council has since published an action plan for the trust.</p>"), ""
        )
        edited = run_crawl(cfg, db_path)
        assert edited.counts.get("updated") == 1
        [(title, published, author, version, text)] = db.execute(query).fetchall()
        assert (title, published, author, version) == (first[0], first[1], first[2], 2)
        assert "published an action plan" in text
