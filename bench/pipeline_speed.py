"""Pages per second: the whole carewatch pipeline on a loopback copy of the demo's sources with
585 article pages, beside trafilatura alone on the same pages, measured in one run.
Run from the repository: ``.venv/bin/python bench/pipeline_speed.py [--rounds N] [--copies N]``
(it reads real article texts from ``../shared/data``; ``--data`` names another folder).

- The site (bench/loopback_site.py, built before anything is timed): the demo site with each
  article page of its feed and listing sources copied ``--copies`` times (14: 39 × 15 = 585 pages)
  with real texts, the copies listed by the sources' own feeds and listings. Served by the demo
  server on 127.0.0.1, as the demo is.
- crawl (whole path): ``run_crawl`` of those sources on a fresh database, politeness off
  (``ops.crawl.impolite``: no download delay, no AutoThrottle, 16 requests at once per host; real
  sites keep their settings): child process start-up, Scrapy over loopback, every pipeline stage,
  SQLite writes, the demo subscribers' rules matched as articles are stored, and WARC captures.
  Pages = article pages fetched.
- pipeline (in process): extract → canonical → dedupe → tag → store and match (a fresh SQLite
  file, one transaction per article as in a crawl, the demo's subscribers' rules matched in it by
  alerts.match.StoreTimeMatcher) on the site's article pages, each with its source's
  extraction rules from the demo config, as a crawl gives them; no network.
- trafilatura alone: ``trafilatura.bare_extraction(..., with_metadata=True)`` on the same pages.

Each rate is the median of ``--rounds`` rounds. The machine's load average is printed with the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import trafilatura
from loopback_site import DATA, LoopbackSite

from carewatch.alerts.match import StoreTimeMatcher
from carewatch.core.items import Article
from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import demo_config
from carewatch.demo.server import DemoServer, DemoSites
from carewatch.ops.alerts import match_new
from carewatch.ops.crawl import impolite, run_crawl
from carewatch.ops.database import open_archive
from carewatch.ops.status import archive_counts
from carewatch.pipelines.runner import Stages, run_stages
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from carewatch.store.seen import SqliteSeenIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=14, help="copies of each article page (default 14)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"the shared data folder (default {DATA})")
    args = parser.parse_args()
    site = LoopbackSite(DemoSites.load(), demo_config("http://127.0.0.1:0", 0), copies=args.copies, data=args.data)
    with DemoServer(site.sites) as server, MailSink() as sink:
        config = demo_config(server.proxy_url, sink.port).model_copy(update={"sources": site.config.sources})
        config = impolite(config)
        crawl_rates = []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                db_path = Path(tmp) / "bench.db"
                db = open_db(db_path)
                match_new(db, config)  # the subscribers' cursors: the crawl matches each article as it stores it
                db.close()
                t0 = time.perf_counter()
                run_crawl(config, db_path, log_level="CRITICAL")
                elapsed = time.perf_counter() - t0
                db = open_archive(db_path)
                pages = archive_counts(db).pages_fetched
                db.close()
                crawl_rates.append(pages / elapsed)
    pages_html = site.pages
    # Each page with its source's own extraction rules, as the crawl hands them on.
    rules: dict[str, dict] = {}
    for source in config.sources:
        if source.selectors and source.enabled:
            rules.setdefault(
                urlsplit(source.url).hostname or "", {"selectors": source.selectors.model_dump(exclude_none=True)}
            )

    def article(url: str, html: str) -> Article:
        return Article(
            source_id="bench",
            url=url,
            fetched_at="2026-01-01T00:00:00+00:00",
            html=html,
            extra=rules.get(urlsplit(url).hostname or "", {}),
        )

    stage_times, traf_times = [], []
    for url, html in pages_html:  # warm both up once (imports, regex caches, jusText's stoplists)
        trafilatura.bare_extraction(html, url=url, with_metadata=True)
        run_stages(article(url, html), config)
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            db = open_db(Path(tmp) / "stages.db")
            stages = Stages(config, SqliteSeenIndex(db))  # one de-duplication index a run, as in a crawl
            match_new(db, config)  # cursors, then each article matched in its own transaction, as a crawl does
            matcher = StoreTimeMatcher(config)
            t0 = time.perf_counter()
            for url, html in pages_html:
                save_article(db, stages.run(article(url, html)), on_stored=matcher)
            stage_times.append(time.perf_counter() - t0)
            matched = db.execute("SELECT count(*) FROM alert_matches").fetchone()[0]
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
        f"pages: {pages} article pages fetched by the crawl of {sum(s.enabled for s in config.sources)} sources, "
        f"{n} HTML pages for the in-process runs; median of {args.rounds} rounds"
    )
    print(f"carewatch crawl (whole path)     {crawl:8.1f} pages/s")
    print(
        f"carewatch pipeline (in process)  {stages:8.1f} pages/s   extract, dedupe, tag, store and match "
        f"({matched} matches for the demo's {len(config.alerts.subscribers)} subscribers)"
    )
    print(f"trafilatura alone (baseline)     {traf:8.1f} pages/s   bare_extraction with metadata")
    print(f"ratio crawl / trafilatura        {crawl / traf:8.2f}")
    print(f"ratio pipeline / trafilatura     {stages / traf:8.2f}")
    load = os.getloadavg()
    print(f"load average (1, 5, 15 min)      {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
