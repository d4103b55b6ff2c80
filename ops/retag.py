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
from carewatch.pipelines.tag import Tagger, tag
from carewatch.store.articles import save_tags

BATCH = 500


def taxonomy_key(config: Config) -> str:
    """Identifies the rules: a run is resumed only under the same topics, entities and local sources."""
    blob = json.dumps([config.topics.model_dump(mode="json"), config.entities.model_dump(mode="json"),
                       sorted(s.id for s in config.sources if s.local)], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class RetagResult:
    articles: int = 0
    changed: int = 0
    resumed_from: int = 0
    total: int = 0


def retag(db: Database, config: Config, progress: Callable[[int, int], None] | None = None) -> RetagResult:
    """Re-tag every stored article; resumes an unfinished run made under the same rules."""
    tagger = Tagger(config.topics, config.entities)
    local = {s.id for s in config.sources if s.local}
    key = taxonomy_key(config)
    row = db.execute("SELECT last_rowid, done FROM retag_progress WHERE taxonomy = ?", [key]).fetchone()
    last = row[0] if row and not row[1] else 0
    result = RetagResult(resumed_from=last, total=db.execute("SELECT count(*) FROM articles").fetchone()[0])
    with db.atomic():
        db.execute("INSERT OR REPLACE INTO retag_progress (taxonomy, last_rowid, done, started) VALUES (?, ?, 0, ?)",
                   [key, last, utcnow_iso()])
    while True:
        rows = db.execute(
            "SELECT rowid, article_id, source_id, title, text, published, topics, relevant FROM articles "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?", [last, BATCH]).fetchall()
        if not rows:
            break
        with db.atomic():
            for rowid, article_id, source_id, title, text, published, old_topics, old_relevant in rows:
                a = Article(source_id=source_id, url="", fetched_at="", title=title or "", text=text or "",
                            published=published)
                a = tag(a, tagger, local=source_id in local)
                before = sorted(t["topic"] for t in json.loads(old_topics or "[]"))
                if before != sorted(t.topic for t in a.topics) or bool(old_relevant) != a.relevant:
                    result.changed += 1
                save_tags(db, article_id, a)
                last = rowid
            db.execute("UPDATE retag_progress SET last_rowid = ? WHERE taxonomy = ?", [last, key])
        result.articles += len(rows)
        if progress:
            progress(result.articles, result.total)
    with db.atomic():
        db.execute("UPDATE retag_progress SET done = 1 WHERE taxonomy = ?", [key])
    return result


def explain(db: Database, config: Config, article_id: str) -> dict:
    """Tags of one stored article as the current rules give them, with their evidence, beside the stored ones."""
    row = db.execute("SELECT article_id, source_id, title, text, published, topics, relevant FROM articles "
                     "WHERE article_id = ? OR url = ? OR canonical_url = ?", [article_id] * 3).fetchone()
    if row is None:
        raise KeyError(article_id)
    tagger = Tagger(config.topics, config.entities)
    local = any(s.id == row[1] and s.local for s in config.sources)
    a = tag(Article(source_id=row[1], url="", fetched_at="", title=row[2] or "", text=row[3] or "", published=row[4]),
            tagger, local=local)
    return {
        "article_id": row[0], "title": row[2], "source_id": row[1], "local_source": local,
        "relevant": a.relevant, "relevance": a.relevance, "relevance_evidence": [list(e) for e in a.relevance_evidence],
        "topics": [dataclasses.asdict(t) for t in a.topics],
        "entities": [dataclasses.asdict(e) for e in a.entities],
        "stored_topics": sorted(t["topic"] for t in json.loads(row[5] or "[]")), "stored_relevant": bool(row[6]),
        "near_misses": [{"topic": tid, "label": t.label, "min_score": t.min_score} for tid, t in config.topics.topics.items()
                        if tid not in {m.topic for m in a.topics}],
    }
