"""The archive's health: each source's state from the fetch log, the digests waiting to be
delivered, the daemon's latest runs and the database's size. ``carewatch status`` shows it all
(exit code 1 unless healthy); the daemon's health endpoint answers a narrower check. And what the
archive holds, counted (the demo's summary, the benchmarks)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.alerts.health import Waiting
from carewatch.config.schema import Config
from carewatch.ops.alerts import outbox
from carewatch.store.db import database_size, open_db
from carewatch.store.fetches import SourceHealth, count_fetches, source_health
from carewatch.store.jobs import JobSummary, latest_runs, running_jobs
from carewatch.store.summary import article_count, topic_counts


@dataclass(frozen=True)
class StatusReport:
    sources: list[SourceHealth]  # the most urgent first
    outbox: list[Waiting]  # digests not yet delivered
    jobs: list[JobSummary]  # each daemon job's latest run
    db_path: str
    database_bytes: int

    @property
    def healthy(self) -> bool:
        """No source failing or erroring, no waiting digest that has been tried and failed."""
        return not any(h.state in ("failing", "erroring") for h in self.sources) and not any(
            w.attempts for w in self.outbox
        )


def status(config: Config, db: Database, db_path: str | os.PathLike[str]) -> StatusReport:
    """The health of every source, the outbox, the daemon's runs and the size of the database at ``db_path``."""
    return StatusReport(
        sources=source_health(db, config),
        outbox=outbox(db),
        jobs=latest_runs(db),
        db_path=os.fspath(db_path),
        database_bytes=database_size(db_path),
    )


@dataclass(frozen=True)
class HealthCheck:
    """What the daemon's health endpoint reports: ``problems`` are what needs a person now."""

    problems: list[str]
    sources: list[SourceHealth]
    outbox: list[Waiting]
    running: list[str]  # jobs running now
    database_bytes: int

    @property
    def ok(self) -> bool:
        return not self.problems


def health_check(config: Config, db_path: str | os.PathLike[str]) -> HealthCheck:
    """A source failing (not merely erroring) or a stuck digest is a problem."""
    db = open_db(db_path)
    try:
        sources = source_health(db, config)
        waiting = outbox(db)
        running = running_jobs(db)
    finally:
        db.close()
    problems = [f"source {h.source_id} is {h.state}: {h.last_error}" for h in sources if h.state == "failing"]
    problems += [f"digest #{w.delivery_id} for {w.subscriber} stuck: {w.last_error}" for w in waiting if w.stuck]
    return HealthCheck(problems, sources, waiting, running, database_size(db_path))


@dataclass(frozen=True)
class ArchiveCounts:
    """What the archive holds: articles, articles per topic (the most first), pages fetched."""

    articles: int
    topics: dict[str, int]
    pages_fetched: int  # article pages fetched without error (fetch-log rows kept)


def archive_counts(db: Database) -> ArchiveCounts:
    return ArchiveCounts(article_count(db), topic_counts(db), count_fetches(db, "article", "ok"))
