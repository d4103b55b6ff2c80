"""Bad input gets plain words, and ``carewatch inspect`` fails exactly as a crawl does (issue 21).

A misbehaving server on 127.0.0.1 (tests/faults/server.py) serves a feed whose entries are random
bytes served as text/html, a redirect loop and a 50 MB page, and a "listing" that is random bytes.
The real ``carewatch crawl`` records each failure in the fetch log; then ``carewatch inspect`` on
each of those URLs must exit non-zero with exactly the error text the crawl recorded (it fetches
with the crawl's own downloader, guard and checks). The crawl prints no raw Scrapy log line: its
warnings (the 50 MB page) are summarised after the crawl's summary.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import carewatch
from tests.faults.server import FaultServer, huge, page, redirect

pytestmark = pytest.mark.faults

MAX_BYTES = 2 * 1024 * 1024
NOISE = random.Random(21).randbytes(150_000)  # binary data served as text/html
HOST = "127.0.0.1"


def _settings(guard: bool, db: Path) -> str:
    return (
        f"database: {db}\nblock_private_addresses: {'true' if guard else 'false'}\ndownload_delay: 0\n"
        f"autothrottle: false\nretry_times: 0\ndownload_timeout: 10\nmax_response_bytes: {MAX_BYTES}\n"
        "progress_seconds: 0.5\n"
    )


def _feed(base: str, paths: list[str]) -> bytes:
    items = "".join(f"<item><title>Story {p}</title><link>{base}{p}</link><guid>{base}{p}</guid></item>" for p in paths)
    return (
        "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>Faulty</title>"
        f"<link>{base}/</link><description>x</description>{items}</channel></rss>"
    ).encode()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plain-errors")
    with FaultServer() as server:
        base = f"http://{HOST}:{server.port}"
        server.route(HOST, "/feed.xml", page(_feed(base, ["/garbage", "/loop-a", "/huge"]), "application/rss+xml"))
        server.route(HOST, "/garbage", page(NOISE, "text/html; charset=utf-8"))
        server.route(HOST, "/loop-a", redirect(f"{base}/loop-b"))
        server.route(HOST, "/loop-b", redirect(f"{base}/loop-a"))
        server.route(HOST, "/huge", huge(declare_length=True))
        server.route(HOST, "/listing", page(NOISE, "text/html; charset=utf-8"))
        folders = {}
        for name, guard in (("open", False), ("guarded", True)):
            folder = tmp / name
            folder.mkdir()
            (folder / "settings.yaml").write_text(_settings(guard, tmp / f"{name}.db"))
            (folder / "sources.yaml").write_text(
                "sources:\n"
                f"  - {{id: faulty-feed, name: Faulty feed, kind: feed, url: '{base}/feed.xml'}}\n"
                f"  - {{id: noise-listing, name: Noise listing, kind: listing, url: '{base}/listing', links: 'a'}}\n"
            )
            folders[name] = folder
        crawl = carewatch("--config", str(folders["open"]), "crawl", timeout=180)
        with sqlite3.connect(tmp / "open.db") as db:
            recorded = {
                url: error for url, error in db.execute("SELECT url, error FROM fetches WHERE status = 'error'")
            }
        html = (
            b"<html><head><title>Care leavers</title></head><body><article><h1>Care leavers get help</h1>"
            + b"<p>Birmingham Children's Trust said care leavers will get more help with housing this year.</p>" * 8
            + b"</article></body></html>"
        )
        server.route(HOST, "/good", page(html))
        runs = {  # (config, path, --json): each `carewatch inspect` run once, a few at a time
            "/garbage": ("open", "/garbage", False),
            "/loop-a": ("open", "/loop-a", False),
            "/huge": ("open", "/huge", False),
            "guarded": ("guarded", "/garbage", True),
            "/good": ("open", "/good", True),
        }
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {
                key: pool.submit(
                    carewatch,
                    "--config",
                    str(folders[cfg]),
                    "inspect",
                    f"{base}{path}",
                    *(["--json"] if as_json else []),
                    timeout=180,
                )
                for key, (cfg, path, as_json) in runs.items()
            }
            inspected = {key: f.result() for key, f in futures.items()}
        yield {"base": base, "crawl": crawl, "recorded": recorded, "inspected": inspected}


def test_the_crawl_records_plain_errors(site):
    base, recorded = site["base"], site["recorded"]
    assert recorded[f"{base}/garbage"].startswith(
        "expected an HTML page or a PDF, got binary data served as text/html (150,000 bytes, "
    ), recorded
    # the failing hop is recorded, the whole chain said
    assert recorded[f"{base}/loop-b"] == f"redirect loop: {base}/loop-a -> {base}/loop-b -> {base}/loop-a"
    assert recorded[f"{base}/huge"] == (
        "too large, not downloaded: the server announced 52,428,800 bytes (50.0 MB), over max_response_bytes "
        "(2,097,152 bytes, 2.0 MB)"
    )
    # binary data as a listing page: said so, not "no links matched the selector 'a'"
    assert recorded[f"{base}/listing"].startswith(
        "expected an HTML page of links, got binary data served as text/html (150,000 bytes, "
    ), recorded


def test_no_raw_scrapy_log_lines_above_the_summary(site):
    crawl = site["crawl"]
    assert crawl.returncode == 1, crawl.stderr  # sources failed
    assert crawl.stdout.startswith("2 source(s): 0 new"), crawl.stdout
    assert "[scrapy" not in crawl.stderr and "] WARNING:" not in crawl.stderr, crawl.stderr
    assert "Traceback" not in crawl.stderr
    # Scrapy's warning about the 50 MB page is summarised after the failures, not printed as it came
    lines = crawl.stderr.splitlines()
    summary = next(i for i, line in enumerate(lines) if "message(s) in Scrapy's log" in line)
    assert all(line.startswith(("  ! ", "crawl: ")) for line in lines[:summary]), lines  # failures, progress
    assert "52428800 bytes" in crawl.stderr.split("message(s) in Scrapy's log", 1)[1]


def test_the_crawl_shows_plain_progress_lines_off_a_terminal(site):
    progress = [line for line in site["crawl"].stderr.splitlines() if line.startswith("crawl: ")]
    assert progress, site["crawl"].stderr
    # the last: every fetch of the run counted (feed, listing, its 3 pages), the failures among them
    last = re.fullmatch(r"crawl: 5 fetches, (\d\d:)?\d\d:\d\d elapsed; 0 new articles, 4 failed", progress[-1])
    assert last, progress
    assert "\r" not in site["crawl"].stderr


@pytest.mark.parametrize(("path", "failed"), [("/garbage", "/garbage"), ("/loop-a", "/loop-b"), ("/huge", "/huge")])
def test_inspect_fails_with_the_error_the_crawl_recorded(site, path, failed):
    """``failed``: the URL whose fetch the crawl recorded as failed (of a redirect loop: its last hop)."""
    failed = f"{site['base']}{failed}"
    result = site["inspected"][path]
    assert result.returncode == 1, (result.stdout[:500], result.stderr)
    assert result.stdout == ""  # no page of binary, no tags made of it
    assert result.stderr == f"Error: {failed}: {site['recorded'][failed]}\n"


def test_inspect_goes_through_the_crawls_address_guard(site):
    result = site["inspected"]["guarded"]
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"Error: {site['base']}/garbage: blocked address 127.0.0.1 (not a public address) for 127.0.0.1\n"
    )


def test_inspect_of_a_good_page_still_shows_the_item(site):
    result = site["inspected"]["/good"]
    assert result.returncode == 0, result.stderr
    item = json.loads(result.stdout)
    assert item["url"] == f"{site['base']}/good" and item["title"] == "Care leavers get help"
    assert "care leavers" in item["text"]
