"""The daemon's own records: one ``job_runs`` row per scheduled run (its schedule state: a source's
next run is its last start plus its interval), the runs a killed daemon left ``running``, the
``operator_notices`` already sent (each problem is told once), and the retention of old runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlite_utils import Database

from carewatch.store.db import fetch_all


@dataclass(frozen=True)
class JobSummary:
    """A job's latest run: when it started and its status."""

    job: str
    last_started: str
    status: str


@dataclass(frozen=True)
class JobErrors:
    """A job's failed runs: how many, and the (alphabetically) last detail."""

    job: str
    errors: int
    detail: str | None


@dataclass(frozen=True)
class RunCounts:
    """Finished crawl runs and failed runs of any job."""

    finished_crawls: int
    errors: int


def start_run(db: Database, job: str, started: str) -> int:
    """Record a run of ``job`` as running; its id."""
    return cast(int, db.table("job_runs").insert({"job": job, "started": started, "status": "running"}).last_pk)


def finish_run(db: Database, run_id: int, status: str, detail: str, finished: str) -> None:
    db.table("job_runs").update(run_id, {"finished": finished, "status": status, "detail": detail[:2000]})


def last_started(db: Database, job: str) -> str | None:
    """When ``job`` last started (None: never)."""
    return db.execute("SELECT max(started) FROM job_runs WHERE job = ?", [job]).fetchone()[0]


def mark_interrupted(db: Database, detail: str) -> int:
    """Mark the runs still ``running`` (a killed daemon's: one daemon per database) as interrupted; how many."""
    with db.atomic():
        return db.execute(
            "UPDATE job_runs SET status = 'interrupted', detail = ? WHERE status = 'running'", [detail]
        ).rowcount


def running_jobs(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT job FROM job_runs WHERE status = 'running'").fetchall()]


def latest_runs(db: Database) -> list[JobSummary]:
    """Each job's latest run, by job name."""
    return fetch_all(
        db.execute("SELECT job, max(started) AS last_started, status FROM job_runs GROUP BY job ORDER BY job"),
        JobSummary,
    )


def delete_runs_before(db: Database, cutoff: str) -> int:
    """Delete the runs started before ``cutoff``; how many."""
    return db.execute("DELETE FROM job_runs WHERE started < ?", [cutoff]).rowcount


def run_counts(db: Database) -> RunCounts:
    finished = db.execute("SELECT count(*) FROM job_runs WHERE finished IS NOT NULL AND job LIKE 'crawl:%'").fetchone()[
        0
    ]
    errors = db.execute("SELECT count(*) FROM job_runs WHERE status = 'error'").fetchone()[0]
    return RunCounts(finished, errors)


def errors_by_job(db: Database) -> list[JobErrors]:
    """The failed runs per job, most first."""
    return fetch_all(
        db.execute(
            "SELECT job, count(*) AS errors, max(detail) AS detail FROM job_runs "
            "WHERE status = 'error' GROUP BY job ORDER BY count(*) DESC"
        ),
        JobErrors,
    )


def crawls_started_since(db: Database, since: str) -> int:
    """Crawl runs started at or after ``since`` (ISO 8601 UTC to the second)."""
    return db.execute("SELECT count(*) FROM job_runs WHERE job LIKE 'crawl:%' AND started >= ?", [since]).fetchone()[0]


def notice_sent(db: Database, key: str) -> bool:
    """Whether the operator was already told about the problem ``key``."""
    return db.execute("SELECT 1 FROM operator_notices WHERE key = ?", [key]).fetchone() is not None


def record_notices(db: Database, notices: list[tuple[str, str]], sent: str) -> None:
    """Record the (key, message) notices as sent at ``sent``."""
    with db.atomic():
        for key, message in notices:
            db.table("operator_notices").insert({"key": key, "sent": sent, "message": message}, replace=True)
