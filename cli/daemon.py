"""``carewatch run``: the daemon. APScheduler 3.x runs the crawl on an interval (each crawl in
its own child process, see cli.crawl_process) and checks for due digests every few minutes.
Jobs are rebuilt from the config at start-up; all state lives in the SQLite archive."""

from __future__ import annotations

import logging
import signal
from datetime import datetime, timezone

from apscheduler.schedulers.blocking import BlockingScheduler

from alerts.outbox import send_alerts
from cli.crawl import run_crawl
from config.schema import Config
from store.db import open_db
from store.fetches import due_sources

log = logging.getLogger("carewatch.daemon")


def _crawl(config: Config, db_path: str) -> None:
    try:
        db = open_db(db_path)
        due = due_sources(db, config)  # failing sources wait out their backoff, then are retried
        db.close()
        if not due:
            return
        report = run_crawl(config, db_path, due)
        log.info("crawl: %s; %d failed fetch(es)", report.counts, len(report.errors))
    except Exception:  # a daemon job never raises: log it and wait for the next run
        log.exception("crawl failed")
    _alerts(config, db_path)


def _alerts(config: Config, db_path: str) -> None:
    try:
        db = open_db(db_path)
        for r in send_alerts(config, db):
            log.info("digest %s to %s: %s", r.status, r.address, r.error or r.subject)
        db.close()
    except Exception:
        log.exception("sending alerts failed")


def run_daemon(config: Config, db_path: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scheduler = BlockingScheduler(timezone=timezone.utc)
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 3600}
    scheduler.add_job(_crawl, "interval", args=[config, db_path], minutes=config.settings.crawl_interval_minutes,
                      next_run_time=datetime.now(timezone.utc), id="crawl", **common)
    scheduler.add_job(_alerts, "interval", args=[config, db_path], minutes=5, id="alerts", **common)

    def _stop(signum: int, frame: object) -> None:
        log.info("signal %d: stopping after running jobs finish", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, _stop)
    log.info("carewatch daemon: %d sources every %d min; database %s", len(config.sources),
             config.settings.crawl_interval_minutes, db_path)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
