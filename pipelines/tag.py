"""Topic tags, entities and relevance, each with its evidence, from config/topics.yaml and
config/entities.yaml.

A topic is given when its evidence reaches its ``min_score``: each hit of a term adds the term's
weight (twice in the headline, at most ``cap`` hits), each boolean rule that holds adds its weight,
words inside a ``not_counting`` phrase are not evidence, and an ``exclude`` rule that holds vetoes
the topic. Rules may name entities (``entity:ofsted``) and other topics (``topic:funding``): entities
are found first, then topics in the order their references need.

Relevance is a separate judgement: the place must be named (outside its ``not_places`` phrases) at
least as often as other places, and the subject evidence must reach its own ``min_score``.
Irrelevant articles are stored, marked, and never alerted. The rules are evaluated by
``core.query`` over one word index of the article, each only when the article has one of the words
it cannot match without (``_needs``, worked out once per query): most of the few hundred queries of
topics.yaml and entities.yaml name words a given article does not contain, and skipping them gives
the same result (a query that cannot match has no hits) at a fraction of the cost.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache

from scrapy.exceptions import DropItem

from carewatch.config.schema import Config, Entities, Topics
from carewatch.config.schema import Evidence as Weighted
from carewatch.core.items import Article, EntityMatch, Evidence, Meeting, SeenIndex, TopicMatch
from carewatch.core.keywords import any_pattern
from carewatch.core.query import And, Document, Field, Hit, Near, Node, Or, Result, Term, parse, words

_NO_MATCH = Result(False)


def _needs_node(node: Node) -> tuple[frozenset[str], frozenset[str]] | None:
    """(words, prefixes): the document must contain one of the words, or a word starting with one of
    the prefixes, for ``node`` to match; None when it can match without any (NOT, a field filter)."""
    if isinstance(node, Term):
        if not node.parts:
            return None
        first = node.parts[0]  # a phrase matches only where its first word is
        return (frozenset(), frozenset([first[:-1]])) if first.endswith("*") else (frozenset([first]), frozenset())
    if isinstance(node, Or):  # before And, which it extends: any branch may match, so each one's words
        branches = [_needs_node(c) for c in node.children]
        if any(b is None for b in branches):
            return None
        return frozenset().union(*(b[0] for b in branches if b)), frozenset().union(*(b[1] for b in branches if b))
    if isinstance(node, And | Near):  # every part must match: the words of any one part will do
        parts = [_needs_node(c) for c in (node.children if isinstance(node, And) else (node.left, node.right))]
        known = [p for p in parts if p is not None]
        return min(known, key=lambda p: len(p[0]) + len(p[1])) if known else None
    if isinstance(node, Field) and node.name == "exact":
        return frozenset([node.value.lower()]), frozenset()
    return None  # Not, Field: can match whatever words the document has


@lru_cache(maxsize=4096)
def _needs(query: str) -> tuple[frozenset[str], frozenset[str]] | None:
    return _needs_node(parse(query))


def _evaluate(query: str, doc: Document) -> Result:
    """``parse(query).evaluate(doc)``, skipped (no match) when the document lacks every word the
    query needs."""
    needs = _needs(query)
    # (the dict's keys view iterates the smaller side; frozenset.isdisjoint(dict) would walk the whole vocabulary)
    if needs is not None and doc.positions.keys().isdisjoint(needs[0]) and not any(map(doc.prefixed, needs[1])):
        return _NO_MATCH
    return parse(query).evaluate(doc)


def _spans(queries: tuple[str, ...], doc: Document) -> list[tuple[int, int]]:
    return [(h[1], h[2]) for q in queries for h in _evaluate(q, doc).hits]


def _inside(hit: Hit, spans: list[tuple[int, int]]) -> bool:
    return any(a <= hit[1] and hit[2] <= b for a, b in spans)


def _score(
    doc: Document,
    headline: int,
    terms: tuple[Weighted, ...],
    rules: tuple[Weighted, ...],
    blocked: list[tuple[int, int]],
) -> tuple[float, list[Evidence]]:
    """Points and evidence of weighted terms and rules (hits inside blocked spans do not count)."""
    score, evidence = 0.0, []
    seen: dict[str, list[int]] = {}  # the words as the article has them -> their positions
    for t in terms:
        hits = [h for h in _evaluate(t.query, doc).hits if not _inside(h, blocked)]
        if not hits:
            continue
        hits.sort(key=lambda h: (h[1] >= headline, h[1]))  # headline hits first
        counted = hits[: t.cap]
        score += sum(t.weight * (2 if h[1] < headline else 1) for h in counted)
        for h in hits:
            seen.setdefault(" ".join(doc.surface[h[1] : h[2] + 1]).lower().replace("’", "'"), []).append(h[1])
    evidence += [(words_, len(pos), tuple(sorted(pos)[:3])) for words_, pos in seen.items()]
    for r in rules:
        result = _evaluate(r.query, doc)
        if result.matched and not (result.hits and all(_inside(h, blocked) for h in result.hits)):
            score += r.weight
            evidence.append((r.name or r.query, 1, tuple(sorted({h[1] for h in result.hits}))[:3]))
    evidence.sort(key=lambda e: -e[1])
    return score, evidence


@dataclass(frozen=True)
class Tagger:
    topics: Topics
    entities: Entities = field(default_factory=Entities)

    def __post_init__(self) -> None:
        order: list[str] = []

        def visit(tid: str) -> None:
            if tid in order:
                return
            t = self.topics.topics[tid]
            for q in [r.query for r in t.rules] + list(t.exclude):
                for name, value in parse(q).fields():
                    if name == "topic" and value in self.topics.topics and value != tid and value not in order:
                        visit(value)
            order.append(tid)

        for tid in self.topics.topics:
            visit(tid)
        object.__setattr__(self, "_order", tuple(order))

    def tag(
        self, title: str, text: str, published: str | None = None, local: bool = False
    ) -> tuple[tuple[TopicMatch, ...], float, bool, tuple[Evidence, ...], tuple[EntityMatch, ...]]:
        """(topics, relevance score, relevant, relevance evidence, entities) of one article; ``local``: its
        source publishes only about the place, so the place counts as named once."""
        doc = Document(f"{title}\n{text}", {"topic": set(), "entity": set()})
        headline = len(words(title))
        day = (published or "")[:10]
        found = []
        for eid, e in self.entities.entities.items():
            evidence: list[Evidence] = []
            for alias in e.aliases:
                query = alias if isinstance(alias, str) else alias.query
                if not isinstance(alias, str) and (
                    not day or (alias.start and day < alias.start) or (alias.end and day > alias.end)
                ):
                    continue  # "the council leader" names a person only while they held the post
                hits = _evaluate(query, doc).hits
                if hits:
                    evidence.append((query, len(hits), tuple(h[1] for h in hits[:3])))
            if evidence:
                doc.facts["entity"].add(eid)
                found.append(EntityMatch(eid, e.name, sum(c for _, c, _ in evidence), tuple(evidence)))
        found.sort(key=lambda m: -m.count)

        matches = []
        for tid in self._order:  # type: ignore[attr-defined]
            t = self.topics.topics[tid]
            score, evidence = _score(doc, headline, t.terms, t.rules, _spans(t.not_counting, doc))
            if score < t.min_score:
                continue
            if any(_evaluate(q, doc).matched for q in t.exclude):
                continue
            doc.facts["topic"].add(tid)
            matches.append(TopicMatch(tid, t.label, score, tuple(evidence)))
        matches.sort(key=lambda m: -m.score)
        relevance, relevant, evidence = self.relevance(doc, headline, local)
        return tuple(matches), relevance, relevant, evidence, tuple(found)

    def relevance(self, doc: Document, headline: int, local: bool) -> tuple[float, bool, tuple[Evidence, ...]]:
        """The relevance verdict, the only one: (subject score, relevant, why) of an article's word index
        (``doc``, its first ``headline`` words the headline); ``local``: its source is local."""
        rel = self.topics.relevance
        not_places = _spans(rel.not_places, doc)
        place = [h for q in rel.places for h in _evaluate(q, doc).hits if not _inside(h, not_places)]
        own = [e for e in rel.local_entities if e in doc.facts["entity"]]  # the Trust, the council, their leaders
        other = [h for q in rel.other_places for h in _evaluate(q, doc).hits]
        subject, why = _score(doc, headline, rel.subjects, rel.rules, _spans(rel.not_counting, doc))
        vetoes = [q for q in rel.exclude if _evaluate(q, doc).matched] + self._addressed(doc)
        named = len(place) + local + len(own)
        # A national piece naming the place once in passing is not about it: once is enough only from a
        # local source, in the headline and opening, or beside the place's own institutions or people.
        prominent = local or len(place) + len(own) >= 2 or any(h[1] < headline + rel.opening_words for h in place)
        relevant = named > 0 and 2 * named >= len(other) and prominent and subject >= rel.min_score and not vetoes
        evidence = [
            (
                "place" + (" (local source)" if local else "") + (f" (its own: {', '.join(own)})" if own else ""),
                named,
                tuple(h[1] for h in place[:3]),
            ),
            ("other places", len(other), tuple(h[1] for h in other[:3])),
        ]
        evidence += [("subject score", int(subject), ())] + why[:8] + [("excluded by " + q, 1, ()) for q in vetoes]
        return subject if named else 0.0, relevant, tuple(evidence)

    def _addressed(self, doc: Document) -> list[str]:
        """The reason a page is a service or marketing page (``relevance.addressed_to_reader``), or none."""
        addressed = self.topics.relevance.addressed_to_reader
        if addressed is None or not doc.tokens:
            return []
        n = len(_evaluate(addressed.words, doc).hits)
        if 1000 * n < addressed.per_thousand * len(doc.tokens) or any(
            _evaluate(q, doc).matched for q in addressed.unless
        ):
            return []
        share = f"{n} of its {len(doc.tokens)} words are {addressed.words!r}"
        return [f"a page addressed to its reader ({share}), quoting nobody"]


def tag(article: Article, tagger: Tagger, include_keywords: tuple[str, ...] = (), local: bool = False) -> Article:
    if include_keywords:
        pat = any_pattern(include_keywords)
        if pat and not pat.search(f"{article.title}\n{article.text}"):
            raise DropItem(f"filtered: {article.url} mentions none of the source's include_keywords", log_level="DEBUG")
    topics, relevance, relevant, why, entities = tagger.tag(article.title, article.text, article.published, local)
    return dataclasses.replace(
        article, topics=topics, relevance=relevance, relevant=relevant, relevance_evidence=why, entities=entities
    )


@dataclass(frozen=True)
class Tagging:
    """Tagging as the configuration asks for it: the rules (topics.yaml, entities.yaml) and, per source
    (sources.yaml), the ``include_keywords`` a crawl filters by and whether it is ``local``."""

    tagger: Tagger
    include_keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)
    local: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: Config) -> Tagging:
        return cls(
            Tagger(config.topics, config.entities),
            {s.id: s.include_keywords for s in config.sources},
            frozenset(s.id for s in config.sources if s.local),
        )

    def crawled(self, article: Article) -> Article:
        """A crawled article filtered by its source's include_keywords (DropItem) and tagged."""
        source = article.source_id
        return tag(article, self.tagger, self.include_keywords.get(source, ()), source in self.local)

    def meeting(self, meeting: Meeting) -> Meeting:
        """A meeting's agenda items tagged, each on its title, its text and its documents' titles, as
        its source's article would be (a council's meetings source is ``local``: its items name
        Birmingham by being on its agenda)."""
        local = meeting.source_id in self.local
        items = []
        for item in meeting.items:
            text = "\n".join([item.text, *(d.title for d in item.documents)])
            topics, relevance, relevant, _, _ = self.tagger.tag(item.title, text, meeting.start, local)
            items.append(dataclasses.replace(item, topics=topics, relevance=relevance, relevant=relevant))
        return dataclasses.replace(meeting, items=tuple(items))

    def stored(self, article: Article) -> Article:
        """A stored article tagged again (re-tagging, explaining): no filter, it is in the archive."""
        return tag(article, self.tagger, local=article.source_id in self.local)


class TagPipeline:
    def __init__(self, tagging: Tagging) -> None:
        self.tagging = tagging

    @classmethod
    def from_config(cls, config: Config, seen: SeenIndex | None = None) -> TagPipeline:
        return cls(Tagging.from_config(config))

    @classmethod
    def from_crawler(cls, crawler):
        return cls.from_config(crawler.settings["CAREWATCH_CONFIG"])

    def process_item(self, item, spider=None):
        if isinstance(item, Meeting):
            return self.tagging.meeting(item)
        return self.tagging.crawled(item) if isinstance(item, Article) else item
