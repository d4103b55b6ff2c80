"""How far a re-tag of the archive (``carewatch tag --retag``) got, and the articles it reads in batches."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from carewatch.store.db import fetch_all


def article_count(db: Database, after_rowid: int = 0) -> int:
    """Stored articles (after rowid ``after_rowid``: those a resumed run has still to do)."""
    return db.execute("SELECT count(*) FROM articles WHERE rowid > ?", [after_rowid]).fetchone()[0]


def retag_resume_point(db: Database, taxonomy: str) -> int:
    """The rowid an unfinished re-tag under these rules had reached (0: start from the beginning)."""
    row = db.execute("SELECT last_rowid, done FROM retag_progress WHERE taxonomy = ?", [taxonomy]).fetchone()
    return row[0] if row and not row[1] else 0


def start_retag(db: Database, taxonomy: str, last_rowid: int, started: str) -> None:
    db.execute(
        "INSERT OR REPLACE INTO retag_progress (taxonomy, last_rowid, done, started) VALUES (?, ?, 0, ?)",
        [taxonomy, last_rowid, started],
    )


def retag_reached(db: Database, taxonomy: str, last_rowid: int) -> None:
    db.execute("UPDATE retag_progress SET last_rowid = ? WHERE taxonomy = ?", [last_rowid, taxonomy])


def finish_retag(db: Database, taxonomy: str) -> None:
    db.execute("UPDATE retag_progress SET done = 1 WHERE taxonomy = ?", [taxonomy])


@dataclass(frozen=True, slots=True)
class TaggedText:
    """What tagging reads of a stored article, and the tags it has now."""

    rowid: int
    article_id: str
    source_id: str
    title: str | None
    text: str | None
    published: str | None
    topics: str | None  # JSON: [{topic, label, score, evidence}]
    relevant: int | None


def articles_after(db: Database, rowid: int, limit: int) -> list[TaggedText]:
    """The next ``limit`` articles in rowid order after ``rowid``."""
    return fetch_all(
        db.execute(
            "SELECT rowid, article_id, source_id, title, text, published, topics, relevant "
            "FROM articles WHERE rowid > ? ORDER BY rowid LIMIT ?",
            [rowid, limit],
        ),
        TaggedText,
    )
