"""Topic tags, their evidence, and relevance, from the keyword rules in config/topics.yaml.

An article is relevant when it mentions one of the configured places and one of the configured
subjects. Irrelevant articles are stored but never alerted.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from scrapy.exceptions import DropItem

from config.schema import Topics
from core.items import Article, TopicMatch
from core.keywords import any_pattern, keyword_body


@dataclass(frozen=True)
class Tagger:
    topics: Topics

    def __post_init__(self) -> None:
        # One alternation per topic (a group per keyword, so a hit says which keyword it was):
        # two scans per topic instead of two per keyword.
        compiled = {
            tid: re.compile(r"(?<!\w)(?:" + "|".join(f"(?P<k{i}>{keyword_body(k)})" for i, k in enumerate(t.keywords))
                            + r")(?!\w)", re.IGNORECASE)
            for tid, t in self.topics.topics.items()
        }
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_places", any_pattern(self.topics.relevance.places))
        object.__setattr__(self, "_subjects", any_pattern(self.topics.relevance.subjects))

    def tag(self, title: str, text: str) -> tuple[tuple[TopicMatch, ...], float, bool]:
        matches = []
        for tid, pattern in self._compiled.items():  # type: ignore[attr-defined]
            evidence: dict[str, int] = {}  # matched term -> index of the keyword it matched
            score = 0.0
            for weight, where in ((2, title), (1, text)):
                for m in pattern.finditer(where):
                    score += weight
                    evidence.setdefault(" ".join(m.group(0).split()).lower(), int(m.lastgroup[1:]))
            if score:
                label = self.topics.topics[tid].label
                ordered = sorted(evidence, key=lambda term: evidence[term])  # in the order of the keywords
                matches.append(TopicMatch(tid, label, score, tuple(ordered[:6])))
        matches.sort(key=lambda m: -m.score)
        both = f"{title}\n{text}"
        place = bool(self._places.search(both)) if self._places else True  # type: ignore[attr-defined]
        subjects = len(self._subjects.findall(both)) if self._subjects else 0  # type: ignore[attr-defined]
        relevance = float(subjects) + sum(m.score for m in matches)
        relevant = place and subjects > 0
        return tuple(matches), relevance, relevant


def tag(article: Article, tagger: Tagger, include_keywords: tuple[str, ...] = ()) -> Article:
    if include_keywords:
        pat = any_pattern(include_keywords)
        if pat and not pat.search(f"{article.title}\n{article.text}"):
            raise DropItem(f"filtered: {article.url} mentions none of the source's include_keywords",
                           log_level="DEBUG")
    topics, relevance, relevant = tagger.tag(article.title, article.text)
    return dataclasses.replace(article, topics=topics, relevance=relevance, relevant=relevant)


class TagPipeline:
    def __init__(self, tagger: Tagger, filters: dict[str, tuple[str, ...]]) -> None:
        self.tagger = tagger
        self.filters = filters

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001
        from config import load_config

        config = load_config(crawler.settings.get("CAREWATCH_CONFIG"))
        return cls(Tagger(config.topics), {s.id: s.include_keywords for s in config.sources})

    def process_item(self, item, spider=None):  # noqa: ANN001
        if not isinstance(item, Article):
            return item
        return tag(item, self.tagger, self.filters.get(item.source_id, ()))
