"""Back-fill: `crawl SOURCE --since DATE` walks a paginated archive back to DATE, and an
interrupted back-fill resumes where it stopped, without fetching again what it had."""

from __future__ import annotations

import shutil

import pytest
import yaml

from carewatch.config import load_config
from carewatch.demo.run import DEMO_CONFIG
from carewatch.demo.server import DemoServer
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db

HOST = "birminghamunison.co.uk.test"
SINCE = "2014-01-01"


@pytest.fixture
def server():
    with DemoServer() as s:
        yield s


@pytest.fixture
def config(tmp_path, server):
    """The UNISON blog's HTML archive (/page/N/, newest first) as a listing source."""
    d = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, d)
    (d / "sources.yaml").write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "id": "unison-archive",
                        "name": "Birmingham UNISON archive",
                        "kind": "listing",
                        "url": f"http://{HOST}/page/1/",
                        "links": "h2.entry-title a",
                        "next_page": "div.nav-previous a",
                    }
                ]
            }
        )
    )
    with (d / "settings.yaml").open("a") as f:
        f.write(f"http_proxy: {server.proxy_url}\n")
    return load_config(d)


def _archive_pages(server):
    return [r.path for r in server.requests if r.host == HOST and r.path.startswith("/page/")]


def _posts(server):
    return [r.path for r in server.requests if r.host == HOST and not r.path.startswith(("/page/", "/robots"))]


def test_backfill_reaches_the_date_and_resumes_without_refetching(tmp_path, server, config):
    db_path = tmp_path / "bf.db"
    first = run_crawl(config, db_path, since=SINCE, max_pages=25)
    db = open_db(db_path)
    [(next_url, pages, finished)] = db.execute("SELECT next_url, pages, finished FROM backfills").fetchall()
    assert not finished and next_url and next_url.startswith(f"http://{HOST}/page/")
    stored_first = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert 0 < stored_first and first.counts["new"] == stored_first
    pages_first, posts_first = _archive_pages(server), _posts(server)
    server.requests.clear()

    run_crawl(config, db_path, since=SINCE)
    pages_second, posts_second = _archive_pages(server), _posts(server)
    assert pages_second[0] == next_url.replace(f"http://{HOST}", "")  # resumed, not restarted
    assert not set(posts_first) & set(posts_second)  # no post fetched twice
    assert len(set(pages_first) & set(pages_second)) <= 1  # at most the page it was cut off in
    [(next_url, pages, finished)] = db.execute("SELECT next_url, pages, finished FROM backfills").fetchall()
    assert finished and next_url is None and pages >= 20
    dates = [d for (d,) in db.execute("SELECT published FROM articles ORDER BY published")]
    # Reached the date, and stopped at the archive page that crossed it (4 posts a page).
    assert dates[0][:10] < SINCE <= dates[4][:10]
    assert len(set(pages_first + pages_second)) >= 20
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(set(posts_first + posts_second))


def test_wordpress_backfill_pages_through_the_feed(tmp_path, server):
    from carewatch.demo.mailsink import MailSink
    from carewatch.demo.run import demo_config

    with MailSink() as sink:
        config = demo_config(server.proxy_url, sink.port)
    db_path = tmp_path / "wp.db"
    plain = run_crawl(config, db_path, ["birmingham-unison"])
    assert plain.counts["new"] == 10  # an ordinary crawl reads the feed's first page only
    server.requests.clear()
    run_crawl(config, db_path, ["birmingham-unison"], since="2016-01-01")
    feeds = [r.path for r in server.requests if r.host == HOST and r.path.startswith("/feed/")]
    assert feeds[0] == "/feed/" and all(p.startswith("/feed/?paged=") for p in feeds[1:])
    db = open_db(db_path)
    oldest = db.execute("SELECT min(published) FROM articles").fetchone()[0]
    assert "2016-01-01" <= oldest[:10] <= "2016-03-31"  # reached the date; nothing older fetched
    newest_skipped = [r.path for r in server.requests if r.host == HOST and r.path.startswith("/20")]
    assert len(newest_skipped) == db.execute("SELECT count(*) FROM articles").fetchone()[0] - 10
    [(finished,)] = db.execute("SELECT finished FROM backfills").fetchall()
    assert finished
