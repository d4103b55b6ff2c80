from config import load_config
from core.keywords import keyword_pattern
from pipelines.tag import Tagger

from tests.conftest import ROOT


def test_keyword_matches_words_apostrophes_and_stars():
    assert keyword_pattern("children's trust").search("the Children’s  Trust said")
    assert keyword_pattern("privatis*").search("plans to privatise the service")
    assert not keyword_pattern("privatis*").search("they privately concede")
    assert not keyword_pattern("cuts").search("Birmingham shortcuts")


def test_tagging_gives_topics_with_evidence_and_relevance():
    tagger = Tagger(load_config(ROOT / "config").topics)
    topics, relevance, relevant = tagger.tag(
        "Ofsted rates Birmingham children's services inadequate",
        "Inspectors found social workers had caseloads of 30. The council plans to outsource to a trust.",
    )
    by_id = {t.topic: t for t in topics}
    assert "ofsted" in by_id and "inadequate" in by_id["ofsted"].evidence
    assert "workforce" in by_id and "social workers" in by_id["workforce"].evidence
    assert "privatisation" in by_id
    assert relevant and relevance > 0


def test_off_topic_birmingham_story_is_not_relevant():
    tagger = Tagger(load_config(ROOT / "config").topics)
    _, _, relevant = tagger.tag("Sprint bus routes race the clock", "Birmingham's Commonwealth Games transport plan.")
    assert not relevant
