"""Topic, entity and relevance tagging: the rule language, the shipped taxonomy on the five real seed
texts and on the hand-labelled set, config errors in the taxonomy, and `carewatch tag`."""

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from carewatch.config import load_config
from carewatch.core.errors import ConfigError
from carewatch.core.items import Article, explain
from carewatch.core.keywords import keyword_pattern
from carewatch.core.query import Document, QueryError, check_names, matches, parse
from carewatch.pipelines.tag import Tagger, _evaluate, tag
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from tests.conftest import ROOT, carewatch, shared_data

CONFIG = load_config(ROOT / "config")
TAGGER = Tagger(CONFIG.topics, CONFIG.entities)


def _tags(title: str, text: str, published: str | None = None, local: bool = False):
    topics, relevance, relevant, why, entities = TAGGER.tag(title, text, published, local)
    return {t.topic: t for t in topics}, relevant, why, {e.entity: e for e in entities}


# -- the rule language -------------------------------------------------------------------------


def test_skipping_queries_an_article_cannot_match_changes_no_result():
    """The tagger skips a query when the article lacks every word it needs: the result is exactly
    what evaluating it gives, for every kind of query, matching or not, and for every query of the
    shipped taxonomy."""
    doc = Document(
        "Budget cuts hit Birmingham's children's services\nThe council's budgets for looked-after children "
        "were cut again, Ofsted said.",
        {"topic": {"funding"}, "entity": set()},
    )
    queries = [
        "budget*",
        "budg*",
        "nothing*",
        "children",
        "adults",
        '"social care"',
        '"children services"',
        "NOT adults",
        "NOT children",
        "adults OR children",
        "adults OR NOT children",
        "adults OR NOT zebras",
        "children AND ofsted",
        "children AND zebras",
        "zebras AND NOT children",
        "NOT zebras AND children",
        "budget* NEAR/3 children",
        "budget* NEAR/1 ofsted",
        "zebras NEAR/5 children",
        "topic:funding",
        "topic:funding AND zebras",
        "topic:funding OR zebras",
        "(zebras OR cuts) AND (birmingham OR lions)",
        '"looked after" AND NOT "adult social care"',
        "lion* OR tiger*",
    ]
    queries += [t.query for topic in CONFIG.topics.topics.values() for t in topic.terms]
    queries += [r.query for topic in CONFIG.topics.topics.values() for r in topic.rules]
    queries += [q for topic in CONFIG.topics.topics.values() for q in topic.exclude]
    assert len(queries) > 100
    for q in queries:
        assert _evaluate(q, doc) == parse(q).evaluate(doc), q
    assert _evaluate("zebras", doc) == parse("zebras").evaluate(doc)


def test_keyword_matches_words_apostrophes_and_stars():
    assert keyword_pattern("children's trust").search("the Children’s  Trust said")
    assert keyword_pattern("privatis*").search("plans to privatise the service")
    assert not keyword_pattern("privatis*").search("they privately concede")
    assert not keyword_pattern("cuts").search("Birmingham shortcuts")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("budget* NEAR/3 cuts", True),
        ("budget* NEAR/1 families", False),  # 4 words apart
        ('"children\'s services" AND NOT alabama', True),
        ('"children’s services"', True),  # straight and curly apostrophes alike
        ("Birmingham", True),  # Birmingham's is Birmingham
        ("looked-after", True),  # hyphens split words
        ('"looked after" NEAR/4 "care leavers"', True),
        ("(Sandwell OR Solihull) AND cuts", False),
        ("£*", True),  # any sum
        ("topic:funding AND £11m", True),
        ("topic:ofsted OR entity:ofsted", False),
        ('NOT "adult social care"', False),
        ("privatis* OR outsourc*", False),
        ("cuts budget", True),  # side by side = AND
    ],
)
def test_query_language(query, expected):
    doc = Document(
        "Birmingham's children's services face budget cuts of £11m for families, the council said. "
        "Looked-after children and care leavers will be hit. Adult social care too.",
        {"topic": {"funding"}, "entity": set()},
    )
    assert matches(query, doc).matched is expected


def test_hits_say_where_they_matched():
    doc = Document("one two budget three cuts")
    r = matches("budget NEAR/2 cuts", doc)
    assert r.hits == (("budget", 2, 2), ("cuts", 4, 4))


@pytest.mark.parametrize(
    "query, message",
    [
        ("(cuts OR budget", "unbalanced brackets"),
        ('"section 114', "unbalanced quotes"),
        ("cuts OR", "column"),
        ("AND cuts", "column"),
        ("", "empty"),
    ],
)
def test_bad_queries_say_what_is_wrong(query, message):
    with pytest.raises(QueryError, match=message):
        parse(query)


# -- the shipped taxonomy ----------------------------------------------------------------------


def test_topics_come_with_readable_evidence():
    topics, relevant, _, _ = _tags(
        "Ofsted rates Birmingham children's services inadequate",
        "Inspectors found social workers had caseloads of 30 and agency staff filled vacancies. "
        "The council plans to outsource the service to a voluntary trust model, ending council control.",
    )
    assert relevant
    assert {"ofsted", "workforce", "privatisation"} <= set(topics)
    ofsted = topics["ofsted"]
    terms = {term: count for term, count, _ in ofsted.evidence}
    assert terms["ofsted"] == 1 and terms["inadequate"] == 1  # the article's words, not the rule's
    assert "'ofsted' ×1" in explain(ofsted.evidence)


def test_not_counting_and_exclusions_and_dated_aliases():
    topics, relevant, why, entities = _tags(
        "Birmingham Children's Hospital opens new ward", "Birmingham Children's Hospital said the ward opens in May."
    )
    assert not relevant  # the hospital names Birmingham and children, but is not the place's children's services
    assert dict((w[0], w[1]) for w in why)["place"] == 0
    _, _, _, entities = _tags("Council leader speaks", "The council leader said Birmingham would act.", "2014-03-01")
    assert "albert_bore" in entities and "john_cotton" not in entities
    _, _, _, entities = _tags("Council leader speaks", "The council leader said Birmingham would act.", "2024-03-01")
    assert "john_cotton" in entities and "albert_bore" not in entities
    _, _, _, entities = _tags("Council leader speaks", "The council leader said Birmingham would act.")
    assert not entities  # no date: a role is nobody in particular


@pytest.mark.parametrize(
    "title, text, local, expected",
    [
        # confusables
        (
            "Birmingham, Alabama boosts child protection staff",
            "Birmingham, Alabama's child protection agency hires "
            "social workers for children in care across Jefferson County, Alabama.",
            False,
            False,
        ),
        (
            "Adult social care cuts in Birmingham",
            "Birmingham's adult social care budget faces cuts to home care.",
            False,
            False,
        ),
        (
            "Sandwell Children's Trust rated good",
            "Sandwell Children's Trust, which runs children's services in Sandwell, "
            "was praised. Sandwell's children in care were safer, inspectors said; unlike Birmingham years ago.",
            False,
            False,
        ),
        # relevant without the obvious phrases, from a local source
        (
            "Trust social workers balloted over caseloads",
            "Social workers employed by the trust are to be balloted. "
            "Child protection teams say caseloads are too high.",
            True,
            True,
        ),
        (
            "Foster carers take their case to full council",
            "Foster carers and care leavers asked councillors in "
            "Birmingham to drop the cut to fostering allowances for looked-after children.",
            False,
            True,
        ),
        # a page speaking to its reader, quoting nobody: a fostering agency's
        (
            "Fostering in Birmingham",
            "Could you foster a child in Birmingham? Your spare room could give children in care a home. "
            "You will get training and support, and you choose the placements you can offer. Foster carers in "
            "Birmingham are needed now: call us and start your application today. Your journey begins here.",
            False,
            False,
        ),
        # a guide to fostering that quotes nobody and reports nothing, in the third person
        (
            "Fostering in Birmingham",
            "Birmingham has more children in care than any other local authority, and more foster carers are "
            "needed. Independent fostering agencies and the council both recruit carers; the types of fostering "
            "include short-term, long-term and emergency placements for children in care across the city.",
            False,
            False,
        ),
        # ... while a news report of a recruitment drive quotes somebody
        (
            "Birmingham appeals for 150 new foster carers",
            "Birmingham Children's Trust says more foster carers are needed for teenagers and sibling groups "
            "in care. Its head of fostering said children were being placed outside the city.",
            False,
            True,
        ),
        # ... and one that calls its reader to act is a campaign
        (
            "Save our children's centres",
            "Birmingham City Council plans the closure of 20 children's centres. Come to the protest on "
            "Saturday, sign the petition and write to your councillor: your children's centre could be next, "
            "and the children in need who use it will have nowhere to go. You can stop it.",
            False,
            True,
        ),
        # a school's inspection: its pupils, SEND and safeguarding, but neither social care nor the council
        (
            "Springfield Primary School inspection report",
            "Springfield Primary School in Birmingham is a good school. Pupils with special educational needs "
            "and disabilities are well supported and safeguarding arrangements are effective. The headteacher "
            "has improved the curriculum, and children in the Nursery class settle quickly.",
            False,
            False,
        ),
        # ... while a SEND story about pupils names the council's part
        (
            "Pupils with SEND left without school transport",
            "Hundreds of pupils with special educational needs in Birmingham were left without school transport "
            "after the council changed its contractor; parents of children with EHCPs said the headteacher had "
            "to send pupils home.",
            False,
            True,
        ),
        # a hospital's safeguarding page: health, not children's social care
        (
            "Safeguarding children at our hospitals",
            "Our safeguarding team supports staff across our Birmingham hospitals to protect children and "
            "young people. Nurses and health visitors share concerns about a child's safety with the named "
            "nurse for safeguarding, and patients' families can ask for help.",
            False,
            False,
        ),
        # the CQC inspects health services: a hospital's children's ward is not children's social care
        (
            "Birmingham NHS trust's children's services rated inadequate",
            "The Care Quality Commission rated children's services at a Birmingham NHS trust inadequate, "
            "finding long waits for children in care to have health assessments.",
            False,
            False,
        ),
    ],
)
def test_relevance_rejects_confusables_and_keeps_quiet_relevant_stories(title, text, local, expected):
    _, relevant, why, _ = _tags(title, text, local=local)
    assert relevant is expected, why


def test_exact_matches_the_capitals_as_written():
    doc = Document("SEND reforms: parents send letters about SEND's transport")
    assert [h[1] for h in matches("exact:SEND", doc).hits] == [0, 6]
    assert [h[1] for h in matches("send", doc).hits] == [0, 3, 6]
    assert not matches("exact:Send", doc).matched
    # a school report's "send" is no SEND evidence; the acronym still is
    topics, _, _, _ = _tags("Parents send a letter", "Parents will send a letter to the school in Birmingham.")
    assert "send" not in topics
    topics, _, _, _ = _tags("SEND transport cut", "SEND transport for Birmingham pupils with EHCPs is cut.")
    assert "send" in topics


def test_exact_is_refused_where_capitals_are_not_kept(tmp_path):
    """Searches and alert rules run over the full-text index, which folds capitals: exact: there would
    silently match the verb, so it is refused with the reason."""
    with pytest.raises(QueryError, match="exact:SEND is for topics.yaml and entities.yaml only"):
        check_names("exact:SEND AND transport", {})
    check_names("exact:SEND AND transport", {}, exact=True)


SEEDS = {  # seed file prefix: (topics a campaigner would give, topics it must not get, why)
    "000": (
        {"privatisation", "campaigns", "funding"},
        {"send", "child_deaths"},
        "a declaration against privatisation and cuts, drafted by SWAN, UNISON and Birmingham Against the Cuts "
        "for a public meeting",
    ),
    "001": ({"privatisation"}, {"send", "child_deaths"}, "a campaign leaflet against privatising children's services"),
    "002": (
        {"privatisation", "funding"},
        {"send"},
        "the council hands children's services to a voluntary trust; the city's budget cut by £450M",
    ),
    "003": (
        {"leadership", "ofsted"},
        {"send"},
        "the council leader, cabinet member and strategic director launch another improvement plan for Ofsted "
        "and the Education Secretary",
    ),
    "004": (
        {"privatisation", "leadership", "ofsted"},
        {"send", "child_deaths"},
        "failing (Ofsted) services to be placed in a trust; Lord Warner, the commissioner",
    ),
}


@pytest.mark.parametrize("prefix", sorted(SEEDS))
def test_seed_texts_get_the_topics_a_campaigner_would_give(prefix):
    path = next(shared_data("..", "seeds").glob(f"{prefix}_*.txt"))
    text = path.read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    title = lines[1] if lines[0].startswith("The Chamberlain Files") else lines[0]
    topics, relevant, why, _ = _tags(title, text)
    want, never, reason = SEEDS[prefix]
    assert relevant, why
    assert want <= set(topics), f"{reason}: got {sorted(topics)}"
    assert not never & set(topics), f"{reason}: got {sorted(topics)}"


def test_labelled_set_meets_the_targets():
    """The bench prints the details (bench/tagging.py); this keeps the shipped taxonomy from regressing."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from tagging import LOCAL, load_set, score

    items = load_set()
    assert len(items) >= 150

    def ours(it):
        topics, _, relevant, _, _ = TAGGER.tag(
            it["title"], it["text"], str(it.get("published") or ""), it["source"] in LOCAL
        )
        return {m.topic for m in topics}, relevant

    result = score(items, ours)
    precision, recall, _ = result["relevance"]
    assert result["macro_f1"] >= 0.85
    assert precision >= 0.95 and recall >= 0.95


# -- config errors -----------------------------------------------------------------------------


def _config_with(tmp_path: Path, old: str, new: str) -> Path:
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    text = (cfg / "topics.yaml").read_text(encoding="utf-8")
    assert old in text
    (cfg / "topics.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return cfg


def _line_of(cfg: Path, needle: str) -> int:
    return next(i for i, ln in enumerate((cfg / "topics.yaml").read_text().splitlines(), 1) if needle in ln)


def test_unbalanced_brackets_fail_config_check_with_file_line_and_field(tmp_path):
    cfg = _config_with(tmp_path, "query: '(trust OR company) NEAR/8", "query: '((trust OR company) NEAR/8")
    result = carewatch("--config", str(cfg), "config", "check")
    assert result.returncode == 2
    line = _line_of(cfg, "((trust OR company)")
    assert f"topics.yaml:{line}: topics.privatisation.rules.0.query: unbalanced brackets" in result.stderr


def test_unknown_topic_in_an_exclusion_fails_config_check(tmp_path):
    cfg = _config_with(
        tmp_path,
        "    min_score: 4\n\n  workforce:",
        "    exclude: ['topic:fundng AND NOT Birmingham']\n    min_score: 4\n\n  workforce:",
    )
    result = carewatch("--config", str(cfg), "config", "check")
    assert result.returncode == 2
    line = _line_of(cfg, "topic:fundng")
    assert f"topics.yaml:{line}: topics.child_deaths.exclude.0: unknown topic 'fundng'" in result.stderr, result.stderr


def test_topic_rules_may_use_other_topics(tmp_path):
    cfg = _config_with(
        tmp_path,
        "    min_score: 4\n\n  workforce:",
        "    exclude: ['topic:council_finances']\n    min_score: 4\n\n  workforce:",
    )
    config = load_config(cfg)  # valid: child_deaths now depends on council_finances
    tagger = Tagger(config.topics, config.entities)
    text = (
        "The serious case review into the death of Child T was published. The council, under a section 114 "
        "notice and seeking exceptional financial support, said Birmingham's children's services would learn."
    )
    with_exclusion = {t.topic for t in tagger.tag("Review published", text)[0]}
    assert "council_finances" in with_exclusion and "child_deaths" not in with_exclusion
    assert "child_deaths" in {t.topic for t in TAGGER.tag("Review published", text)[0]}


def test_relevance_without_subjects_uses_the_built_in_ones(tmp_path):
    # The schema's default subjects must be evidence like the ones written in topics.yaml (they were
    # once bare strings, and tagging crashed on them).
    text = (ROOT / "config" / "topics.yaml").read_text(encoding="utf-8")
    start = text.index("  subjects:\n")
    end = text.index("  not_counting:", start)
    cfg = _config_with(tmp_path, text[start:end], "")
    config = load_config(cfg)
    subjects = [s.query for s in config.topics.relevance.subjects]
    assert subjects == ['"children\'s services"', '"children\'s social care"']
    _, _, _, why, _ = Tagger(config.topics, config.entities).tag(
        "Trust improvement plan",
        "Birmingham's children's services and children's social care are to be run by the trust, the council said.",
    )
    assert {"children's services", "children's social care"} <= {e[0] for e in why}, why


def test_a_cycle_of_topic_references_is_refused(tmp_path):
    cfg = _config_with(
        tmp_path, "    min_score: 4\n\n  workforce:", "    exclude: ['topic:funding']\n    min_score: 4\n\n  workforce:"
    )
    text = (cfg / "topics.yaml").read_text()
    (cfg / "topics.yaml").write_text(
        text.replace(
            "    min_score: 4\n\n  child_deaths:",
            "    exclude: ['topic:child_deaths']\n    min_score: 4\n\n  child_deaths:",
            1,
        )
    )
    with pytest.raises(ConfigError, match="cycle"):
        load_config(cfg)


# -- carewatch tag --explain / --retag ---------------------------------------------------------


def _archive(path: Path) -> list[str]:
    db = open_db(path)
    ids = []
    for i, (title, text) in enumerate(
        [
            (
                "Ofsted rates Birmingham children's services inadequate",
                "Ofsted inspectors judged the service inadequate.",
            ),
            (
                "Birmingham social workers to strike",
                "Social workers in Birmingham's children's services voted to strike "
                "over caseloads, vacancies and agency staff. UNISON said recruitment had failed.",
            ),
            ("Bin strike continues", "Birmingham's bin strike enters a new week."),
        ]
    ):
        a = Article(
            source_id="test",
            url=f"https://example.test/{i}",
            canonical_url=f"https://example.test/{i}",
            url_key=f"example.test/{i}",
            fetched_at="2024-01-01T00:00:00+00:00",
            title=title,
            text=text,
            content_hash=f"h{i}",
        )
        a = tag(a, TAGGER)
        save_article(db, a)
        ids.append(db.execute("SELECT article_id FROM articles WHERE url = ?", [a.url]).fetchone()[0])
    db.close()
    return ids


def test_tag_explain_shows_the_evidence(tmp_path):
    ids = _archive(tmp_path / "a.db")
    result = carewatch("--db", str(tmp_path / "a.db"), "tag", "--explain", ids[0])
    assert result.returncode == 0, result.stderr
    assert "relevance: RELEVANT" in result.stdout
    assert "topic ofsted (Ofsted inspections and ratings)" in result.stdout and "'ofsted' ×2" in result.stdout
    data = json.loads(carewatch("--db", str(tmp_path / "a.db"), "tag", "--explain", ids[2], "--json").stdout)
    assert data["relevant"] is False and data["topics"] == []
    stored = (
        sqlite3.connect(tmp_path / "a.db")
        .execute("SELECT evidence FROM article_topics WHERE article_id = ? AND topic = 'ofsted'", [ids[0]])
        .fetchone()[0]
    )
    assert ["ofsted", 2] in [e[:2] for e in json.loads(stored)]


def test_retag_applies_a_changed_taxonomy_and_resumes(tmp_path):
    ids = _archive(tmp_path / "a.db")
    db = sqlite3.connect(tmp_path / "a.db")
    assert db.execute("SELECT count(*) FROM article_topics WHERE topic = 'workforce'").fetchone()[0] == 1
    cfg = _config_with(tmp_path, "    min_score: 8\n", "    min_score: 80\n")  # workforce made unreachable
    result = carewatch("--config", str(cfg), "--db", str(tmp_path / "a.db"), "tag", "--retag", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"articles": 3, "changed": 1, "resumed_from": 0, "total": 3}
    assert db.execute("SELECT count(*) FROM article_topics WHERE topic = 'workforce'").fetchone()[0] == 0
    # an interrupted run (progress recorded after the first article) resumes after it
    from carewatch.ops.retag import taxonomy_key

    key = taxonomy_key(load_config(ROOT / "config"))
    db.execute("INSERT INTO retag_progress (taxonomy, last_rowid, done, started) VALUES (?, 1, 0, 'x')", [key])
    db.commit()
    result = carewatch("--db", str(tmp_path / "a.db"), "tag", "--retag", "--json")
    assert json.loads(result.stdout) == {"articles": 2, "changed": 1, "resumed_from": 1, "total": 3}
    assert db.execute("SELECT count(*) FROM article_topics WHERE topic = 'workforce'").fetchone()[0] == 1
    assert db.execute("SELECT done FROM retag_progress WHERE taxonomy = ?", [key]).fetchone()[0] == 1
    assert ids
