"""Run a crawl of some or all sources in a child process and report what it did."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from carewatch.config.schema import Config
from carewatch.core.errors import CarewatchError
from carewatch.core.items import Fetch, utcnow_iso
from carewatch.ops.links import link_new
from carewatch.store.db import open_db
from carewatch.store.fetches import CrawlProgress, crawl_progress, fetches_after, last_fetch_id, record_fetch

RUNNING: set[subprocess.Popen] = set()  # crawl processes of this process, for stop_all()
STOPPING = threading.Event()


def child_limits(memory_mb: int):
    """In the child before it runs: die with the parent (Linux), and cap its address space, so a crawl
    that hangs or blows up cannot outlive or take down the daemon."""

    def limit() -> None:
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        try:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
        except (ValueError, OSError):
            pass

    return limit


def child_env(config: Config) -> dict[str, str]:
    """The environment of a crawl's child process: this one's, with the settings' proxy (if any) for
    every request."""
    env = dict(os.environ)
    if config.settings.http_proxy:
        env.update(http_proxy=config.settings.http_proxy, https_proxy=config.settings.http_proxy)
        env.pop("no_proxy", None)
        env.pop("NO_PROXY", None)
    return env


def stop_all(grace: float = 20.0) -> None:
    """Ask every running crawl to stop (SIGTERM: Scrapy finishes the requests in flight and closes),
    then kill what is still running after ``grace`` seconds. Stored items are kept; the next crawl
    picks up where this one stopped."""
    STOPPING.set()
    procs = list(RUNNING)
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()


@dataclass
class CrawlReport:
    sources: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)  # failed fetches of this run
    returncode: int = 0
    log: list[dict] = field(default_factory=list)  # Scrapy's warnings and errors (level, logger, message), capped
    log_lines: int = 0  # how many there were in all

    @property
    def ok(self) -> bool:
        """No failed fetch, no write the database refused (disk full, I/O error), a clean exit."""
        return not self.errors and not self.counts.get("store_errors") and self.returncode == 0


def impolite(config: Config) -> Config:
    """The configuration with politeness off: no download delay, no AutoThrottle, 16 requests at once
    per host. For benchmarks on loopback sites (bench/pipeline_speed.py), never for real sites, which
    keep the delays of their settings."""
    settings = config.settings.model_copy(
        update={"download_delay": 0.0, "autothrottle": False, "concurrent_requests_per_domain": 16}
    )
    return config.model_copy(update={"settings": settings})


def select_sources(config: Config, source_ids: list[str] | tuple[str, ...] | None) -> list[str]:
    known = [s.id for s in config.sources]
    if not source_ids:
        return [s.id for s in config.sources if s.enabled]
    unknown = [s for s in source_ids if s not in known]
    if unknown:
        raise CarewatchError(f"unknown source {', '.join(unknown)} (configured: {', '.join(known)})")
    return list(source_ids)


def run_crawl(
    config: Config,
    db_path: str | os.PathLike[str],
    source_ids: list[str] | None = None,
    *,
    since: str | None = None,
    log_level: str = "WARNING",
    max_pages: int | None = None,
    progress: Callable[[CrawlProgress], None] | None = None,
) -> CrawlReport:
    """Crawl the sources (all enabled ones by default) through the pipelines into the database.

    With ``since`` (YYYY-MM-DD), back-fill: walk each source's archive back to that date,
    resuming an earlier unfinished back-fill to the same date. ``progress`` is called every few
    seconds while the crawl runs. Scrapy's own log (its warnings: a page near the size limit, ...)
    is collected into the report rather than printed as it comes (``log_level`` INFO or DEBUG: it
    is printed to standard error as it comes, as an operator watching a crawl asks)."""
    ids = select_sources(config, source_ids)
    db = open_db(db_path)  # migrate before the child opens it
    started = utcnow_iso()
    first_id = last_fetch_id(db)
    with tempfile.TemporaryDirectory(prefix="carewatch-crawl-") as tmp:
        job = Path(tmp) / "job.json"
        stats = Path(tmp) / "stats.json"
        log_file = Path(tmp) / "scrapy.log" if log_level.upper() not in ("INFO", "DEBUG") else None
        snapshot = Path(tmp) / "config.json"  # the child uses exactly this config, whatever the YAML says now
        snapshot.write_text(config.model_dump_json(), encoding="utf-8")
        job.write_text(
            json.dumps(
                {
                    "config": str(snapshot),
                    "db": str(db_path),
                    "sources": ids,
                    "stats": str(stats),
                    "log_level": log_level,
                    "since": since,
                    "max_pages": max_pages,
                    "log_file": str(log_file) if log_file else None,
                }
            )
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "carewatch.ops.crawl_process", str(job)],
            env=child_env(config),
            stdin=subprocess.DEVNULL,
            preexec_fn=child_limits(config.settings.crawl_memory_mb),
        )
        RUNNING.add(proc)
        timed_out = False
        try:
            poll = _poll(db, first_id, ids, started, progress) if progress else None
            returncode = _wait(proc, config.settings.crawl_timeout, poll)
            if poll:
                poll()  # the final counts
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            returncode, timed_out = -9, True
            for sid in ids:
                record_fetch(
                    db,
                    Fetch(
                        sid,
                        config.source(sid).url,
                        started,
                        "error",
                        error_kind="timeout",
                        error=f"crawl exceeded {config.settings.crawl_timeout:.0f}s and was stopped",
                    ),
                )
        finally:
            RUNNING.discard(proc)
        counts = json.loads(stats.read_text()) if stats.exists() else {}
        log, log_lines = read_log(log_file) if log_file else ([], 0)
    stopped = returncode in (-15, -9) and STOPPING.is_set()  # the daemon is shutting down: nothing failed
    if returncode != 0 and not stopped and not timed_out:  # a crash, kill -9, the OOM killer
        how = " (killed)" if returncode == -9 else ""
        for sid in ids:
            record_fetch(
                db,
                Fetch(
                    sid,
                    config.source(sid).url,
                    started,
                    "error",
                    error_kind="crash",
                    error=f"crawl process exited with code {returncode}{how}",
                ),
            )
    errors = [
        {
            "source_id": f.source_id,
            "role": f.role,
            "url": f.url,
            "http_status": f.http_status,
            "error_kind": f.error_kind,
            "error": f.error,
        }
        for f in fetches_after(db, first_id, ids, errors_only=True)
    ]  # not a parallel crawl's errors
    if not stopped:  # what was stored is linked, even when a source failed
        linked = link_new(config, db)
        counts = {**counts, "links_added": linked.links_added}
    db.close()
    return CrawlReport(sources=ids, counts=counts, errors=errors, returncode=returncode, log=log, log_lines=log_lines)


POLL_SECONDS = 2.0  # how often a running crawl's progress is read
LOG_KEPT = 100  # Scrapy log records kept in a report
LOG_FORMAT = "%(levelname)s\t%(name)s\t%(message)s"  # the child's log lines (read_log parses them)


def _wait(proc: subprocess.Popen, timeout: float, poll: Callable[[], None] | None) -> int:
    """proc.wait(timeout), calling ``poll`` every POLL_SECONDS meanwhile."""
    if poll is None:
        return proc.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        try:
            return proc.wait(timeout=min(POLL_SECONDS, left))
        except subprocess.TimeoutExpired:
            poll()


def _poll(db, first_id: int, ids: list[str], started: str, progress: Callable[[CrawlProgress], None]):
    def poll() -> None:
        progress(crawl_progress(db, first_id, ids, started))

    return poll


def read_log(path: Path) -> tuple[list[dict], int]:
    """The child's Scrapy log (LOG_FORMAT): its first LOG_KEPT records, and how many there were."""
    records: list[dict] = []
    count = 0
    if not path.exists():
        return records, count
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) == 3 and parts[0] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
                count += 1
                if len(records) < LOG_KEPT:
                    records.append({"level": parts[0], "logger": parts[1], "message": parts[2]})
            elif records and count <= LOG_KEPT:  # a traceback's lines belong to the record above
                records[-1]["message"] += "\n" + line.rstrip("\n")
    return records, count
