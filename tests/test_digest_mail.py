"""Digests that survive real mail: the subject a mail program decodes is the one intended, a digest
of a 1,000-article story (or of many long stories) stays under 100 KB with its footer and
unsubscribe link, and every place that counts a digest's articles says the same number.

The messages are parsed back from their bytes as a mail program gets them, with the standard
library's modern parser and its legacy ``decode_header`` (the way older clients read RFC 2047)."""

from __future__ import annotations

import email
import email.header
import email.policy
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from carewatch.alerts.render import entries, render_message, subject_for
from carewatch.alerts.rules import Match
from carewatch.config import load_config
from carewatch.config.schema import Subscriber
from carewatch.store.alerting import AlertArticle
from tests.conftest import ROOT, carewatch

CONFIG = load_config(ROOT / "config")
SUB = Subscriber(
    id="organisers",
    name="Campaign organisers",
    email="organisers@example.org",
    frequency="immediate",
    topics=("funding",),
)
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
LIMIT = 100_000
TOPICS = json.dumps([{"topic": "funding", "label": "Funding, budgets and cuts", "score": 1, "evidence": []}])


def _decoded(raw: bytes) -> tuple[str, str]:
    """The Subject as the modern parser and as the legacy decoder read it."""
    modern = email.message_from_bytes(raw, policy=email.policy.default)["Subject"]
    legacy = email.message_from_bytes(raw)["Subject"]
    return str(modern), str(email.header.make_header(email.header.decode_header(legacy)))


def _article(n: int, *, story: str | None, title: str, source: str = "birmingham-post") -> AlertArticle:
    seen = (NOW - timedelta(minutes=n)).isoformat(timespec="seconds")
    text = f"{title}. Birmingham Children's Trust must find savings; the cuts fall on early help. " * 3
    return AlertArticle(
        n, f"a{n:05d}", source, f"https://{source}.test/{n}", None, title, text, seen, seen, TOPICS, "[]", 1, story, 1
    )


def _message(matches: list[Match], sub: Subscriber = SUB, config=CONFIG):
    return render_message(config, sub, entries(config, matches, {}, sub), NOW)


# -- the subject ---------------------------------------------------------------------------------
TITLES = [
    "Birmingham social workers' caseloads 'unsafe', union survey finds",  # the one the demo broke
    "Agency social workers engaged by Birmingham Children’s Trust",
    "Trust told to find £20m of cuts — Birmingham sets its budget",
    "Ofsted: “inadequate” rating for Birmingham’s children’s homes after inspection visit",
    "Plain ASCII title about Birmingham children's services and the section 114 notice",
]


@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize("shift", range(0, 40, 3))
def test_the_decoded_subject_is_the_intended_one_wherever_the_header_folds(title, shift):
    # a prefix of varying length moves every fold point across the words and the non-ASCII characters
    lead = _article(1, story="s1", title=("x" * shift + " " if shift else "") + title)
    others = [_article(i, story=f"s{i}", title=f"Story {i} about Birmingham’s budget") for i in range(2, 5)]
    msg = _message([Match(lead, ("topic:funding",)), *(Match(o, ("topic:funding",)) for o in others)])
    intended = subject_for(
        entries(CONFIG, [Match(lead, ("topic:funding",))] + [Match(o, ("topic:funding",)) for o in others], {}, SUB)
    )
    raw = msg.as_bytes()
    assert _decoded(raw) == (intended, intended)
    assert "  " not in intended
    header_lines = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert max(len(line) for line in header_lines) <= 78, header_lines


def test_every_demo_digest_decodes_to_its_subject_and_the_counts_agree(tmp_path):
    """`carewatch demo` end to end: each .eml's decoded subject is the subject recorded for it, and
    the demo's summary, the subject and `alerts list --json` give one count."""
    db = tmp_path / "demo.db"
    summary = carewatch("--db", str(db), "demo")
    assert summary.returncode == 0, summary.stderr
    listed = carewatch("--config", str(ROOT / "demo" / "config"), "--db", str(db), "alerts", "list", "--json")
    rows = {d["address"]: d for d in json.loads(listed.stdout)}
    emls = sorted((tmp_path / "demo-mail").glob("*.eml"))
    assert len(emls) == len(rows) >= 2
    for eml in emls:
        raw = eml.read_bytes()
        to = email.message_from_bytes(raw, policy=email.policy.default)["To"]
        row = rows[str(to)]
        assert _decoded(raw) == (row["subject"], row["subject"]), eml.name
        # the demo prints "<address>: N article(s) in M stories — <subject>"
        line = next(ln for ln in summary.stdout.splitlines() if f" {to}: " in ln)
        printed = int(re.search(r": (\d+) article\(s\)", line)[1])
        in_subject = re.match(r"carewatch: ([\d,]+) new", row["subject"])
        assert printed == row["article_count"], line
        assert in_subject and int(in_subject[1].replace(",", "")) == printed, row["subject"]
        assert line.endswith(row["subject"])


# -- the size ------------------------------------------------------------------------------------
def _parts(msg):
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    return parsed.get_body(("plain",)).get_content(), parsed.get_body(("html",)).get_content()


def test_a_1000_article_story_makes_a_digest_under_100_kb_with_its_footer():
    lead = _article(0, story="big", title="Birmingham children's trust budget: the back-filled story")
    coverage = [
        _article(i, story="big", title=f"Copy {i} of the back-filled story, Birmingham", source=f"outlet-{i % 40}")
        for i in range(1, 1001)
    ]
    others = [_article(2000 + i, story=f"o{i}", title=f"Another Birmingham story {i}") for i in range(80)]
    matches = [Match(a, ("topic:funding",)) for a in (lead, *coverage, *others)]
    config = CONFIG.model_copy(
        update={
            "settings": CONFIG.settings.model_copy(update={"archive_url": "https://example.org/archive/cw/articles"})
        }
    )
    msg = _message(matches, config=config)
    size = len(msg.as_bytes())
    text, html = _parts(msg)
    assert size < LIMIT, size
    assert msg["Subject"].startswith("carewatch: 1,081 new (Funding 1,081) — ")
    # the footer and the unsubscribe link are there, in both parts
    assert 'class="unsubscribe" href="mailto:' in html and "unsubscribe" in text.rsplit("--", 1)[-1]
    # the story lists 10 of its 1,000 other links and links the rest in the archive
    assert html.count("Also covered by:") == 1
    assert "and 990 more" in html and "https://example.org/archive/cw/articles?story_id=big" in html
    assert "and 990 more in the archive: https://example.org/archive/cw/articles?story_id=big" in text
    # at most 50 stories listed; the other 31 counted and linked
    assert html.count('<div class="item"') == 50
    assert "and 31 more stories (31 articles)" in html and "cw/articles?first_seen__gte=" in html
    # the summary of sections is at the top, before the first story
    assert html.index('class="summary"') < html.index('<div class="item"')
    assert "In this digest: Funding, budgets and cuts 1,081" in text


def test_long_stories_with_many_links_are_cut_to_fit_and_counted():
    """50 stories each at the limits (a 300-character title, 10 links of long titles, an edit) would
    pass 100 KB: stories are dropped from the end until the message fits, and said to be."""
    matches = []
    for s in range(60):
        title = f"Birmingham story {s} " + "with a very long headline about children's social care " * 6
        lead = _article(s * 20, story=f"s{s}", title=title)
        matches.append(Match(lead, ("topic:funding",), edit="- old words\n+ new words " * 50 if s % 2 else None))
        matches += [
            Match(_article(s * 20 + k, story=f"s{s}", title=title + f" copy {k}", source=f"o{k}"), ("topic:funding",))
            for k in range(1, 12)
        ]
    msg = _message(matches)
    size = len(msg.as_bytes())
    text, html = _parts(msg)
    listed = html.count('<div class="item"')
    assert size < LIMIT, size
    assert 1 <= listed < 50 + 30  # cut for size (edits stand alone, so there are more than 60 entries)
    assert 'class="unsubscribe"' in html and "To stop them" in text
    more = re.search(r"and (\d+) more stories \((\d+) articles\)", html)
    assert more, "the stories left out are counted"
    total = int(re.match(r"carewatch: ([\d,]+) new", str(msg["Subject"]))[1].replace(",", ""))
    assert total == len(matches)
