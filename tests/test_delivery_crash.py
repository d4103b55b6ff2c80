"""kill -9 of a real `carewatch alerts send` at its two worst moments, then a restart.

The guarantee (alerts/outbox.py): every queued digest arrives at least once and at most twice, and a
second copy carries the first one's Message-ID. Killed after queueing and before sending: it
arrives exactly once after the restart. Killed after the mail server accepted it and before the
"sent" mark: it arrives twice, with the same Message-ID; every other digest exactly once."""

import signal
from collections import Counter

import pytest

from carewatch.demo.mailsink import MailSink
from carewatch.store.db import open_db
from tests.conftest import ROOT, carewatch
from tests.test_digests import _archive


@pytest.fixture
def setup(tmp_path):
    with MailSink(tmp_path / "mail") as sink:
        cfg = tmp_path / "config"
        cfg.mkdir()
        (cfg / "sources.yaml").write_text((ROOT / "config" / "sources.yaml").read_text())
        (cfg / "settings.yaml").write_text(
            f"alert_max_age_days: 100000\nsmtp:\n  host: 127.0.0.1\n  port: {sink.port}\n  timeout: 5\n"
        )
        (cfg / "alerts.yaml").write_text(
            "subscribers:\n"
            "  - {id: first, name: First, email: first@example.org, frequency: immediate, topics: [funding]}\n"
            "  - {id: second, name: Second, email: second@example.org, frequency: immediate, topics: [ofsted]}\n"
        )
        _archive(tmp_path / "a.db")
        yield cfg, tmp_path / "a.db", sink


def _send(cfg, db, crash=None):
    return carewatch(
        "--config",
        str(cfg),
        "--db",
        str(db),
        "alerts",
        "send",
        env={"CAREWATCH_CRASH_AT": crash} if crash else {"CAREWATCH_CRASH_AT": ""},
    )


def _by_rcpt(sink):
    return Counter(rcpt for _, rcpts in sink.envelopes for rcpt in rcpts)


def test_killed_after_queueing_before_sending(setup):
    cfg, db, sink = setup
    killed = _send(cfg, db, "after-queue")
    assert killed.returncode == -signal.SIGKILL
    assert sink.messages == []
    rows = open_db(db).execute("SELECT subscriber, status FROM deliveries").fetchall()
    assert rows == [("first", "pending")]  # queued, with its articles marked: nothing can be lost or doubled
    again = _send(cfg, db)
    assert again.returncode == 0, again.stderr
    assert _by_rcpt(sink) == {"first@example.org": 1, "second@example.org": 1}
    assert _send(cfg, db).returncode == 0 and len(sink.messages) == 2
    assert {r[0] for r in open_db(db).execute("SELECT status FROM deliveries")} == {"sent"}


def test_killed_between_smtp_acceptance_and_the_database_update(setup):
    cfg, db, sink = setup
    killed = _send(cfg, db, "after-send")
    assert killed.returncode == -signal.SIGKILL
    [accepted] = sink.messages  # the server has it; the database does not know
    conn = open_db(db)
    assert conn.execute("SELECT status, message_id FROM deliveries").fetchall() == [("pending", accepted["Message-ID"])]
    again = _send(cfg, db)
    assert again.returncode == 0, again.stderr
    assert _by_rcpt(sink) == {"first@example.org": 2, "second@example.org": 1}
    firsts = [m for m in sink.messages if m["To"] == "first@example.org"]
    assert firsts[0]["Message-ID"] == firsts[1]["Message-ID"]  # the duplicate is recognisable as one
    assert firsts[0].get_body(("plain",)).get_content() == firsts[1].get_body(("plain",)).get_content()
    assert _send(cfg, db).returncode == 0 and len(sink.messages) == 3  # and nothing after that
    assert [r[0] for r in open_db(db).execute("SELECT status FROM deliveries ORDER BY id")] == ["sent", "sent"]
