"""Housekeeping, the daemon's hourly job: delete old fetch-log rows and job runs (keeping each
source's latest fetch), expired link tokens and old sign-up attempts, and tell the operator, once
each, about what needs a person — a source failing for longer than ``source_failing_hours``, a
digest undelivered for longer than ``digest_stuck_hours`` — through the same channels as digests."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlite_utils import Database

from carewatch.alerts.channels import send_apprise
from carewatch.alerts.email import send_email
from carewatch.config.schema import Config
from carewatch.core.errors import NotifyError
from carewatch.core.items import utcnow
from carewatch.ops.alerts import outbox
from carewatch.ops.jobs import EventLog, JobOutcome, quiet, recorded_run
from carewatch.store.fetches import delete_fetches_before, failing_since, source_health
from carewatch.store.jobs import delete_runs_before, notice_sent, record_notices
from carewatch.store.subscriptions import delete_expired


@dataclass(frozen=True)
class OperatorProblem:
    key: str  # the same problem has the same key: told once
    message: str


SIGNUP_ATTEMPTS_KEPT = timedelta(days=30)  # the rate limits look back a day; a month shows abuse to the operator


@dataclass(frozen=True)
class Retention:
    cutoff: str  # rows started before this were deleted
    deleted_fetches: int
    deleted_subscription_rows: int = 0  # expired link tokens and old sign-up attempts


def delete_old_records(config: Config, db: Database, now: datetime) -> Retention:
    """Delete the fetch-log rows (but each source's latest) and job runs older than
    ``fetch_retention_days``, link tokens past their expiry, and sign-up attempts older than
    SIGNUP_ATTEMPTS_KEPT."""
    cutoff = (now - timedelta(days=config.settings.fetch_retention_days)).isoformat(timespec="seconds")
    with db.atomic():
        gone = delete_fetches_before(db, cutoff)
        delete_runs_before(db, cutoff)
    stamp = now.isoformat(timespec="seconds")
    subscription_rows = delete_expired(db, stamp, (now - SIGNUP_ATTEMPTS_KEPT).isoformat(timespec="seconds"))
    return Retention(cutoff, gone, subscription_rows)


def operator_problems(config: Config, db: Database, now: datetime) -> list[OperatorProblem]:
    """Each thing a person must look at: a source failing for longer than ``source_failing_hours``,
    a digest undelivered for longer than ``digest_stuck_hours`` (none without an operator)."""
    op = config.settings.operator
    if op is None:
        return []
    out = []
    for h in source_health(db, config):
        if h.state not in ("failing", "erroring"):
            continue
        first_fail = failing_since(db, h.source_id)
        if first_fail and datetime.fromisoformat(first_fail) <= now - timedelta(hours=op.source_failing_hours):
            out.append(
                OperatorProblem(
                    f"source:{h.source_id}:{first_fail}",
                    f"Source {h.source_id} has failed since {first_fail}: {h.last_error}",
                )
            )
    for w in outbox(db):
        if w.attempts and datetime.fromisoformat(w.created) <= now - timedelta(hours=op.digest_stuck_hours):
            out.append(
                OperatorProblem(
                    f"digest:{w.delivery_id}",
                    f"Digest #{w.delivery_id} for {w.subscriber} via "
                    f"{w.address} is undelivered since {w.created} after {w.attempts} attempt(s): "
                    f"{w.last_error}",
                )
            )
    return out


def notify_operator(config: Config, db: Database, now: datetime, log: EventLog = quiet) -> int:
    """Tell the operator about the problems not told yet (each once); how many were told."""
    op = config.settings.operator
    new = [p for p in operator_problems(config, db, now) if not notice_sent(db, p.key)]
    if not new or op is None:
        return 0
    body = (
        "carewatch needs a person:\n\n"
        + "\n".join(f"- {p.message}" for p in new)
        + "\n\nRun `carewatch status` on the server for details."
    )
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
        log("operator notice failed", logging.ERROR, error=str(e))
        return 0
    record_notices(db, [(p.key, p.message) for p in new], now.isoformat(timespec="seconds"))
    log("operator notified", problems=[p.message for p in new])
    return len(new)


def housekeeping(config: Config, db_path: str, now: datetime | None = None, log: EventLog = quiet) -> JobOutcome | None:
    """The housekeeping job, recorded in job_runs: retention, then the operator told what is new."""
    now = now or utcnow()
    with recorded_run(db_path, "housekeeping", log, "housekeeping failed") as run:
        retention = delete_old_records(config, run.db, now)
        if retention.deleted_fetches or retention.deleted_subscription_rows:
            log(
                "retention",
                deleted_fetches=retention.deleted_fetches,
                older_than=retention.cutoff,
                deleted_subscription_rows=retention.deleted_subscription_rows,
            )
        notify_operator(config, run.db, now, log)
        run.finish("ok")
    return run.outcome
