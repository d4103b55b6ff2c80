"""The daemon's scheduled jobs as services: crawl one source, send the digests that are due (the
hourly housekeeping is carewatch.ops.housekeeping), and the schedule state they leave behind.

Each run is recorded in ``job_runs`` (running, then ok, error or stopped, with a detail); a job
never raises: an error is recorded and reported through the ``log`` callback (the daemon's
structured log), and the next run comes as scheduled. A source's next run after a start is its
last run plus its interval: :func:`last_started` reads it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlite_utils import Database

from carewatch.alerts.subscribers import all_subscribers
from carewatch.config.schema import Config
from carewatch.core.items import utcnow_iso
from carewatch.ops.alerts import send_alerts
from carewatch.ops.crawl import STOPPING, run_crawl
from carewatch.store import jobs as job_runs
from carewatch.store.db import open_db
from carewatch.store.fetches import fetches_after, last_fetch_id, source_health
from carewatch.store.summary import article_count, articles_stored_after, last_article_mark


class EventLog(Protocol):
    """Where a job reports what it did: an event name, a logging level and the event's fields."""

    def __call__(self, name: str, level: int = logging.INFO, **fields: object) -> None: ...


def quiet(name: str, level: int = logging.INFO, **fields: object) -> None:
    """An EventLog that reports nothing."""


@dataclass(frozen=True)
class JobOutcome:
    """How a run ended, as recorded in job_runs."""

    job: str
    status: str  # ok | error | stopped
    detail: str
    retry_at: datetime | None = None  # a crawl of a source now failing or erroring: when to try it again
    stored: int = 0  # a crawl: the articles it stored (new rows)


class RecordedRun:
    """A run of a job, recorded as running until :meth:`finish`; ``db`` is the archive it works on."""

    def __init__(self, db: Database, job: str) -> None:
        self.db = db
        self.job = job
        self.run_id = job_runs.start_run(db, job, utcnow_iso())
        self.outcome: JobOutcome | None = None

    def finish(self, status: str, detail: str = "", retry_at: datetime | None = None, stored: int = 0) -> None:
        job_runs.finish_run(self.db, self.run_id, status, detail, utcnow_iso())
        self.outcome = JobOutcome(self.job, status, detail, retry_at, stored)


@contextlib.contextmanager
def recorded_run(db_path: str, job: str, log: EventLog, failed_event: str, **fields: object) -> Iterator[RecordedRun]:
    """Open the archive and record a run of ``job``; an exception in the block is recorded as the
    run's error and logged as ``failed_event`` (with ``fields``), never raised."""
    db = open_db(db_path)
    run = RecordedRun(db, job)
    try:
        yield run
    except Exception as e:
        run.finish("error", repr(e))
        log(failed_event, logging.ERROR, **fields, error=repr(e))
    finally:
        db.close()


def crawl_source(config: Config, db_path: str, source_id: str, log: EventLog = quiet) -> JobOutcome | None:
    """Crawl one source (in a child process), logging each fetch and each article stored; None when
    the daemon is stopping (a run queued before it was told to stop does not start)."""
    if STOPPING.is_set():
        return None
    with recorded_run(db_path, f"crawl:{source_id}", log, "crawl failed", source=source_id) as run:
        first_fetch, first_article = last_fetch_id(run.db), last_article_mark(run.db)
        report = run_crawl(config, db_path, [source_id])
        for f in fetches_after(run.db, first_fetch, [source_id]):
            log(
                "fetch",
                logging.WARNING if f.status == "error" else logging.INFO,
                source=source_id,
                role=f.role,
                url=f.url,
                status=f.status,
                http_status=f.http_status,
                error_kind=f.error_kind,
                error=f.error,
            )
        stored = articles_stored_after(run.db, first_article, source_id)
        for a in stored:
            log("stored", source=source_id, article_id=a.article_id, url=a.url, title=a.title)
        for r in report.log:  # Scrapy's own warnings and errors, into the structured log
            log(
                "scrapy",
                getattr(logging, r["level"], logging.WARNING),
                source=source_id,
                logger=r["logger"],
                message=r["message"],
            )
        stopped = STOPPING.is_set() and report.returncode != 0
        problems = [e["error"] or "" for e in report.errors[:5]]
        if report.counts.get("store_errors"):  # writes the database refused (disk full, I/O error)
            problems.insert(0, f"{report.counts['store_errors']} write(s) to the database failed")
        status = "stopped" if stopped else ("ok" if report.ok else "error")
        run.finish(status, "; ".join(problems), _retry_times(run.db, config).get(source_id), len(stored))
        log("crawl", source=source_id, status=status, counts=report.counts, failed_fetches=len(report.errors))
    return run.outcome


def digests_due_now(config: Config, crawl: JobOutcome | None, db_path: str | None = None) -> bool:
    """Whether a crawl's outcome calls for the digest job at once rather than at its next tick: it
    stored articles and a subscriber (of alerts.yaml, or signed up: alerts.subscribers) wants them
    immediately (their rules decide the rest)."""
    if not (crawl and crawl.stored):
        return False
    if db_path is None or any(s.frequency == "immediate" for s in config.alerts.subscribers):
        return any(s.frequency == "immediate" for s in config.alerts.subscribers)
    db = open_db(db_path)  # only when alerts.yaml has no immediate subscriber: a signed-up one may
    try:
        return any(s.frequency == "immediate" for s in all_subscribers(db, config))
    finally:
        db.close()


def send_digests(config: Config, db_path: str, log: EventLog = quiet) -> JobOutcome | None:
    """Send the digests that are due (and retry unsent ones), logging each delivery."""
    with recorded_run(db_path, "digests", log, "digests failed") as run:
        results = send_alerts(config, run.db)
        for r in results:
            log(
                "delivery",
                logging.WARNING if r.status != "sent" else logging.INFO,
                subscriber=r.subscriber,
                address=r.address,
                delivery_id=r.delivery_id,
                status=r.status,
                articles=r.article_count,
                stories=len(r.articles),
                subject=r.subject,
                error=r.error,
            )
        run.finish("ok" if all(r.status == "sent" for r in results) else "error", f"{len(results)} digest(s)")
    return run.outcome


def _retry_times(db: Database, config: Config) -> dict[str, datetime]:
    return {h.source_id: datetime.fromisoformat(h.next_retry) for h in source_health(db, config) if h.next_retry}


def retry_times(config: Config, db_path: str) -> dict[str, datetime]:
    """When each failing or erroring source is to be tried again (store.fetches.retry_after): the
    daemon schedules those crawls for then, and ``status`` shows the same time."""
    db = open_db(db_path)
    try:
        return _retry_times(db, config)
    finally:
        db.close()


def last_started(db_path: str, job: str) -> str | None:
    """When ``job`` last started (ISO 8601; None: never)."""
    db = open_db(db_path)
    try:
        return job_runs.last_started(db, job)
    finally:
        db.close()


def mark_interrupted_runs(db_path: str) -> int:
    """At a daemon's start (the archive migrated first): the runs a killed daemon left running are
    marked interrupted (one daemon per database); how many."""
    db = open_db(db_path)
    try:
        return job_runs.mark_interrupted(
            db, f"the daemon stopped before this run finished (killed or crashed); found at the start at {utcnow_iso()}"
        )
    finally:
        db.close()


@dataclass(frozen=True)
class RunHistory:
    """What the daemon has done so far, as job_runs and the archive say (read while it runs)."""

    finished_crawls: int
    errors: int  # runs of any job that ended in error
    articles: int
    errors_by_job: list[job_runs.JobErrors]


def run_history(db_path: str) -> RunHistory:
    """The daemon's runs so far, read without writing (the archive must exist)."""
    db = open_db(db_path, read_only=True)
    try:
        counts = job_runs.run_counts(db)
        return RunHistory(counts.finished_crawls, counts.errors, article_count(db), job_runs.errors_by_job(db))
    finally:
        db.close()


def crawls_started_since(db_path: str, since: str) -> int:
    """Crawl runs started at or after ``since`` (ISO 8601 UTC to the second), read without writing."""
    db = open_db(db_path, read_only=True)
    try:
        return job_runs.crawls_started_since(db, since)
    finally:
        db.close()
