"""Pages per second: the whole carewatch pipeline on the demo site, beside trafilatura alone on the
same pages, measured in one run. Run: ``.venv/bin/python bench/pipeline_speed.py [--rounds N]``.

- crawl (whole path): ``run_crawl`` on a fresh database: child process start-up, Scrapy over
  loopback through the demo server, every pipeline stage, SQLite writes. Pages = article pages
  fetched (HTML and PDF).
- pipeline (in process): extract → canonical → dedupe → tag → store (a fresh SQLite file, one
  transaction per article as in a crawl) on the demo's HTML article pages, each with its source's
  extraction rules from the demo config, as a crawl gives them; no network.
- trafilatura alone: ``trafilatura.bare_extraction(..., with_metadata=True)`` on the same pages.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura

from carewatch.core.items import Article
from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import demo_config
from carewatch.demo.server import DemoServer
from carewatch.ops.crawl import run_crawl
from carewatch.ops.database import open_archive
from carewatch.ops.status import archive_counts
from carewatch.pipelines.runner import Stages, run_stages
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from carewatch.store.seen import SqliteSeenIndex


def html_pages(server: DemoServer) -> list[tuple[str, str]]:
    """The demo's HTML article pages (those the crawl stores), as (url, html)."""
    pages = []
    for host, routes in server.sites.hosts.items():
        for path, route in routes.items():
            if (
                route.status == 200
                and route.content_type.startswith("text/html")
                and path.count("/") >= 2
                and "category" not in path
                and path.rstrip("/") not in ("/news",)
                and not path.endswith(("/news/",))
            ):
                pages.append((f"http://{host}{path}", route.body.decode("utf-8")))
    seen, unique = set(), []
    for url, html in pages:  # aliases serve the same bytes: count each page once
        if html not in seen:
            seen.add(html)
            unique.append((url, html))
    return unique


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with DemoServer() as server, MailSink() as sink:
        config = demo_config(server.proxy_url, sink.port)
        crawl_rates = []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                db_path = Path(tmp) / "bench.db"
                t0 = time.perf_counter()
                run_crawl(config, db_path, log_level="CRITICAL")
                elapsed = time.perf_counter() - t0
                db = open_archive(db_path)
                pages = archive_counts(db).pages_fetched
                db.close()
                crawl_rates.append(pages / elapsed)
        pages_html = html_pages(server)
        # Each page with its source's own extraction rules, as the crawl hands them on.
        rules: dict[str, dict] = {}
        for source in config.sources:
            if source.selectors:
                rules.setdefault(
                    urlsplit(source.url).hostname, {"selectors": source.selectors.model_dump(exclude_none=True)}
                )

        def article(url: str, html: str) -> Article:
            return Article(
                source_id="bench",
                url=url,
                fetched_at="2026-01-01T00:00:00+00:00",
                html=html,
                extra=rules.get(urlsplit(url).hostname, {}),
            )

        stage_times, traf_times = [], []
        for url, html in pages_html:  # warm both up once (imports, regex caches, jusText's stoplists)
            trafilatura.bare_extraction(html, url=url, with_metadata=True)
            run_stages(article(url, html), config)
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                db = open_db(Path(tmp) / "stages.db")
                stages = Stages(config, SqliteSeenIndex(db))  # one de-duplication index a run, as in a crawl
                t0 = time.perf_counter()
                for url, html in pages_html:
                    save_article(db, stages.run(article(url, html)))
                stage_times.append(time.perf_counter() - t0)
                db.close()
            t0 = time.perf_counter()
            for url, html in pages_html:
                trafilatura.bare_extraction(html, url=url, with_metadata=True)
            traf_times.append(time.perf_counter() - t0)
    n = len(pages_html)
    crawl = statistics.median(crawl_rates)
    stages = n / statistics.median(stage_times)
    traf = n / statistics.median(traf_times)
    print(
        f"pages: {pages} fetched by the crawl (HTML + PDF), {n} HTML pages for the in-process runs; "
        f"median of {args.rounds} rounds"
    )
    print(f"carewatch crawl (whole path)     {crawl:8.1f} pages/s")
    print(f"carewatch pipeline (in process)  {stages:8.1f} pages/s   extract, dedupe, tag, store")
    print(f"trafilatura alone (baseline)     {traf:8.1f} pages/s   bare_extraction with metadata")
    print(f"ratio crawl / trafilatura        {crawl / traf:8.2f}")
    print(f"ratio pipeline / trafilatura     {stages / traf:8.2f}")


if __name__ == "__main__":
    main()
