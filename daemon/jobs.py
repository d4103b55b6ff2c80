"""What the daemon's scheduled jobs do: crawl one source, send the digests that are due, and keep
house (fetch-log retention, operator notices). Each run is recorded in ``job_runs``; a job never
raises (an error is logged and recorded, and the next run comes as scheduled)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlite_utils import Database

from carewatch.alerts.channels import send_apprise
from carewatch.alerts.email import send_email
from carewatch.alerts.health import outbox
from carewatch.alerts.outbox import send_alerts
from carewatch.ops.crawl import STOPPING, run_crawl
from carewatch.config.schema import Config
from carewatch.core.errors import NotifyError
from carewatch.core.items import utcnow, utcnow_iso
from carewatch.daemon.logs import event
from carewatch.store.db import open_db
from carewatch.store.fetches import source_health


def _start(db: Database, job: str) -> int:
    return db["job_runs"].insert({"job": job, "started": utcnow_iso(), "status": "running"}).last_pk


def _finish(db: Database, run_id: int, status: str, detail: str = "") -> None:
    db["job_runs"].update(run_id, {"finished": utcnow_iso(), "status": status, "detail": detail[:2000]})


def crawl_source(config: Config, db_path: str, source_id: str) -> None:
    if STOPPING.is_set():  # queued before the daemon was told to stop: do not start it
        return
    db = open_db(db_path)
    run_id = _start(db, f"crawl:{source_id}")
    first_fetch = db.execute("SELECT coalesce(max(id), 0) FROM fetches").fetchone()[0]
    first_article = db.execute("SELECT coalesce(max(rowid), 0) FROM articles").fetchone()[0]
    try:
        report = run_crawl(config, db_path, [source_id])
        for fid, role, url, status, http, kind, error in db.execute(
                "SELECT id, role, url, status, http_status, error_kind, error FROM fetches WHERE id > ? AND source_id = ?",
                [first_fetch, source_id]).fetchall():
            event("fetch", logging.WARNING if status == "error" else logging.INFO, source=source_id, role=role,
                  url=url, status=status, http_status=http, error_kind=kind, error=error)
        for aid, url, title in db.execute("SELECT article_id, url, title FROM articles WHERE rowid > ? AND source_id = ?",
                                          [first_article, source_id]).fetchall():
            event("stored", source=source_id, article_id=aid, url=url, title=title)
        stopped = STOPPING.is_set() and report.returncode != 0
        problems = [e["error"] or "" for e in report.errors[:5]]
        if report.counts.get("store_errors"):  # writes the database refused (disk full, I/O error)
            problems.insert(0, f"{report.counts['store_errors']} write(s) to the database failed")
        status = "stopped" if stopped else ("ok" if report.ok else "error")
        _finish(db, run_id, status, "; ".join(problems))
        event("crawl", source=source_id, status=status, counts=report.counts, failed_fetches=len(report.errors))
    except Exception as e:  # noqa: BLE001 - a job never takes the daemon down
        _finish(db, run_id, "error", repr(e))
        event("crawl failed", logging.ERROR, source=source_id, error=repr(e))
    finally:
        db.close()


def send_digests(config: Config, db_path: str) -> None:
    db = open_db(db_path)
    run_id = _start(db, "digests")
    try:
        results = send_alerts(config, db)
        for r in results:
            event("delivery", logging.WARNING if r.status != "sent" else logging.INFO, subscriber=r.subscriber,
                  address=r.address, delivery_id=r.delivery_id, status=r.status, stories=len(r.articles),
                  subject=r.subject, error=r.error)
        _finish(db, run_id, "ok" if all(r.status == "sent" for r in results) else "error", f"{len(results)} digest(s)")
    except Exception as e:  # noqa: BLE001
        _finish(db, run_id, "error", repr(e))
        event("digests failed", logging.ERROR, error=repr(e))
    finally:
        db.close()


def housekeeping(config: Config, db_path: str, now: datetime | None = None) -> None:
    """Delete old fetch-log rows (keeping each source's latest) and tell the operator what needs a person."""
    now = now or utcnow()
    db = open_db(db_path)
    run_id = _start(db, "housekeeping")
    try:
        cutoff = (now - timedelta(days=config.settings.fetch_retention_days)).isoformat(timespec="seconds")
        with db.atomic():
            gone = db.execute(
                "DELETE FROM fetches WHERE started < ? AND id NOT IN (SELECT max(id) FROM fetches GROUP BY source_id)",
                [cutoff]).rowcount
            db.execute("DELETE FROM job_runs WHERE started < ?", [cutoff])
        if gone:
            event("retention", deleted_fetches=gone, older_than=cutoff)
        notify_operator(config, db, now)
        _finish(db, run_id, "ok")
    except Exception as e:  # noqa: BLE001
        _finish(db, run_id, "error", repr(e))
        event("housekeeping failed", logging.ERROR, error=repr(e))
    finally:
        db.close()


def operator_problems(config: Config, db: Database, now: datetime) -> list[tuple[str, str]]:
    """(key, message) for each thing a person must look at: a source failing for longer than
    ``source_failing_hours``, a digest undelivered for longer than ``digest_stuck_hours``."""
    op = config.settings.operator
    if op is None:
        return []
    out = []
    for h in source_health(db, config):
        if h.state not in ("failing", "erroring"):
            continue
        ok = db.execute("SELECT max(started) FROM fetches WHERE source_id = ? AND role = 'index' AND status != 'error'",
                        [h.source_id]).fetchone()[0]
        first_fail = db.execute("SELECT min(started) FROM fetches WHERE source_id = ? AND role = 'index' "
                                "AND status = 'error' AND started > coalesce(?, '')", [h.source_id, ok]).fetchone()[0]
        if first_fail and datetime.fromisoformat(first_fail) <= now - timedelta(hours=op.source_failing_hours):
            out.append((f"source:{h.source_id}:{first_fail}",
                        f"Source {h.source_id} has failed since {first_fail}: {h.last_error}"))
    for w in outbox(db):
        if w.attempts and datetime.fromisoformat(w.created) <= now - timedelta(hours=op.digest_stuck_hours):
            out.append((f"digest:{w.delivery_id}", f"Digest #{w.delivery_id} for {w.subscriber} via {w.address} "
                        f"is undelivered since {w.created} after {w.attempts} attempt(s): {w.last_error}"))
    return out


def notify_operator(config: Config, db: Database, now: datetime) -> int:
    """Tell the operator about new problems (each once), through the same channels as digests."""
    op = config.settings.operator
    new = [(k, m) for k, m in operator_problems(config, db, now)
           if not db.execute("SELECT 1 FROM operator_notices WHERE key = ?", [k]).fetchone()]
    if not new or op is None:
        return 0
    from email.message import EmailMessage

    body = "carewatch needs a person:\n\n" + "\n".join(f"- {m}" for _, m in new) + \
        "\n\nRun `carewatch status` on the server for details."
    title = f"carewatch: {len(new)} problem(s) need attention"
    try:
        if op.email:
            msg = EmailMessage()
            msg["Subject"], msg["From"], msg["To"] = title, config.settings.smtp.sender, op.email
            msg.set_content(body)
            send_email(config.settings.smtp, msg)
        for url in op.channels:
            send_apprise(url, title, body)
    except NotifyError as e:
        event("operator notice failed", logging.ERROR, error=str(e))
        return 0
    with db.atomic():
        for k, m in new:
            db["operator_notices"].insert({"key": k, "sent": now.isoformat(timespec="seconds"), "message": m},
                                          replace=True)
    event("operator notified", problems=[m for _, m in new])
    return len(new)

