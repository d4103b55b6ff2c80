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
from dataclasses import dataclass, field
from pathlib import Path

from carewatch.config.schema import Config
from carewatch.core.errors import CarewatchError
from carewatch.core.items import Fetch, utcnow_iso
from carewatch.store.db import open_db
from carewatch.store.fetches import fetches_after, last_fetch_id, record_fetch

RUNNING: set[subprocess.Popen] = set()  # crawl processes of this process, for stop_all()
STOPPING = threading.Event()


def _child_limits(memory_mb: int):
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

    @property
    def ok(self) -> bool:
        """No failed fetch, no write the database refused (disk full, I/O error), a clean exit."""
        return not self.errors and not self.counts.get("store_errors") and self.returncode == 0


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
) -> CrawlReport:
    """Crawl the sources (all enabled ones by default) through the pipelines into the database.

    With ``since`` (YYYY-MM-DD), back-fill: walk each source's archive back to that date,
    resuming an earlier unfinished back-fill to the same date."""
    ids = select_sources(config, source_ids)
    db = open_db(db_path)  # migrate before the child opens it
    started = utcnow_iso()
    first_id = last_fetch_id(db)
    with tempfile.TemporaryDirectory(prefix="carewatch-crawl-") as tmp:
        job = Path(tmp) / "job.json"
        stats = Path(tmp) / "stats.json"
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
                }
            )
        )
        env = dict(os.environ)
        if config.settings.http_proxy:
            env.update(http_proxy=config.settings.http_proxy, https_proxy=config.settings.http_proxy)
            env.pop("no_proxy", None)
            env.pop("NO_PROXY", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "carewatch.ops.crawl_process", str(job)],
            env=env,
            stdin=subprocess.DEVNULL,
            preexec_fn=_child_limits(config.settings.crawl_memory_mb),
        )
        RUNNING.add(proc)
        timed_out = False
        try:
            returncode = proc.wait(timeout=config.settings.crawl_timeout)
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
    db.close()
    return CrawlReport(sources=ids, counts=counts, errors=errors, returncode=returncode)
