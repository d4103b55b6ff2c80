"""`carewatch demo`'s civic calendar: the demo crawl stores meetings, agenda items and links
between press articles and documents, and its digests show "Coming up" and "Not yet covered";
each entry is sent once (a later send repeats none), "Coming up" has nothing once the meetings
have passed, and a document stops being "not yet covered" when coverage of it arrives."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

from carewatch.alerts.outbox import send_alerts
from carewatch.config import load_config
from carewatch.config.schema import Alerts, Subscriber
from carewatch.core.items import Article, article_id_for, utcnow
from carewatch.core.urls import url_key
from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import DEMO_CONFIG, demo_config, run_demo
from carewatch.ops.links import link_new
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from carewatch.store.meetings import counts


def entries(text: str, section: str) -> list[str]:
    """The entries under ``== section ==`` in a plain-text digest, each as its first two lines (a
    meeting and its item; a document's title and where it is from)."""
    if f"== {section} ==" not in text:
        return []
    part = text.split(f"== {section} ==", 1)[1].split("\n== ", 1)[0].split("\n--\n", 1)[0]
    lines = part.splitlines()
    return [f"{line[2:]} | {lines[n + 1].strip()}" for n, line in enumerate(lines) if line.startswith("* ")]


def plain(path) -> str:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return msg.get_body(("plain",)).get_content()


def test_the_demo_s_digests_show_coming_up_and_not_yet_covered_once(tmp_path):
    summary = run_demo(tmp_path / "demo.db", tmp_path / "mail")
    db = open_db(tmp_path / "demo.db")
    stored = counts(db)
    assert stored["meetings"] >= 10 and stored["agenda_items"] >= 20 and stored["meeting_documents"] >= 20, stored
    assert db.execute("SELECT count(*) FROM article_links").fetchone()[0] >= 1
    texts = {p.name: plain(p) for p in map(__import__("pathlib").Path, summary.eml_files)}
    coming = {name: entries(t, "Coming up") for name, t in texts.items()}
    uncovered = {name: entries(t, "Not yet covered") for name, t in texts.items()}
    assert any(coming.values()) and any(uncovered.values()), (coming, uncovered)
    for name in texts:  # each entry once in a digest
        assert len(coming[name]) == len(set(coming[name])) and len(uncovered[name]) == len(set(uncovered[name]))

    config = load_config(DEMO_CONFIG)
    with MailSink(tmp_path / "mail2") as sink:
        cfg = demo_config("http://127.0.0.1:9", sink.port)
        # a day later nothing new is due: no entry is sent twice
        send_alerts(cfg, db, now=utcnow() + timedelta(days=1))
        again = [m.get_body(("plain",)).get_content() for m in sink.messages]
        shown = {e for v in coming.values() for e in v} | {e for v in uncovered.values() for e in v}
        assert not shown & {e for t in again for e in entries(t, "Coming up") + entries(t, "Not yet covered")}

        # a new subscriber, once every meeting has passed: nothing coming up
        later = Subscriber(
            id="later", name="Later", email="later@example.org", frequency="immediate", topics=("privatisation",)
        )
        cfg_later = cfg.model_copy(update={"alerts": Alerts(subscribers=(later,))})
        before = len(sink.messages)
        send_alerts(cfg_later, db, now=utcnow() + timedelta(days=200))
        assert all(not entries(m.get_body(("plain",)).get_content(), "Coming up") for m in sink.messages[before:])

        # coverage arrives for the first "not yet covered" document: a new subscriber is not told of it
        organisers = next(n for n, v in uncovered.items() if v)
        title = uncovered[organisers][0].split(" | ")[0]
        (doc_id, doc_url) = db.execute(
            "SELECT article_id, coalesce(canonical_url, url) FROM articles WHERE title = ? AND kind = 'document'",
            [title],
        ).fetchone()
        press_url = "http://www.birminghammail.co.uk.test/news/midlands-news/council-report-covered"
        html = f'<p>The council published <a href="{doc_url}">the report</a> this week.</p>'
        press = Article(
            source_id="birmingham-live",
            url=press_url,
            fetched_at=utcnow().isoformat(timespec="seconds"),
            canonical_url=press_url,
            url_key=url_key(press_url),
            title="Council report published",
            text=re.sub("<[^>]+>", "", html),
            outlinks=(doc_url,),
            content_hash="h-covered",
        )
        save_article(db, press, config.settings)
        assert link_new(cfg, db).links_added >= 1
        assert db.execute(
            "SELECT how FROM article_links WHERE article_id = ? AND target_id = ?",
            [article_id_for(url_key(press_url)), doc_id],
        ).fetchone() == ("hyperlink",)
        fresh = Subscriber(
            id="fresh",
            name="Fresh",
            email="fresh@example.org",
            frequency="immediate",
            topics=("privatisation",),
            keywords=("privatisation", "outsourcing", "children's trust"),
        )
        before = len(sink.messages)
        send_alerts(cfg.model_copy(update={"alerts": Alerts(subscribers=(fresh,))}), db)
        told = [
            e for m in sink.messages[before:] for e in entries(m.get_body(("plain",)).get_content(), "Not yet covered")
        ]
        assert title not in told, told
    db.close()
