"""The fetch log (one row per fetch attempt) and the source health read from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlite_utils import Database

from core.items import Fetch


def record_fetch(db: Database, fetch: Fetch) -> None:
    row = asdict(fetch)
    row["started"] = row.pop("started_at")
    db["fetches"].insert(row)


@dataclass(frozen=True)
class SourceHealth:
    source_id: str
    state: str  # failing | warning | never | ok
    last_fetch: str | None
    last_error: str | None
    consecutive_failures: int  # failed fetches of the source's own feed or listing, in a row
    failed_pages: int  # article pages that failed in the last run
    fetches: int
    articles: int
    last_new_article: str | None


_ORDER = {"failing": 0, "warning": 1, "never": 2, "ok": 3}


def source_health(db: Database, source_ids: list[str]) -> list[SourceHealth]:
    """Health of each source from the fetch log, failing ones first.

    A source is *failing* when the last fetch of its own feed or listing page failed, and has a
    *warning* when that worked but some of the pages it linked to failed in the same run.
    """
    out = []
    for sid in source_ids:
        index = db.execute(
            "SELECT id, started, status, error_kind, error FROM fetches "
            "WHERE source_id = ? AND role = 'index' ORDER BY id DESC LIMIT 100",
            [sid],
        ).fetchall()
        total, last_fetch = db.execute(
            "SELECT count(*), max(started) FROM fetches WHERE source_id = ?", [sid]
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
        if not index:
            state, last_error = "never", None
        elif failures:
            state, last_error = "failing", f"{index[0][3]}: {index[0][4]}"
        elif page_errors:
            state, last_error = "warning", f"{page_errors[0][0]}: {page_errors[0][1]}"
        else:
            state, last_error = "ok", None
        out.append(SourceHealth(sid, state, last_fetch, last_error, failures, len(page_errors), total,
                                articles, last_new))
    return sorted(out, key=lambda h: (_ORDER[h.state], h.source_id))
