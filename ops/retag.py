"""``carewatch tag --retag`` and ``tag --explain``: re-tag the archive after topics.yaml or
entities.yaml changed, in batches (bounded memory, one transaction each) that record how far they
got, so an interrupted run resumes where it stopped; and show the evidence behind one article's tags.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.config.schema import Config
from carewatch.core.items import Article, utcnow_iso
from carewatch.pipelines.tag import Tagging
from carewatch.store.articles import find_article, save_tags, stored_article
from carewatch.store.retagging import (
    article_count,
    articles_after,
    finish_retag,
    retag_reached,
    retag_resume_point,
    start_retag,
)

BATCH = 500


def taxonomy_key(config: Config) -> str:
    """Identifies the rules: a run is resumed only under the same topics, entities and local sources."""
    blob = json.dumps(
        [
            config.topics.model_dump(mode="json"),
            config.entities.model_dump(mode="json"),
            sorted(s.id for s in config.sources if s.local),
        ],
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class RetagResult:
    articles: int = 0
    changed: int = 0
    resumed_from: int = 0
    total: int = 0


def retag(db: Database, config: Config, progress: Callable[[int, int], None] | None = None) -> RetagResult:
    """Re-tag every stored article; resumes an unfinished run made under the same rules. ``progress``
    is called with (articles re-tagged, articles this run has to re-tag) after each article."""
    tagging = Tagging.from_config(config)
    key = taxonomy_key(config)
    last = retag_resume_point(db, key)
    result = RetagResult(resumed_from=last, total=article_count(db))
    todo = article_count(db, last)  # what this run has to do (less than the total when it resumes)
    with db.atomic():
        start_retag(db, key, last, utcnow_iso())
    while True:
        rows = articles_after(db, last, BATCH)
        if not rows:
            break
        with db.atomic():
            for row in rows:
                a = tagging.stored(
                    Article(
                        source_id=row.source_id,
                        url="",
                        fetched_at="",
                        title=row.title or "",
                        text=row.text or "",
                        published=row.published,
                    )
                )
                before = sorted(t["topic"] for t in json.loads(row.topics or "[]"))
                if before != sorted(t.topic for t in a.topics) or bool(row.relevant) != a.relevant:
                    result.changed += 1
                save_tags(db, row.article_id, a)
                last = row.rowid
                result.articles += 1
                if progress:
                    progress(result.articles, todo)
            retag_reached(db, key, last)
    with db.atomic():
        finish_retag(db, key)
    return result


def explain(db: Database, config: Config, ref: str) -> dict:
    """Tags of one stored article (by id or URL) as the current rules give them, with their evidence,
    beside the stored ones."""
    row = stored_article(db, find_article(db, ref).article_id)
    tagging = Tagging.from_config(config)
    a = tagging.stored(
        Article(
            source_id=row.source_id,
            url="",
            fetched_at="",
            title=row.title or "",
            text=row.text or "",
            published=row.published,
        )
    )
    return {
        "article_id": row.article_id,
        "title": row.title,
        "source_id": row.source_id,
        "local_source": row.source_id in tagging.local,
        "relevant": a.relevant,
        "relevance": a.relevance,
        "relevance_evidence": [list(e) for e in a.relevance_evidence],
        "topics": [dataclasses.asdict(t) for t in a.topics],
        "entities": [dataclasses.asdict(e) for e in a.entities],
        "stored_topics": sorted(t["topic"] for t in json.loads(row.topics or "[]")),
        "stored_relevant": bool(row.relevant),
        "near_misses": [
            {"topic": tid, "label": t.label, "min_score": t.min_score}
            for tid, t in config.topics.topics.items()
            if tid not in {m.topic for m in a.topics}
        ],
    }
