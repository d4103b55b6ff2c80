"""What a headline reports decides between one story and two related ones (issue 22): two outlets'
reports of one event, in their own words, are one story even when their wording is only as close as
related articles' ("effectively bankrupt", "bankruptcy notice"); two events on one subject stay
related, each an entry of its own, even when their wording is as close as one story's ("declares
itself effectively bankrupt", "chief executive resigns"). Stored through ``save_article`` into a real
SQLite archive; the similarity band of each pair is asserted first, so each case shows what it
claims; ``dedup explain`` says which events each headline reports."""

from __future__ import annotations

import pytest

from carewatch.config import load_config
from carewatch.config.schema import Settings
from carewatch.core.items import Article, article_id_for
from carewatch.core.urls import url_key
from carewatch.ops.explain import story_lines
from carewatch.store.articles import save_article, stored_article
from carewatch.store.db import open_db
from carewatch.store.stories import EVENT, story_events, story_pair, story_verdict
from tests.conftest import ROOT

SETTINGS = Settings()
WHEN = "2026-12-01T09:00:00+00:00"

BANKRUPT = (
    "bbc",
    "https://bbc.test/council-bankrupt",
    "Birmingham City Council declares itself effectively bankrupt",
    "Europe's largest local authority has stopped all but essential spending after issuing a notice to its "
    "auditors. Leaders blamed a bill for equal pay claims estimated at hundreds of millions of pounds and a failed "
    "computer system. Residents were told bins would still be emptied and schools kept open while officers drew up "
    "an emergency budget.",
)
NOTICE = (
    "guardian",
    "https://guardian.test/bankruptcy-notice",
    "Bankruptcy notice for England's biggest council",
    "The Labour-run authority in Birmingham admitted on Tuesday that it cannot balance its books this year. "
    "Opposition councillors demanded resignations and ministers said they were ready to send in officials. "
    "The equal pay liability has grown for more than a decade, and officers are drawing up an emergency budget.",
)
RESIGNS = (
    "itv",
    "https://itv.test/chief-executive-resigns",
    "Birmingham City Council chief executive resigns",
    "Europe's largest local authority has lost its chief executive, a week after issuing a notice to its "
    "auditors. In a letter to staff she thanked colleagues and said the organisation needed a fresh start. "
    "The council said an interim successor would be appointed within days.",
)


def store(tmp_path, *pieces):
    db = open_db(tmp_path / "archive.db")
    for source, url, title, text in pieces:
        article = Article(
            source_id=source,
            url=url,
            fetched_at=WHEN,
            canonical_url=url,
            url_key=url_key(url),
            title=title,
            text=text,
            published=WHEN,
        )
        assert save_article(db, article, SETTINGS) == "new"
    return db, [article_id_for(url_key(p[1])) for p in pieces]


def related(db, a: str, b: str) -> bool:
    return (
        db.execute("SELECT 1 FROM story_related WHERE article_id = ? AND related_id = ?", [a, b]).fetchone() is not None
    )


def test_one_event_in_two_outlets_words_is_one_story(tmp_path):
    db, (a, b) = store(tmp_path, BANKRUPT, NOTICE)
    pair = story_pair(db, a, b)
    # only as close as related articles: without the headlines' event, two entries
    assert SETTINGS.story_related_similarity <= pair.similarity < SETTINGS.story_similarity, pair
    assert pair.events_a == pair.events_b == ("section_114",)
    assert pair.same_story and not related(db, a, b)
    db.close()


def test_two_events_in_close_words_are_related_not_one_story(tmp_path):
    db, (a, b) = store(tmp_path, BANKRUPT, RESIGNS)
    pair = story_pair(db, a, b)
    # as close as one story's coverage, but not beyond doubt
    assert SETTINGS.story_similarity <= pair.similarity < SETTINGS.story_certain_similarity, pair
    assert (pair.events_a, pair.events_b) == (("section_114",), ("leadership",))
    assert not pair.same_story and related(db, a, b) and related(db, b, a)
    config = load_config(ROOT / "config")
    lines = story_lines(config, db, stored_article(db, a), stored_article(db, b))
    assert "what the headlines report: A section_114; B leadership" in lines
    assert "related, not one story: alike, but their headlines report different events; the digest shows both" in lines
    db.close()


@pytest.mark.parametrize(
    "similarity, a, b, days, verdict",
    [
        (0.25, {"inspection"}, {"leadership"}, 0, "story"),  # alike beyond doubt: the headlines do not matter
        (0.15, {"inspection"}, {"leadership"}, 0, "related"),  # different events
        (0.15, {"inspection"}, {"inspection", "leadership"}, 0, "story"),  # one shared
        (0.15, set(), {"leadership"}, 0, "story"),  # one headline names no event: the wording decides
        (0.10, {"section_114"}, {"section_114"}, 0, "story"),  # related wording, the same event
        (0.10, set(), set(), 0, "related"),
        (0.10, {"trial"}, {"verdict"}, 0, "related"),
        (0.05, {"section_114"}, {"section_114"}, 0, None),  # too far apart for any event word to join
        # days apart: the same day or the next is one event's coverage; each day beyond adds
        # story_similarity_per_day (0.12) to what one story needs
        (0.15, set(), set(), 1, "story"),
        (0.15, set(), set(), 2, "related"),  # one story from 0.24
        (0.25, set(), set(), 2, "story"),
        (0.25, {"verdict"}, {"sentence"}, 1, "story"),  # alike beyond doubt (0.2) the next day
        (0.25, {"verdict"}, {"sentence"}, 2, "related"),  # the sentencing two days after the verdict
        (0.35, {"verdict"}, {"sentence"}, 2, "story"),  # alike beyond doubt (0.32) even two days apart
    ],
)
def test_the_verdict(similarity, a, b, days, verdict):
    terms = ({"birmingham", *(EVENT + e for e in a)}, {"birmingham", *(EVENT + e for e in b)})
    assert story_verdict(similarity, *terms, SETTINGS, days) == verdict


def test_headlines_events():
    assert story_events("Ofsted rates Birmingham Children's Trust inadequate", SETTINGS) == {EVENT + "inspection"}
    assert story_events("Couple who killed Arthur jailed", SETTINGS) == {EVENT + "sentence"}
    assert story_events("Sentences for Arthur's killers to be reviewed", SETTINGS) == {EVENT + "sentence_review"}
    assert story_events("Giant rats and stench in the city", SETTINGS) == set()
    # a subject is no event; the steps of a dispute are
    assert story_events("Birmingham bin strike to continue as deal rejected", SETTINGS) == {EVENT + "offer_rejected"}
    assert story_events("Talks to end bin strike break down", SETTINGS) == {EVENT + "talks_collapse"}
    # of one sequence, the latest step named: the sentencing, not the verdict
    assert story_events("Pair guilty of cruelty jailed for at least 30 years", SETTINGS) == {EVENT + "sentence"}
    assert story_events("Mother and stepfather found guilty, face life sentences", SETTINGS) == {EVENT + "verdict"}


def test_sequences_name_known_events():
    with pytest.raises(ValueError, match="story_event_sequences names 'appeal', not in story_events"):
        Settings(story_event_sequences=(("verdict", "appeal"),))
