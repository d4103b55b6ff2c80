"""SMTP faults with the real mail sink (aiosmtpd on loopback) and a real webhook beside it: the mail
server refuses (5xx), tempfails (4xx), drops the connection after DATA before its 250, or is down,
for a whole simulated hour (the outbox's clock is the ``now`` send_alerts takes: no sleeping).

Four subscribers: three by email, one of them also by webhook, and one by webhook only. Half way
through the hour a new article arrives, so a second digest queues up behind the first. Measured
for each fault: the failing digests stay pending with their error and attempt count (in the
database and in ``carewatch status --json``), are retried on the backoff schedule and never
before, the webhook deliveries are not held up, and once the server is back every article reaches
every recipient exactly once, each digest with the Message-ID it was given when queued.
tests/test_digests.py checks one subscriber through the same faults; this is the fuller scenario.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from carewatch.alerts.outbox import BACKOFF_START, send_alerts
from carewatch.config.schema import Subscriber
from carewatch.core.items import Article
from carewatch.core.urls import url_key
from carewatch.demo.mailsink import MailSink
from carewatch.pipelines.tag import tag
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from tests.conftest import carewatch
from tests.faults.ledger import records
from tests.test_digests import NOW, TAGGER, _archive, _config

pytestmark = pytest.mark.faults

HOUR = timedelta(hours=1)
ARRIVES = NOW + timedelta(minutes=30)  # the new article, half way through the outage
FAULTS = [  # (MailSink mode, the ledger's name, what the recorded error says)
    ("refuse", "mail server refuses the message (554) for an hour", "554"),
    ("tempfail", "mail server tempfails (451) for an hour", "451"),
    ("drop", "connection dropped after DATA, before the 250, for an hour", "SMTPServerDisconnected"),
    ("down", "mail server down (connection refused) for an hour", "Connection refused"),
]


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.path, json.loads(body)))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        """Quiet: the webhook's posts are kept in ``received``, not logged."""


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _subscribers(hook_port: int) -> tuple[Subscriber, ...]:
    url = f"json://127.0.0.1:{hook_port}"
    return (
        Subscriber(id="alice", name="A", email="alice@example.org", frequency="immediate", topics=("funding",)),
        Subscriber(id="bob", name="B", email="bob@example.org", frequency="immediate", topics=("ofsted",)),
        Subscriber(
            id="carol",
            name="C",
            email="carol@example.org",
            frequency="immediate",
            topics=("funding", "ofsted"),
            channels=(f"{url}/carol",),
        ),
        Subscriber(
            id="dave", name="D", email=None, frequency="immediate", topics=("funding",), channels=(f"{url}/dave",)
        ),
    )


def _new_article(db) -> None:
    url = "https://birmingham-post.test/more-cuts"
    when = ARRIVES.isoformat(timespec="seconds")
    a = Article(
        source_id="birmingham-post",
        url=url,
        canonical_url=url,
        url_key=url_key(url),
        title="Children's services face a further £5m of cuts in Birmingham's budget",
        text="Birmingham City Council's budget makes a further £5m of cuts to children's services, on top of "
        "the savings the trust must find. Family support and early help budgets are cut again, and "
        "councillors warned that the cuts fall on children in care.",
        published=when,
        fetched_at=when,
        content_hash="hash-more-cuts",
    )
    save_article(db, tag(a, TAGGER))


def _rows(db) -> dict[int, dict]:
    cur = db.execute("SELECT * FROM deliveries ORDER BY id")
    cols = [c[0] for c in cur.description]
    return {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}


def _delivered(sink: MailSink, hook: HTTPServer, rows: dict[int, dict]) -> tuple[Counter, int]:
    """(recipient, article) -> how many times it arrived; and copies of one message (same
    Message-ID, or a webhook posted twice for one delivery)."""
    by_mid = {r["message_id"]: r for r in rows.values()}
    pairs: Counter = Counter()
    for msg, (_, rcpts) in zip(sink.messages, sink.envelopes):
        for rcpt in rcpts:
            for aid in json.loads(by_mid[msg["Message-ID"]]["articles"]):
                pairs[(rcpt, aid)] += 1
    copies = sum(n - 1 for n in Counter(m["Message-ID"] for m in sink.messages).values())
    hooks = [r for r in rows.values() if r["channel"] != "email" and r["status"] == "sent"]
    for r in hooks:
        for aid in json.loads(r["articles"]):
            pairs[(r["channel"].rsplit("/", 1)[-1], aid)] += 1  # carol's / dave's webhook
    copies += max(0, len(hook.received) - len(hooks))
    return pairs, copies


def _run_hour(config, db, sink: MailSink, fault: str | None, at_hour_end=None):
    """Send at NOW with the fault on, live through the hour (retries when due, a new article at
    ARRIVES), call ``at_hour_end()``, then the server comes back. Returns what was observed."""
    seen: dict = {"early": [], "waits": {}, "at_start": None, "hour_end": None, "results": []}
    if fault == "down":
        sink.stop()
    elif fault:
        sink.mode = fault
    seen["results"] += send_alerts(config, db, now=NOW)
    seen["at_start"] = _rows(db)
    added = False
    while fault:
        pending = [r for r in _rows(db).values() if r["status"] == "pending"]
        due = min(datetime.fromisoformat(r["next_attempt"]) for r in pending)
        if not added and due > ARRIVES:
            _new_article(db)
            seen["results"] += send_alerts(config, db, now=ARRIVES)
            added = True
            continue
        if due > NOW + HOUR:
            break
        seen["early"] += send_alerts(config, db, now=due - timedelta(seconds=1))  # never before its time
        before = _rows(db)
        seen["results"] += send_alerts(config, db, now=due)
        for i, r in _rows(db).items():
            if r["attempts"] != before[i]["attempts"]:
                seen["waits"].setdefault(i, []).append(
                    (datetime.fromisoformat(r["next_attempt"]) - due).total_seconds() if r["next_attempt"] else None
                )
    if not fault:
        _new_article(db)
        seen["results"] += send_alerts(config, db, now=ARRIVES)
    seen["hour_end"] = _rows(db)
    seen["shown"] = at_hour_end() if at_hour_end else None
    # the server is back
    if fault == "down":
        sink.start()
    sink.mode = "accept"
    pending = [r for r in _rows(db).values() if r["status"] == "pending"]
    back = max([datetime.fromisoformat(r["next_attempt"]) for r in pending], default=NOW + HOUR)
    seen["results"] += send_alerts(config, db, now=back)
    seen["later"] = send_alerts(config, db, now=back + timedelta(days=1))  # nothing more, ever
    return seen


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("smtp") / "template.db"
    _archive(path)
    return path


@pytest.fixture(scope="module")
def expected(template, tmp_path_factory) -> set:
    """Who gets which article, from the same hour with nothing failing."""
    tmp = tmp_path_factory.mktemp("smtp-ref")
    shutil.copy(template, tmp / "a.db")
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with MailSink() as sink:
            db = open_db(tmp / "a.db")
            seen = _run_hour(_config(sink.port, *_subscribers(server.server_port)), db, sink, None)
            pairs, copies = _delivered(sink, server, _rows(db))
    finally:
        server.shutdown()
        server.server_close()
    assert all(r.status == "sent" for r in seen["results"]) and copies == 0 and set(pairs.values()) == {1}
    assert {r for r, _ in pairs} == {"alice@example.org", "bob@example.org", "carol@example.org", "carol", "dave"}
    return set(pairs)


@pytest.mark.parametrize("mode, fault, error", FAULTS, ids=[f[0] for f in FAULTS])
@records("SMTP", lambda kw: kw["fault"])  # send_alerts raising on a failing server is a row too
def test_the_mail_server_fails_for_an_hour_then_everything_goes_out_once(
    tmp_path, template, expected, webhook, fault_ledger, mode, fault, error
):
    shutil.copy(template, tmp_path / "a.db")
    with MailSink(tmp_path / "mail") as sink:
        config = _config(sink.port, *_subscribers(webhook.server_port))
        db = open_db(tmp_path / "a.db")
        seen = _run_hour(
            config, db, sink, mode, at_hour_end=lambda: carewatch("--db", str(tmp_path / "a.db"), "status", "--json")
        )
        start, hour_end, final = seen["at_start"], seen["hour_end"], _rows(db)
        status = carewatch("--db", str(tmp_path / "a.db"), "status", "--json")  # after the recovery
        pairs, copies = _delivered(sink, webhook, final)

    email_start = [r for r in start.values() if r["channel"] == "email"]
    hooks_start = [r for r in start.values() if r["channel"] != "email"]
    hour_email = [r for r in hour_end.values() if r["channel"] == "email"]
    # recorded: every failed email kept pending with its error and attempts, and shown by status --json
    shown = seen["shown"]
    outbox = {w["delivery_id"]: w for w in json.loads(shown.stdout)["outbox"]} if shown.stdout.strip() else {}
    recorded = (
        all(
            r["status"] == "pending"
            and r["attempts"] == 1
            and error in (r["last_error"] or "")
            and r["next_attempt"] == (NOW + timedelta(seconds=BACKOFF_START)).isoformat(timespec="seconds")
            for r in email_start
        )
        and all(r["status"] == "pending" and r["attempts"] >= 5 and error in r["last_error"] for r in hour_email)
        and shown.returncode == 1
        and set(outbox) == {r["id"] for r in hour_email}
        and all(
            outbox[r["id"]]["attempts"] == r["attempts"]
            and outbox[r["id"]]["last_error"] == r["last_error"]
            and outbox[r["id"]]["stuck"]
            for r in hour_email
        )
    )
    not_blocked = all(r["status"] == "sent" for r in hooks_start) and len(hooks_start) == 2
    same_ids = all(final[i]["message_id"] == r["message_id"] for i, r in hour_end.items())
    survived = (
        not_blocked
        and same_ids
        and not seen["early"]
        and not seen["later"]
        and all(r["status"] == "sent" for r in final.values())
    )
    fault_ledger.record(
        "SMTP",
        fault,
        tried=1,
        survived=survived,
        lost=len(expected - set(pairs)),
        duplicates=sum(n - 1 for n in pairs.values()) + copies + len(set(pairs) - expected),
        recorded=recorded,
        note=f"attempts in the hour: {sorted(r['attempts'] for r in hour_email)}; "
        f"waits (s) of the first digest: {seen['waits'].get(email_start[0]['id'])}",
    )

    # the failure, where the operator sees it
    assert len(email_start) == 3 and all(r["status"] == "pending" for r in email_start)
    assert recorded, (
        [(r["attempts"], r["last_error"], r["next_attempt"]) for r in list(start.values()) + hour_email],
        shown.returncode,
        outbox,
    )
    # webhooks went out while the mail server failed: nothing waits behind a failing channel
    assert not_blocked and len(webhook.received) == 4  # carol's and dave's, at the start and for the new article
    # retried on the backoff schedule (doubling from a minute), never before it was due
    assert seen["early"] == []
    assert seen["waits"][email_start[0]["id"]][:5] == [120, 240, 480, 960, 1920]
    assert sorted(r["attempts"] for r in hour_email) == [5, 5, 6, 6, 6]  # first digests from NOW, two from 30 min on
    # the server back: every article to every recipient exactly once, each digest under its first Message-ID
    assert all(r["status"] == "sent" for r in final.values()) and same_ids
    assert set(pairs) == expected and set(pairs.values()) == {1} and copies == 0, (pairs, copies)
    assert sorted(m["Message-ID"] for m in sink.messages) == sorted(
        r["message_id"] for r in final.values() if r["channel"] == "email"
    )
    assert seen["later"] == []
    assert status.returncode == 0 and json.loads(status.stdout)["outbox"] == []
