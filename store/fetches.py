"""The fetch log (one row per fetch attempt) and the source health read from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from carewatch.config.schema import Config, Source, duration_seconds
from carewatch.core.items import Fetch
from carewatch.store.db import fetch_all


def record_fetch(db: Database, fetch: Fetch) -> None:
    row = asdict(fetch)
    row["started"] = row.pop("started_at")
    db.table("fetches").insert(row)


@dataclass(frozen=True)
class SourceHealth:
    source_id: str
    state: str  # failing | erroring | silent | warning | never | ok
    last_fetch: str | None
    last_error: str | None
    consecutive_failures: int  # failed fetches of the source's own feed or listing, in a row
    failed_pages: int  # article pages that failed in the last run
    fetches: int
    articles: int
    last_new_article: str | None
    next_retry: str | None  # when the daemon tries a failing source again


_ORDER = {"failing": 0, "erroring": 1, "silent": 2, "warning": 3, "never": 4, "ok": 5}


def retry_after(config: Config, source: Source, failures: int) -> timedelta:
    """When to try a source again after ``failures`` failed crawls in a row: its own interval (a
    cron-scheduled source's is ``crawl_interval_minutes``), doubled for each failure past
    ``failing_after``, capped at ``retry_failing_max_hours``. The daemon schedules the next crawl of
    a source that failed for exactly this (daemon.service), so ``status`` shows what it will do."""
    s = config.settings
    base = source.interval_seconds(s) or s.crawl_interval_minutes * 60
    extra = max(0, failures - s.failing_after)
    return timedelta(seconds=min(base * 2**extra, s.retry_failing_max_hours * 3600))


def source_health(db: Database, config: Config, now: datetime | None = None) -> list[SourceHealth]:
    """Health of each configured source from the fetch log, the most urgent first.

    - failing: its own feed or listing page failed `failing_after` times in a row (retried with
      capped backoff, never dropped); erroring: it failed fewer times than that;
    - silent: it works but nothing new has appeared for longer than its `cadence` (a broken
      selector looks like a quiet week otherwise);
    - warning: it works, but some pages it linked to failed in the last run.
    """
    now = now or datetime.now(UTC)
    out = []
    for source in config.sources:
        sid = source.id
        index = db.execute(
            "SELECT id, started, status, error_kind, error FROM fetches "
            "WHERE source_id = ? AND role = 'index' ORDER BY id DESC LIMIT 100",
            [sid],
        ).fetchall()
        total, last_fetch, first_fetch = db.execute(
            "SELECT count(*), max(started), min(started) FROM fetches WHERE source_id = ?", [sid]
        ).fetchone()
        articles, last_new = db.execute(
            "SELECT count(*), max(first_seen) FROM articles WHERE source_id = ?", [sid]
        ).fetchone()
        failures = 0
        for r in index:
            if r[2] != "error":
                break
            failures += 1
        page_errors = []
        if index:
            page_errors = db.execute(
                "SELECT error_kind, error FROM fetches WHERE source_id = ? AND role = 'article' "
                "AND status = 'error' AND id > ? ORDER BY id DESC",
                [sid, index[0][0]],
            ).fetchall()
        quiet_since = last_new or first_fetch
        silent = bool(quiet_since) and now - datetime.fromisoformat(quiet_since) > timedelta(
            seconds=duration_seconds(source.cadence)
        )
        next_retry = None
        if not index:
            state, last_error = "never", None
        elif failures:
            state = "failing" if failures >= config.settings.failing_after else "erroring"
            last_error = f"{index[0][3]}: {index[0][4]}"
            next_retry = (datetime.fromisoformat(index[0][1]) + retry_after(config, source, failures)).isoformat(
                timespec="seconds"
            )
        elif silent:
            state, last_error = "silent", f"nothing new since {quiet_since[:10]} (cadence {source.cadence})"
        elif page_errors:
            state, last_error = "warning", f"{page_errors[0][0]}: {page_errors[0][1]}"
        else:
            state, last_error = "ok", None
        out.append(
            SourceHealth(
                sid, state, last_fetch, last_error, failures, len(page_errors), total, articles, last_new, next_retry
            )
        )
    return sorted(out, key=lambda h: (_ORDER[h.state], h.source_id))


def due_sources(db: Database, config: Config, now: datetime | None = None) -> list[str]:
    """Enabled sources the daemon should crawl now: all but failing ones still backing off."""
    now = now or datetime.now(UTC)
    retry = {h.source_id: h.next_retry for h in source_health(db, config, now)}
    return [s.id for s in config.sources if s.enabled and not _backing_off(retry[s.id], now)]


def _backing_off(next_retry: str | None, now: datetime) -> bool:
    return next_retry is not None and datetime.fromisoformat(next_retry) > now


@dataclass(frozen=True)
class LoggedFetch:
    """A row of the fetch log."""

    id: int
    source_id: str
    role: str
    url: str
    status: str
    http_status: int | None
    error_kind: str | None
    error: str | None


def last_fetch_id(db: Database) -> int:
    """The fetch log's latest row id (0 when empty): a mark to read what a crawl adds after it."""
    return db.execute("SELECT coalesce(max(id), 0) FROM fetches").fetchone()[0]


def fetches_after(
    db: Database, after_id: int, source_ids: list[str], *, errors_only: bool = False
) -> list[LoggedFetch]:
    """The fetches of these sources logged after row ``after_id`` (only the failed ones with
    ``errors_only``), oldest first: not a parallel crawl's of other sources."""
    return fetch_all(
        db.execute(
            "SELECT id, source_id, role, url, status, http_status, error_kind, error FROM fetches WHERE id > ? "
            + ("AND status = 'error' " if errors_only else "")
            + f"AND source_id IN ({','.join('?' * len(source_ids))}) ORDER BY id",
            [after_id, *source_ids],
        ),
        LoggedFetch,
    )


def failing_since(db: Database, source_id: str) -> str | None:
    """When the source's own feed or listing first failed after its last success (None: it is not failing)."""
    ok = db.execute(
        "SELECT max(started) FROM fetches WHERE source_id = ? AND role = 'index' AND status != 'error'", [source_id]
    ).fetchone()[0]
    return db.execute(
        "SELECT min(started) FROM fetches WHERE source_id = ? AND role = 'index' "
        "AND status = 'error' AND started > coalesce(?, '')",
        [source_id, ok],
    ).fetchone()[0]


def delete_fetches_before(db: Database, cutoff: str) -> int:
    """Delete the fetch-log rows started before ``cutoff``, keeping each source's latest; how many."""
    return db.execute(
        "DELETE FROM fetches WHERE started < ? AND id NOT IN (SELECT max(id) FROM fetches GROUP BY source_id)", [cutoff]
    ).rowcount


def count_fetches(db: Database, role: str, status: str) -> int:
    """Fetches of this role ('index' or 'article') with this status ('ok', 'error', …)."""
    return db.execute("SELECT count(*) FROM fetches WHERE role = ? AND status = ?", [role, status]).fetchone()[0]


@dataclass(frozen=True)
class CrawlProgress:
    """How far a running crawl has got: what it has logged and stored since it started."""

    fetches: int  # requests answered (or failed) so far
    failed: int
    stored: int  # new articles
    oldest: str | None  # the oldest publication date among them (how far back a back-fill has walked)


def crawl_progress(db: Database, after_id: int, source_ids: list[str], started: str) -> CrawlProgress:
    """The progress of a crawl of these sources that began after fetch row ``after_id``, at ``started``."""
    marks = ",".join("?" * len(source_ids))
    fetches, failed = db.execute(
        f"SELECT count(*), coalesce(sum(status = 'error'), 0) FROM fetches WHERE id > ? AND source_id IN ({marks})",
        [after_id, *source_ids],
    ).fetchone()
    stored, oldest = db.execute(
        f"SELECT count(*), min(published) FROM articles WHERE first_seen >= ? AND source_id IN ({marks})",
        [started, *source_ids],
    ).fetchone()
    return CrawlProgress(fetches, failed, stored, oldest)
