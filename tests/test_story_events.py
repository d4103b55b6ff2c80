"""Two different events on one subject, a day apart, from two outlets (issue 22: "Ofsted rates the
Trust inadequate" must not hide "the Trust's chief executive resigns"): crawled from fixture feeds
through the real spiders into a real archive, they are two stories, recorded as related, and the
digest shows each as an entry of its own, naming the other; `carewatch dedup explain` says why."""

from __future__ import annotations

import json

from carewatch.alerts.outbox import send_alerts
from carewatch.config.schema import Alerts, Subscriber
from carewatch.core.items import article_id_for
from carewatch.core.urls import url_key
from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import demo_config
from carewatch.demo.server import DemoServer
from carewatch.ops.crawl import run_crawl
from carewatch.ops.explain import explain
from carewatch.store.db import open_db
from carewatch.store.stories import story_pair

OFSTED = (
    "http://www.thechamberlainfiles.com.test/feed/",
    "http://www.thechamberlainfiles.com.test/ofsted-rates-trust-inadequate/",
    "Ofsted rates Birmingham Children's Trust inadequate",
    "Thu, 03 Dec 2026 09:00:00 +0000",
    [
        "Ofsted inspectors have rated Birmingham Children's Trust inadequate, finding that children at risk of "
        "harm waited too long for help and that social workers carried caseloads of more than thirty children.",
        "The inspection report, published on Thursday, said leaders had not understood how far practice had "
        "slipped since the last visit, and that the front door was overwhelmed by referrals.",
        "Inspectors found managers signing off assessments they had not read, and plans for children in care "
        "that had not been reviewed for months. The council must now produce an improvement plan.",
    ],
)
RESIGNS = (
    "http://www.birminghammail.co.uk.test/news/?service=rss",
    "http://www.birminghammail.co.uk.test/news/midlands-news/trust-chief-executive-resigns-29100001",
    "Birmingham Children's Trust chief executive resigns",
    "Fri, 04 Dec 2026 16:30:00 +0000",
    [
        "The chief executive of Birmingham Children's Trust has resigned, a day after Ofsted rated the trust "
        "inadequate, saying the organisation needs new leadership.",
        "In a letter to staff she thanked social workers for their commitment and said she would stay until a "
        "successor was appointed. The chair of the trust board paid tribute to her seven years in post.",
        "Council leaders said the search for a replacement would start immediately, and that the trust's "
        "board would meet on Monday to agree interim arrangements.",
    ],
)


def item(page: str, title: str, date: str, paras: list[str]) -> str:
    return (
        f"<item><title>{title}</title><link>{page}</link><pubDate>{date}</pubDate>"
        f"<guid isPermaLink='false'>{page}</guid><description><![CDATA[{paras[0]}]]></description></item>"
    )


def page(title: str, paras: list[str], body_class: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (
        f"<!DOCTYPE html><html lang='en-GB'><head><meta charset='UTF-8'><title>{title}</title></head><body>"
        f"<article><h1>{title}</h1><div class='{body_class}'>{body}</div></article></body></html>"
    )


def test_two_events_on_one_subject_are_two_entries(tmp_path):
    with DemoServer() as sites, MailSink(tmp_path / "mail") as sink:
        config = demo_config(sites.proxy_url, sink.port)
        reader = Subscriber(
            id="reader",
            name="Reader",
            email="reader@example.org",
            frequency="immediate",
            keywords=("children's trust",),
        )
        config = config.model_copy(
            update={
                "sources": tuple(s for s in config.sources if s.id in ("chamberlain-files", "birmingham-live")),
                "alerts": Alerts(subscribers=(reader,)),
            }
        )
        db_path = tmp_path / "a.db"
        run_crawl(config, db_path, log_level="CRITICAL")  # the feeds as they are
        db = open_db(db_path)
        send_alerts(config, db)  # what was there already, sent
        before = len(sink.messages)
        for feed, url, title, date, paras in (OFSTED, RESIGNS):
            body_class = "entry-content" if "chamberlain" in url else "article-body"
            sites.sites.publish(feed, item(url, title, date, paras), url, page(title, paras, body_class))
        run_crawl(config, db_path, log_level="CRITICAL")
        a, b = (article_id_for(url_key(x[1])) for x in (OFSTED, RESIGNS))
        pair = story_pair(db, a, b)
        # on one subject: close enough that the old single threshold (0.085) made them one story
        assert pair is not None and not pair.same_story and pair.similarity >= 0.085, pair
        related = db.execute("SELECT related_id FROM story_related WHERE article_id = ?", [b]).fetchall()
        assert (a,) in related
        sent = send_alerts(config, db)
        (msg,) = sink.messages[before:]
        text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        for _, _, title, _, _ in (OFSTED, RESIGNS):
            assert text.count(f"* {title}\n") == 1, title  # an entry of its own
            assert f": {title} — " not in text  # not "Also covered by" under the other
        assert "Related, another story: The Chamberlain Files: Ofsted rates Birmingham Children's Trust" in text
        assert [r.status for r in sent] == ["sent"]
        delivered = json.loads(db.execute("SELECT articles FROM deliveries ORDER BY id DESC LIMIT 1").fetchone()[0])
        assert {a, b} <= set(delivered)
        lines = explain(config, db, a, b).lines
        assert any(line.startswith("story similarity") for line in lines)
        assert "related, not one story: the digest shows both, each naming the other" in lines
        db.close()
