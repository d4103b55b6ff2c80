"""Data care and operator care: online backup while another process writes, restore, fetch-log
retention, the operator told (once) about a source failing for a day and a stuck digest, and the
JSON-lines log."""

import json
import logging
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from carewatch.config import load_config
from carewatch.config.schema import Operator, Smtp
from carewatch.core.items import Fetch
from carewatch.daemon.logs import event, setup_logging
from carewatch.demo.mailsink import MailSink
from carewatch.ops.housekeeping import housekeeping, notify_operator
from carewatch.store.db import open_db
from carewatch.store.fetches import record_fetch
from tests.conftest import ROOT, carewatch
from tests.test_digests import _archive

WRITER = """
import sys, time
from carewatch.store.db import open_db
db = open_db(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS noise (i INTEGER, pad TEXT)")
i = 0
end = time.time() + float(sys.argv[2])
while time.time() < end:
    with db.atomic():
        db.execute("INSERT INTO noise VALUES (?, ?)", [i, "x" * 2000])
    i += 1
print(i)
"""


def test_backup_while_another_process_writes_then_restore(tmp_path):
    _archive(tmp_path / "a.db")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / "a.db"), "4"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    time.sleep(1.0)
    result = carewatch("--db", str(tmp_path / "a.db"), "backup", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    writes = int(writer.communicate(timeout=30)[0])
    assert writes > 10 and info["articles"] == 5
    copy = sqlite3.connect(info["backup"])
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    taken = copy.execute("SELECT count(*) FROM noise").fetchone()[0]
    assert 0 < taken <= writes  # a consistent moment of a database being written
    copy.close()
    # damage the live database's content, then restore the backup
    live = sqlite3.connect(tmp_path / "a.db")
    live.execute("DELETE FROM article_topics")
    live.commit()
    live.close()
    result = carewatch("--db", str(tmp_path / "a.db"), "restore", info["backup"], "--yes")
    assert result.returncode == 0, result.stderr
    assert "Restored 5 articles" in result.stdout and ".before-restore" in result.stdout
    restored = open_db(tmp_path / "a.db")
    assert restored.execute("SELECT count(*) FROM article_topics").fetchone()[0] > 0
    assert (tmp_path / "a.db.before-restore").exists()
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"hello")
    result = carewatch("--db", str(tmp_path / "a.db"), "restore", str(bad), "--yes")
    assert result.returncode == 1 and "not a carewatch backup" in result.stderr


def test_retention_keeps_each_sources_latest_fetch(tmp_path):
    config = load_config(ROOT / "config")
    db = open_db(tmp_path / "a.db")
    old = (datetime.now(UTC) - timedelta(days=400)).isoformat(timespec="seconds")
    new = datetime.now(UTC).isoformat(timespec="seconds")
    for when in (old, old, new):
        record_fetch(db, Fetch("chamberlain-files", "https://x.test/feed", when, "ok", role="index"))
    record_fetch(db, Fetch("community-care", "https://y.test/feed", old, "ok", role="index"))  # its only one
    db.close()
    housekeeping(config, str(tmp_path / "a.db"))
    db = open_db(tmp_path / "a.db")
    rows = db.execute("SELECT source_id, started FROM fetches ORDER BY source_id").fetchall()
    assert rows == [("chamberlain-files", new), ("community-care", old)]


def test_retention_drops_expired_link_tokens_and_old_sign_up_attempts(tmp_path):
    """Housekeeping forgets links that no longer work and sign-up attempts past a month; a live
    link still works after it."""
    from carewatch.alerts.subscribers import new_link
    from carewatch.store.subscriptions import record_attempt, token_row

    config = load_config(ROOT / "config")
    db = open_db(tmp_path / "a.db")
    now = datetime.now(UTC)
    live, _ = new_link(db, "https://x.test/", "web-a", "manage", now)
    dead, _ = new_link(db, "https://x.test/", "web-a", "confirm", now - timedelta(days=4))  # 3 days' life
    record_attempt(db, (now - timedelta(days=31)).isoformat(timespec="seconds"), "k", "192.0.2.1", "mailed")
    record_attempt(db, (now - timedelta(hours=2)).isoformat(timespec="seconds"), "k", "192.0.2.2", "mailed")
    db.close()
    housekeeping(config, str(tmp_path / "a.db"))
    db = open_db(tmp_path / "a.db")
    assert token_row(db, live, "manage") is not None and token_row(db, dead, "confirm") is None
    assert db.execute("SELECT client FROM signup_attempts").fetchall() == [("192.0.2.2",)]
    db.close()


def test_operator_hears_once_about_a_source_failing_for_a_day_and_a_stuck_digest(tmp_path):
    now = datetime.now(UTC)
    with MailSink(tmp_path / "mail") as sink:
        base = load_config(ROOT / "config")
        settings = base.settings.model_copy(
            update={
                "smtp": Smtp(host="127.0.0.1", port=sink.port, timeout=5),
                "operator": Operator(email="ops@example.org", source_failing_hours=24, digest_stuck_hours=6),
            }
        )
        config = base.model_copy(update={"settings": settings})
        db = open_db(tmp_path / "a.db")
        for hours in (30, 20, 10, 1):  # failing since 30 hours ago
            record_fetch(
                db,
                Fetch(
                    "chamberlain-files",
                    "https://x.test/feed",
                    (now - timedelta(hours=hours)).isoformat(timespec="seconds"),
                    "error",
                    role="index",
                    error_kind="http",
                    error="HTTP 500",
                ),
            )
        for hours in (5, 1):  # failing, but only for 5 hours: not yet
            record_fetch(
                db,
                Fetch(
                    "community-care",
                    "https://y.test/feed",
                    (now - timedelta(hours=hours)).isoformat(timespec="seconds"),
                    "error",
                    role="index",
                    error_kind="http",
                    error="HTTP 503",
                ),
            )
        db["deliveries"].insert(
            {
                "subscriber": "organisers",
                "channel": "email",
                "address": "o@example.org",
                "status": "pending",
                "attempts": 6,
                "last_error": "SMTP refused",
                "created": (now - timedelta(hours=8)).isoformat(timespec="seconds"),
                "articles": "[]",
            }
        )
        assert notify_operator(config, db, now) == 2
        [msg] = sink.messages
        assert msg["To"] == "ops@example.org" and "2 problem(s)" in msg["Subject"]
        body = msg.get_body(("plain",)).get_content()
        assert "chamberlain-files has failed since" in body and "HTTP 500" in body
        assert "community-care" not in body and "SMTP refused" in body
        assert notify_operator(config, db, now + timedelta(hours=1)) == 0  # told once
        assert len(sink.messages) == 1


def test_logs_are_json_lines_and_rotate(tmp_path):
    config = load_config(ROOT / "config")
    settings = config.settings.model_copy(
        update={"log_file": str(tmp_path / "cw.log"), "log_max_mb": 0.001, "log_backups": 2}
    )
    setup_logging(settings)
    try:
        for i in range(40):
            event("fetch", source="chamberlain-files", url=f"https://x.test/{i}", status="ok")
        event("delivery", logging.WARNING, subscriber="organisers", status="pending", error="refused")
    finally:
        setup_logging(config.settings)  # back to standard error only
    files = sorted(tmp_path.glob("cw.log*"))
    assert [f.name for f in files] == ["cw.log", "cw.log.1", "cw.log.2"]  # rotated, 2 kept
    last = [json.loads(line) for line in (tmp_path / "cw.log").read_text().splitlines()][-1]
    assert last["event"] == "delivery" and last["level"] == "warning" and last["error"] == "refused"
    assert datetime.fromisoformat(last["time"]).tzinfo is not None
