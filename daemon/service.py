"""``carewatch run``: the daemon.

APScheduler 3.x (BackgroundScheduler, a pool of ``max_parallel_crawls`` threads) runs one job per
source on the source's own schedule (``every 15m`` or a cron line, Europe/London, with jitter), a
digest job every ``alerts_check_seconds`` (each subscriber's own due times are kept by the alerts
package), and hourly housekeeping; what the jobs do is carewatch.ops.jobs and ops.housekeeping, and
they report it to the structured log (daemon.logs). Each crawl runs in its own child process
(ops.crawl), so a hang is killed at ``crawl_timeout``, a memory blow-up hits the child's
``crawl_memory_mb`` limit, and a crash is recorded: the daemon goes on.

Schedule state lives in carewatch's own SQLite (``job_runs``), not in APScheduler's SQLAlchemy job
store: the jobs are rebuilt from the YAML at every start and on every reload, so the YAML stays the
one place schedules are edited, and each source's first run after a start is its last run plus its
interval (missed runs after downtime are coalesced into one, never a stampede). One job per source
with ``max_instances=1`` means a source never overlaps itself. A source whose crawl failed is next
crawled at the time its retry backoff gives (store.fetches.retry_after), and not before, so the
"next try" ``carewatch status`` shows is the run the daemon has scheduled.

One daemon per archive: it holds the archive's lock (ops.lock) while it runs, so a second
``carewatch run`` on the same database, or a ``carewatch restore`` of it, refuses and names its pid.
``GET /health`` and ``GET /metrics`` are served on ``health_port`` (daemon.health, daemon.metrics).

Signals: SIGTERM or SIGINT stops cleanly (no new runs; running crawls are asked to stop, killed
after a grace period; items already stored stay, the next start resumes), exit code 0. SIGHUP
re-reads the config folder: a valid one replaces the jobs, an invalid one is rejected (logged with
its file, line and field) and the old one keeps running.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from carewatch.config import load_config
from carewatch.config.schema import Config, Source
from carewatch.core.errors import CarewatchError, ConfigError
from carewatch.daemon.health import HealthServer
from carewatch.daemon.logs import event, setup_logging
from carewatch.daemon.metrics import Metrics
from carewatch.ops.crawl import stop_all
from carewatch.ops.housekeeping import housekeeping
from carewatch.ops.jobs import (
    crawl_source,
    digests_due_now,
    last_started,
    mark_interrupted_runs,
    retry_times,
    send_digests,
)
from carewatch.ops.lock import ArchiveLock
from carewatch.ops.status import health_check

LONDON = ZoneInfo("Europe/London")  # cron schedules are UK time, as the digests' due times are


def trigger_for(source: Source, config: Config):
    jitter = config.settings.schedule_jitter_seconds or None
    seconds = source.interval_seconds(config.settings)
    if seconds is None:
        return CronTrigger.from_crontab(source.schedule, timezone=LONDON), None
    return IntervalTrigger(seconds=seconds, jitter=jitter, timezone=UTC), seconds


class Daemon:
    def __init__(self, config: Config, db_path: str) -> None:
        self.config = config
        self.db_path = db_path
        self.stop_event = threading.Event()
        self.reload_event = threading.Event()
        self.scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(config.settings.max_parallel_crawls),
                "light": ThreadPoolExecutor(2),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self.health: HealthServer | None = None
        self.metrics = Metrics(lambda: health_check(self.config, self.db_path))

    def log(self, name: str, level: int = logging.INFO, **fields: object) -> None:
        """The jobs' event log: the JSON log (daemon.logs), and counted for /metrics."""
        event(name, level, **fields)
        self.metrics.observe(name, **fields)

    # -- jobs ---------------------------------------------------------------------------------
    def _first_run(self, job: str, seconds: float | None, now: datetime) -> datetime:
        """Last run + interval, or now: a restart neither repeats a fresh crawl nor loses a due one."""
        last = last_started(self.db_path, job)
        if not last or seconds is None:
            return now + timedelta(seconds=random.uniform(0, min(5.0, self.config.settings.schedule_jitter_seconds)))
        return max(now, datetime.fromisoformat(last) + timedelta(seconds=seconds))

    def _crawl(self, config: Config, source_id: str) -> None:
        """Crawl one source; when it is failing or erroring now, its next crawl is moved to the time
        the retry backoff gives (ops.jobs.retry_times: what ``status`` shows as "next try"). When it
        stored articles an immediate subscriber may want, the digest job runs now, not at its tick."""
        outcome = crawl_source(config, self.db_path, source_id, log=self.log)
        if digests_due_now(config, outcome, self.db_path) and not self.stop_event.is_set():
            try:
                self.scheduler.modify_job("digests", next_run_time=datetime.now(UTC))
            except JobLookupError:  # stopping, or a reload is rebuilding the jobs
                pass
        if outcome and outcome.retry_at and not self.stop_event.is_set():
            try:
                self.scheduler.modify_job(f"crawl:{source_id}", next_run_time=max(outcome.retry_at, datetime.now(UTC)))
            except JobLookupError:  # a reload removed the source meanwhile
                pass

    def build_jobs(self) -> None:
        config, now = self.config, datetime.now(UTC)
        retry = retry_times(config, self.db_path)
        self.scheduler.remove_all_jobs()
        for source in config.sources:
            if not source.enabled:
                continue
            trigger, seconds = trigger_for(source, config)
            job = f"crawl:{source.id}"
            first = self._first_run(job, seconds, now) if seconds else None
            if source.id in retry:  # failing or erroring: not before its retry
                first = max(first or now, retry[source.id])
            kwargs = {"next_run_time": first} if first else {}
            self.scheduler.add_job(
                self._crawl,
                trigger,
                args=[config, source.id],
                id=job,
                name=job,
                replace_existing=True,
                **kwargs,
            )
        self.scheduler.add_job(
            send_digests,
            IntervalTrigger(seconds=config.settings.alerts_check_seconds),
            args=[config, self.db_path],
            kwargs={"log": self.log},
            id="digests",
            name="digests",
            executor="light",
            next_run_time=now + timedelta(seconds=1),
            replace_existing=True,
        )
        self.scheduler.add_job(
            housekeeping,
            IntervalTrigger(hours=1),
            args=[config, self.db_path],
            kwargs={"log": self.log},
            id="housekeeping",
            name="housekeeping",
            executor="light",
            next_run_time=now + timedelta(seconds=30),
            replace_existing=True,
        )

    def next_runs(self) -> dict[str, str]:
        return {
            j.id: j.next_run_time.isoformat(timespec="seconds") for j in self.scheduler.get_jobs() if j.next_run_time
        }

    # -- life cycle ---------------------------------------------------------------------------
    def reload(self) -> bool:
        try:
            new = load_config(self.config.directory)
        except ConfigError as e:
            event("config rejected", logging.ERROR, error=str(e), keeping=self.config.directory)
            return False
        self.config = new
        self.build_jobs()
        if self.health:
            self.health.config = new
        event("config reloaded", sources=sum(s.enabled for s in new.sources), jobs=len(self.scheduler.get_jobs()))
        return True

    def run(self) -> int:
        """Run until SIGTERM or SIGINT; ArchiveBusy (before anything is written) when another
        daemon or a restore holds the archive, CarewatchError when the health port is taken."""
        with ArchiveLock(self.db_path, "daemon"):
            return self._run()

    def _start_health(self, port: int) -> HealthServer:
        try:
            return HealthServer(self, port)
        except OSError as e:
            raise CarewatchError(
                f"health_port {port}: cannot listen on 127.0.0.1:{port} ({e.strerror}): another program "
                "has it; set health_port in settings.yaml (0 picks a free port, null turns it off)"
            ) from e

    def _run(self) -> int:
        if self.config.settings.health_port is not None:
            self.health = self._start_health(self.config.settings.health_port)
        setup_logging(self.config.settings)
        interrupted = mark_interrupted_runs(self.db_path)  # the archive migrated before any job
        signal.signal(signal.SIGTERM, lambda *_: self.stop_event.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop_event.set())
        signal.signal(signal.SIGHUP, lambda *_: self.reload_event.set())
        self.build_jobs()
        if self.health:
            self.health.start()
        self.scheduler.start()
        if interrupted:
            event("interrupted runs", logging.WARNING, runs=interrupted)
        event(
            "daemon started",
            sources=sum(s.enabled for s in self.config.sources),
            database=self.db_path,
            health=f"http://127.0.0.1:{self.health.port}/health" if self.health else None,
        )
        while not self.stop_event.is_set():
            if self.reload_event.wait(timeout=0.5):
                self.reload_event.clear()
                self.reload()
        event("daemon stopping")
        self.scheduler.pause()
        stop_all(grace=20)
        self.scheduler.shutdown(wait=True)
        if self.health:
            self.health.stop()
        event("daemon stopped")
        return 0


def run_daemon(config: Config, db_path: str) -> int:
    return Daemon(config, db_path).run()
