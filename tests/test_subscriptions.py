"""Self-service subscriptions through the service layer (ops.subscriptions) on a real archive file
and a real SMTP server (aiosmtpd on loopback): double opt-in, tokens (forged, expired, reused, of
another purpose), rate limits, no address enumeration, rule limits, header injection, escaping in
the digest, pause, unsubscribe, delete, approval, and the digest's RFC 8058 headers."""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from carewatch.alerts.subscribers import all_subscribers
from carewatch.config import load_config
from carewatch.core.items import utcnow
from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import DEMO_CONFIG
from carewatch.ops import subscriptions as subs
from carewatch.ops.subscriptions import SubscriptionForm
from carewatch.store.db import open_db
from carewatch.store.subscriptions import subscription

PUBLIC = "https://alerts.example.org/archive"
LINK = re.compile(r"https://alerts\.example\.org/archive/(confirm|manage|unsubscribe)/([A-Za-z0-9_-]+)")


@pytest.fixture
def sink():
    with MailSink() as s:
        yield s


def make_config(tmp_path: Path, sink: MailSink, **settings) -> str:
    folder = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, folder)
    data = yaml.safe_load((folder / "settings.yaml").read_text())
    data["smtp"]["port"] = sink.port
    data.update({"public_url": PUBLIC, "signup": "open", **settings})
    (folder / "settings.yaml").write_text(yaml.safe_dump(data))
    return str(folder)


@pytest.fixture
def site(tmp_path, sink):
    config_dir = make_config(tmp_path, sink)
    db_path = str(tmp_path / "archive.db")
    open_db(db_path).close()
    return config_dir, db_path


def form(email="ada@example.org", name="Ada", **kw) -> SubscriptionForm:
    return SubscriptionForm(email=email, name=name, topics=kw.pop("topics", ("privatisation",)), **kw)


def links(message) -> dict[str, str]:
    return {kind: token for kind, token in LINK.findall(message.get_content())}


def test_double_opt_in_confirms_once_and_nothing_before(site, sink):
    config_dir, db_path = site
    assert subs.signup(config_dir, db_path, form(), "192.0.2.1").status == "sent"
    (msg,) = sink.messages
    assert msg["To"] == "ada@example.org" and "Confirm" in msg["Subject"]
    token = links(msg)["confirm"]
    db = open_db(db_path)
    config = load_config(config_dir)
    assert all(s.email != "ada@example.org" for s in all_subscribers(db, config))  # nothing before confirming
    first = subs.confirm(config_dir, db_path, token, "192.0.2.9")
    assert first.status == "confirmed" and first.manage_token
    again = subs.confirm(config_dir, db_path, token, "192.0.2.9")
    assert again.status == "already"  # a second click is harmless
    (ada,) = [s for s in all_subscribers(db, config) if s.email == "ada@example.org"]
    assert ada.topics == ("privatisation",) and ada.frequency == "daily"
    row = subscription(db, ada.id)
    assert row.signed_up_from == "192.0.2.1" and row.confirmed_from == "192.0.2.9" and row.confirmed_at
    # the token is kept only as its hash
    assert token not in json.dumps(db.execute("SELECT * FROM subscription_tokens").fetchall())
    db.close()


def test_forged_expired_and_wrong_purpose_tokens(site, sink):
    config_dir, db_path = site
    subs.signup(config_dir, db_path, form(), "192.0.2.1")
    token = links(sink.messages[0])["confirm"]
    assert subs.confirm(config_dir, db_path, "A" * 43, "x").status == "invalid"
    assert subs.confirm(config_dir, db_path, token, "x", now=utcnow() + timedelta(days=4)).status == "expired"
    assert subs.manage_view(config_dir, db_path, token) is None  # a confirm token does not manage
    assert subs.unsubscribe(config_dir, db_path, token, "x") is False
    manage = subs.confirm(config_dir, db_path, token, "x").manage_token
    assert subs.manage_view(config_dir, db_path, manage).email == "ada@example.org"
    assert subs.manage_view(config_dir, db_path, manage, now=utcnow() + timedelta(days=200)) is None
    assert subs.manage_view(config_dir, db_path, manage[:-1] + ("A" if manage[-1] != "A" else "B")) is None


def test_a_known_address_is_answered_like_a_new_one(site, sink):
    config_dir, db_path = site
    new = subs.signup(config_dir, db_path, form(), "192.0.2.1")
    subs.confirm(config_dir, db_path, links(sink.messages[0])["confirm"], "x")
    known = subs.signup(config_dir, db_path, form(email="ADA@example.org"), "192.0.2.1")
    operator = subs.signup(config_dir, db_path, form(email="organisers@example.org"), "192.0.2.1")  # alerts.yaml's
    assert new == known == operator
    assert len(sink.messages) == 3
    # the owner of a known address is mailed its manage link, not a second subscription
    assert "already" in sink.messages[1]["Subject"] and "manage" in links(sink.messages[1])
    db = open_db(db_path)
    assert db.execute("SELECT count(*) FROM subscriptions").fetchone()[0] == 1
    db.close()


def test_fifty_signups_for_one_address_and_from_one_client(site, sink):
    config_dir, db_path = site
    for i in range(50):  # one address, from many clients: it is mailed 3 times a day at most
        assert subs.signup(config_dir, db_path, form(email="victim@example.org"), f"198.51.100.{i}").status == "sent"
    assert len([m for m in sink.messages if m["To"] == "victim@example.org"]) == 3
    answers = [
        subs.signup(config_dir, db_path, form(email=f"p{i}@example.org"), "203.0.113.7").status for i in range(50)
    ]
    assert answers[:10] == ["sent"] * 10 and set(answers[10:]) == {"rate-limited"}
    assert len(sink.messages) == 13


def test_rules_over_the_limits_and_names_with_line_breaks_are_refused(site, sink):
    config_dir, db_path = site
    long_rule = " OR ".join(f"word{i}" for i in range(13))
    got = subs.signup(config_dir, db_path, form(rule=long_rule), "x")
    assert got.status == "invalid" and "at most 12 words" in got.errors["rule"]
    got = subs.signup(config_dir, db_path, form(rule="a" * 301), "x")
    assert "at most 300 characters" in got.errors["rule"]
    got = subs.signup(config_dir, db_path, form(name="Ada\r\nBcc: all@example.org"), "x")
    assert got.status == "invalid" and "one line" in got.errors["name"]
    got = subs.signup(config_dir, db_path, form(email="ada@example.org\r\nBcc: b@example.org"), "x")
    assert got.status == "invalid" and "email" in got.errors
    got = subs.signup(config_dir, db_path, form(topics=(), rule=""), "x")
    assert got.status == "invalid" and "topics" in got.errors
    assert sink.messages == []


def test_rule_check_points_at_the_error_and_previews(site):
    config_dir, db_path = site
    bad = subs.check_rule(config_dir, db_path, "\"children's trust AND")
    assert bad.error and "quote" in bad.error and bad.column == 1
    bad = subs.check_rule(config_dir, db_path, "trust AND")
    assert bad.error and bad.column == 10
    unknown = subs.check_rule(config_dir, db_path, "topic:nonsense")
    assert unknown.error and "nonsense" in unknown.error
    ok = subs.check_rule(config_dir, db_path, '"children\'s trust"')
    assert ok.error is None and ok.count == 0 and ok.latest == ()  # an empty archive


def test_pause_resume_unsubscribe_delete(site, sink):
    config_dir, db_path = site
    subs.signup(config_dir, db_path, form(), "192.0.2.1")
    manage = subs.confirm(config_dir, db_path, links(sink.messages[0])["confirm"], "x").manage_token
    db = open_db(db_path)
    config = load_config(config_dir)

    def listed() -> bool:
        return any(s.email == "ada@example.org" for s in all_subscribers(db, config))

    assert subs.manage_action(config_dir, db_path, manage, "pause", "x").status == "paused" and not listed()
    assert subs.manage_action(config_dir, db_path, manage, "resume", "x").status == "resumed" and listed()
    changed = subs.manage_update(config_dir, db_path, manage, form(frequency="weekly", day="friday"), "x")
    assert changed.status == "saved"
    (ada,) = [s for s in all_subscribers(db, config) if s.email == "ada@example.org"]
    assert (ada.frequency, ada.day) == ("weekly", "friday")
    data = subs.export_data(config_dir, db_path, manage)
    assert data["subscription"]["email"] == "ada@example.org"
    assert [e["event"] for e in data["history"]] == ["signed up", "confirmed", "paused", "resumed", "changed"]
    assert [(a["client"], a["outcome"]) for a in data["signup_attempts"]] == [("192.0.2.1", "mailed")]
    assert subs.manage_action(config_dir, db_path, manage, "delete", "x").status == "deleted"
    assert not listed() and subs.manage_view(config_dir, db_path, manage) is None
    tables = ("subscriptions", "subscription_events", "subscription_tokens", "signup_attempts", "deliveries")
    dump = json.dumps([db.execute(f"SELECT * FROM {t}").fetchall() for t in tables])
    assert "ada@example.org" not in dump and "Ada" not in dump and "192.0.2.1" not in dump
    db.close()


def test_an_operator_subscriber_unsubscribes_by_link_without_yaml_edits(site, sink):
    config_dir, db_path = site
    db = open_db(db_path)
    config = load_config(config_dir)
    from carewatch.alerts.subscribers import new_link

    token, url = new_link(db, PUBLIC, "organisers", "unsubscribe", utcnow())
    assert url == f"{PUBLIC}/unsubscribe/{token}"
    view = subs.unsubscribe_view(config_dir, db_path, token)
    assert view.masked_email == "o***@example.org" and not view.unsubscribed
    assert subs.unsubscribe(config_dir, db_path, token, "x", one_click=True)
    assert "organisers" not in {s.id for s in all_subscribers(db, config)}
    assert subs.unsubscribe_view(config_dir, db_path, token).unsubscribed
    assert "organisers" in {s.id for s in load_config(config_dir).alerts.subscribers}  # alerts.yaml untouched
    db.close()


def test_approval_mode_waits_for_the_operator(tmp_path, sink):
    config_dir = make_config(tmp_path, sink, signup="approval")
    db_path = str(tmp_path / "a.db")
    subs.signup(config_dir, db_path, form(), "x")
    got = subs.confirm(config_dir, db_path, links(sink.messages[0])["confirm"], "x")
    assert got.status == "awaiting-approval"
    db = open_db(db_path)
    config = load_config(config_dir)
    assert all(s.email != "ada@example.org" for s in all_subscribers(db, config))
    (pending,) = [s for s in subs.list_subscribers(config, db) if s.email == "ada@example.org"]
    assert pending.status == "awaiting approval"
    from carewatch.ops.status import subscriber_counts

    assert subscriber_counts(config, db)["awaiting approval"] == 1
    subs.approve(config, db, pending.subscriber)
    assert any(s.email == "ada@example.org" for s in all_subscribers(db, config))
    counts = subscriber_counts(config, db)
    assert (counts["getting digests"], counts["signed up"], counts["awaiting approval"]) == (3, 1, 0)
    db.close()


def test_closed_signup(tmp_path, sink):
    config_dir = make_config(tmp_path, sink, signup="closed")
    assert subs.signup(config_dir, str(tmp_path / "c.db"), form(), "x").status == "closed"
    assert sink.messages == []


def test_the_operators_verbs(site, sink):
    from click.testing import CliRunner

    from carewatch.cli.main import cli

    config_dir, db_path = site

    def run(*args: str) -> str:
        got = CliRunner().invoke(cli, ["--config", config_dir, "--db", db_path, "subscribers", *args])
        assert got.exit_code == 0, got.output
        return got.output

    added = json.loads(run("add", "--email", "bob@example.org", "--name", "Bob", "--topic", "ofsted", "--json"))
    assert added["status"] == "active" and added["managed_by"] == "cli"
    listed = json.loads(run("list", "--json"))
    assert [r["subscriber"] for r in listed] == ["organisers", "ofsted-watch", added["subscriber"]]
    (data,) = json.loads(run("export", added["subscriber"]))
    assert data["history"][0]["event"] == "added by the operator"
    refused = CliRunner().invoke(
        cli,
        [
            "--config",
            config_dir,
            "--db",
            db_path,
            "subscribers",
            "add",
            "--email",
            "bob@example.org",
            "--name",
            "B",
            "--topic",
            "ofsted",
        ],
    )
    assert refused.exit_code == 1 and "subscribed already" in refused.output
    run("remove", added["subscriber"])
    assert added["subscriber"] not in run("list")
    assert sink.messages == []  # the operator's additions are not mailed a confirmation


def test_a_digest_carries_one_click_unsubscribe_and_escapes_what_subscribers_typed(site, sink):
    from carewatch.alerts.render import DigestEntry, render_message
    from carewatch.alerts.subscribers import digest_links

    config_dir, db_path = site
    evil = "<script>alert(1)</script>"
    subs.signup(config_dir, db_path, form(name=evil, keywords=f"{evil}, trust"), "x")
    subs.confirm(config_dir, db_path, links(sink.messages[0])["confirm"], "x")
    db = open_db(db_path)
    config = load_config(config_dir)
    (sub,) = [s for s in all_subscribers(db, config) if s.email == "ada@example.org"]
    item = DigestEntry("A title", "https://example.org/a", "Source", "1 Dec 2026", (), (), (("text", False),), ())
    msg = render_message(config, sub, [item], utcnow(), links=digest_links(db, config, sub, utcnow()))
    header = msg["List-Unsubscribe"]
    https, mailto = re.findall(r"<([^>]+)>", header)
    assert https.startswith(f"{PUBLIC}/unsubscribe/") and mailto.startswith("mailto:")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = msg.get_body(("html",)).get_content()
    assert evil not in html and "&lt;script&gt;" in html
    manage = re.search(r'class="manage" href="([^"]+)"', html).group(1)
    assert subs.manage_view(config_dir, db_path, manage.rsplit("/", 1)[1]).subscriber == sub.id
    assert subs.unsubscribe(config_dir, db_path, https.rsplit("/", 1)[1], "mail client", one_click=True)
    assert sub.id not in {s.id for s in all_subscribers(db, config)}
    db.close()
