"""The archive's health: each source's state from the fetch log, the digests waiting to be
delivered, the daemon's latest runs and the database's size. ``carewatch status`` shows it all
(exit code 1 unless healthy); the daemon's health endpoint gives the same verdict, from the same
function (:func:`problems`). And what the archive holds, counted (the demo's summary, the benchmarks)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from sqlite_utils import Database

from carewatch.alerts.health import Waiting
from carewatch.alerts.subscribers import all_subscribers
from carewatch.config.schema import Config
from carewatch.ops.alerts import outbox
from carewatch.ops.subscriptions import list_subscribers
from carewatch.store.db import database_size, open_db
from carewatch.store.fetches import SourceHealth, count_fetches, source_health
from carewatch.store.jobs import JobSummary, latest_runs, running_jobs
from carewatch.store.meetings import counts as meeting_counts
from carewatch.store.summary import article_count, topic_counts


def problems(sources: list[SourceHealth], waiting: list[Waiting]) -> list[str]:
    """The one health verdict, for ``carewatch status`` (exit 1) and the daemon's ``/health`` (503)
    alike: healthy when this is empty. A source failing or erroring (its feed or listing failed, once
    or ``failing_after`` times in a row) and a digest tried and not delivered are problems; a silent
    source or a failed article page is shown, not counted."""
    out = []
    for h in sources:
        if h.state in ("failing", "erroring"):
            retry = f"; next try {h.next_retry}" if h.next_retry else ""
            out.append(
                f"source {h.source_id} is {h.state}: {h.last_error} "
                f"({h.consecutive_failures} failure(s) in a row{retry})"
            )
    for w in waiting:
        if w.attempts:
            out.append(
                f"digest #{w.delivery_id} for {w.subscriber} {'stuck' if w.stuck else 'not delivered'} "
                f"after {w.attempts} attempt(s): {w.last_error}"
            )
    return out


@dataclass(frozen=True)
class StatusReport:
    sources: list[SourceHealth]  # the most urgent first
    outbox: list[Waiting]  # digests not yet delivered
    jobs: list[JobSummary]  # each daemon job's latest run
    db_path: str
    database_bytes: int
    subscribers: dict[str, int] = field(default_factory=dict)  # "getting digests", "from alerts.yaml", … -> how many

    @property
    def problems(self) -> list[str]:
        return problems(self.sources, self.outbox)

    @property
    def healthy(self) -> bool:
        return not self.problems


def status(config: Config, db: Database, db_path: str | os.PathLike[str]) -> StatusReport:
    """The health of every source, the outbox, the daemon's runs and the size of the database at ``db_path``."""
    return StatusReport(
        sources=source_health(db, config),
        outbox=outbox(db),
        jobs=latest_runs(db),
        db_path=os.fspath(db_path),
        database_bytes=database_size(db_path),
        subscribers=subscriber_counts(config, db),
    )


def subscriber_counts(config: Config, db: Database) -> dict[str, int]:
    """Who gets digests (alerts.yaml's and the signed-up alike, alerts.subscribers), and the
    sign-ups waiting for their owner or the operator."""
    sending = all_subscribers(db, config)
    yaml_ids = {s.id for s in config.alerts.subscribers}
    waiting = Counter(r.status for r in list_subscribers(config, db) if r.status.startswith("awaiting"))
    return {
        "getting digests": len(sending),
        "from alerts.yaml": sum(1 for s in sending if s.id in yaml_ids),
        "signed up": sum(1 for s in sending if s.id not in yaml_ids),
        "awaiting confirmation": waiting["awaiting confirmation"],
        "awaiting approval": waiting["awaiting approval"],
    }


@dataclass(frozen=True)
class HealthCheck:
    """What the daemon's health endpoint reports: ``problems`` are status's (one verdict)."""

    problems: list[str]
    sources: list[SourceHealth]
    outbox: list[Waiting]
    running: list[str]  # jobs running now
    database_bytes: int

    @property
    def ok(self) -> bool:
        return not self.problems


def health_check(config: Config, db_path: str | os.PathLike[str]) -> HealthCheck:
    """The status of the archive at ``db_path`` as the health endpoint answers it."""
    db = open_db(db_path)
    try:
        report = status(config, db, db_path)
        running = running_jobs(db)
    finally:
        db.close()
    return HealthCheck(report.problems, report.sources, report.outbox, running, report.database_bytes)


@dataclass(frozen=True)
class ArchiveCounts:
    """What the archive holds: articles, articles per topic (the most first), pages fetched."""

    articles: int
    topics: dict[str, int]
    pages_fetched: int  # article pages fetched without error (fetch-log rows kept)


def calendar_counts(db: Database) -> dict[str, int]:
    """How many meetings, agenda items, papers, changes and links to press the archive holds."""
    return meeting_counts(db)


def archive_counts(db: Database) -> ArchiveCounts:
    return ArchiveCounts(article_count(db), topic_counts(db), count_fetches(db, "article", "ok"))
