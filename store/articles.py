"""Articles: write them (insert new ones, version edited ones, record copies as aliases), find one
by id or URL, and read what explaining one needs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

from sqlite_utils import Database

from carewatch.config.schema import Settings
from carewatch.core.crashpoints import crash_point
from carewatch.core.errors import CarewatchError
from carewatch.core.items import Article, article_id_for, utcnow
from carewatch.core.lsh import band_keys
from carewatch.core.urls import url_key
from carewatch.store.captures import record_capture
from carewatch.store.db import fetch_all, fetch_one
from carewatch.store.stories import assign_story, story_events, story_terms
from carewatch.store.versions import word_diff

Outcome = Literal["new", "updated", "unchanged", "alias"]


def _topics_json(article: Article) -> str:
    return json.dumps([asdict(t) for t in article.topics], ensure_ascii=False)


def _fields(article: Article) -> dict:
    return {
        "title": article.title,
        "author": article.author,
        "authors": json.dumps(list(article.authors), ensure_ascii=False),
        "extraction": json.dumps(article.extraction),
        "judgement": article.report.get("judgement"),
        "inspection_dates": article.report.get("inspection_dates"),
        "authority": article.report.get("authority"),
        "published": article.published,
        "kind": article.kind,
        "text": article.text,
        "content_hash": article.content_hash,
        "minhash": article.minhash or None,
        "shingles": article.shingles or None,
        "topics": _topics_json(article),
        "relevance": article.relevance,
        "relevant": int(article.relevant),
        "relevance_evidence": json.dumps(article.relevance_evidence, ensure_ascii=False),
        "entities": json.dumps([asdict(e) for e in article.entities], ensure_ascii=False),
        "outlinks": json.dumps(list(article.outlinks)) if article.outlinks else None,
    }


def _stored_now() -> str:
    """``articles.stored``: when this write of the article's current text happens, to the millisecond
    (``first_seen`` and ``updated`` are the fetch's time, to the second; bench/latency.py reads both)."""
    return utcnow().isoformat(timespec="milliseconds")


def _keep_version(db: Database, article_id: str, row: dict, seen: str, diff: tuple[float, str] | None = None) -> None:
    """Keep a text of the article that is not (or no longer) its current one, with what changed."""
    n = db.execute("SELECT count(*) FROM article_versions WHERE article_id = ?", [article_id]).fetchone()[0]
    db.table("article_versions").insert(
        {
            "article_id": article_id,
            "version": n + 1,
            "url": row.get("canonical_url") or row.get("url"),
            "title": row["title"],
            "published": row.get("published"),
            "text": row["text"],
            "content_hash": row["content_hash"],
            "seen": seen,
            "changed": diff[0] if diff else None,
            "diff": diff[1] if diff else None,
        }
    )


def _replace_current(
    db: Database, article_id: str, current: dict, article: Article, url: str | None, edit_alert_share: float
) -> None:
    diff = word_diff(f"{current['title']}\n{current['text']}", f"{article.title}\n{article.text}")
    _keep_version(db, article_id, current, article.fetched_at, diff)
    update = {
        **_fields(article),
        "updated": article.fetched_at,
        "version": current["version"] + 1,
        "stored": _stored_now(),
    }
    if diff[0] >= edit_alert_share:  # a substantive edit: alertable; spacing or a typo is not
        update["edited"] = article.fetched_at
    if url:
        update.update(url=url, canonical_url=article.canonical_url)
    db.table("articles").update(article_id, update)
    _insert_topics(db, article_id, article)
    _index_bands(db, article_id, article)
    record_capture(db, article_id, article)


def _index_bands(db: Database, article_id: str, article: Article) -> None:
    """The article's LSH band keys and sampled shingles, so later near-copies and copies contained in
    it (or containing it) find it (core.lsh)."""
    db.execute("DELETE FROM lsh_bands WHERE article_id = ?", [article_id])
    db.conn.executemany(
        "INSERT OR IGNORE INTO lsh_bands (band, key, article_id) VALUES (?, ?, ?)",
        [(b, k, article_id) for b, k in enumerate(band_keys(article.minhash))],
    )
    db.execute("DELETE FROM shingle_samples WHERE article_id = ?", [article_id])
    db.conn.executemany(
        "INSERT OR IGNORE INTO shingle_samples (hash, article_id) VALUES (?, ?)",
        [(h, article_id) for h in article.samples],
    )


def _insert_topics(db: Database, article_id: str, article: Article) -> None:
    """The article's topics and entities, each with its evidence (replacing any earlier ones)."""
    db.execute("DELETE FROM article_topics WHERE article_id = ?", [article_id])
    db.execute("DELETE FROM article_entities WHERE article_id = ?", [article_id])
    db.conn.executemany(
        "INSERT INTO article_topics (article_id, topic, score, evidence) VALUES (?, ?, ?, ?)",
        [(article_id, t.topic, t.score, json.dumps(t.evidence, ensure_ascii=False)) for t in article.topics],
    )
    db.conn.executemany(
        "INSERT INTO article_entities (article_id, entity, name, count, evidence) VALUES (?, ?, ?, ?, ?)",
        [(article_id, e.entity, e.name, e.count, json.dumps(e.evidence, ensure_ascii=False)) for e in article.entities],
    )


def _page_read(db: Database, article_id: str, current: dict, article: Article) -> int:
    """The page of an entry kept from its feed (``page_pending``) was read at last: the row is
    written anew with the page's text, in place of the feed's (which was never the article's text,
    so no version of it is kept and it is no edit). Deleted and inserted again, under the same
    article_id, so it gets a new rowid and alert matching, which goes by rowid (alerts.match),
    takes it as a new article; the rows that name it by article_id stay, the foreign-key checks
    deferred to the commit. It was never matched or alerted (store.alerting leaves pending rows out)."""
    keep = {k: v for k, v in current.items() if k != "seq"}  # seq: set from the new rowid (m011)
    # The new rowid is chosen before the delete: SQLite gives an insert max(rowid) + 1, which is the
    # deleted row's own rowid when it was the newest article, and the matcher's cursor is past it.
    (rowid,) = db.execute("SELECT coalesce(max(rowid), 0) + 1 FROM articles").fetchone()
    db.execute("PRAGMA defer_foreign_keys = ON")  # for this transaction only
    db.execute("DELETE FROM articles WHERE article_id = ?", [article_id])
    db.table("articles").insert(
        {
            "rowid": rowid,
            **keep,
            **_fields(article),
            "url": article.url,
            "canonical_url": article.canonical_url,
            "updated": article.fetched_at,
            "page_pending": 0,
            "stored": _stored_now(),
        }
    )
    _insert_topics(db, article_id, article)
    _index_bands(db, article_id, article)
    record_capture(db, article_id, article)
    return rowid


OnStored = Callable[[Database, int], object]


def _stored(db: Database, rowid: int, on_stored: OnStored | None) -> None:
    """An article stored to be read: ``on_stored`` in its transaction, which is still open."""
    if on_stored is not None:
        crash_point("before-article-match")  # stored, not yet matched
        on_stored(db, rowid)


def save_article(
    db: Database, article: Article, settings: Settings | None = None, on_stored: OnStored | None = None
) -> Outcome:
    """Store one pipeline-processed article in one transaction; say what happened. ``settings``: the
    edit and story thresholds (``edit_alert_share``, ``story_window_days``, ``story_similarity``);
    None: settings.yaml's defaults. ``on_stored(db, rowid)`` is called inside the transaction for
    an article stored to be read (new, or its page read at last), e.g. to match it against the
    alert rules (alerts.match.StoreTimeMatcher), so what it writes commits with the article or not
    at all."""
    settings = settings or Settings()
    edit_alert_share = settings.edit_alert_share
    now = article.fetched_at
    with db.atomic():
        if article.duplicate_of:
            if db.execute("SELECT 1 FROM article_aliases WHERE url_key = ?", [article.url_key]).fetchone():
                return "unchanged"
            db.table("article_aliases").insert(
                {
                    "url_key": article.url_key,
                    "url": article.canonical_url or article.url,
                    "article_id": article.duplicate_of,
                    "source_id": article.source_id,
                    "reason": article.duplicate_reason,
                    "seen": now,
                }
            )
            if (article.duplicate_reason or "").startswith("edited version"):
                current = db.table("articles").get(article.duplicate_of)
                if (article.published or now) >= (current["published"] or ""):  # the newer edition leads
                    _replace_current(db, article.duplicate_of, current, article, article.url, edit_alert_share)
                else:  # an older edition reached late: keep it, change nothing current
                    _keep_version(
                        db, article.duplicate_of, {**_fields(article), "canonical_url": article.canonical_url}, now
                    )
            return "alias"
        row = db.execute("SELECT article_id FROM articles WHERE url_key = ?", [article.url_key]).fetchone()
        if row is None:
            article_id = article_id_for(article.url_key)
            rowid = (
                db.table("articles")
                .insert(
                    {
                        "article_id": article_id,
                        "url": article.url,
                        "canonical_url": article.canonical_url,
                        "url_key": article.url_key,
                        "source_id": article.source_id,
                        "first_seen": now,
                        "updated": now,
                        "version": 1,
                        **_fields(article),
                        "page_pending": int(article.page_pending),
                        "stored": _stored_now(),
                    }
                )
                .last_rowid
            )
            crash_point("mid-article-write")  # the row (and its FTS entry) written, the rest not: all or nothing
            _insert_topics(db, article_id, article)
            _index_bands(db, article_id, article)
            record_capture(db, article_id, article)
            assign_story(
                db,
                article_id,
                article.source_id,
                article.published or now,
                # a meeting's paper is a story of its own: what covers it is linked (article_links), not folded in
                story_terms(article.title, article.text)
                | story_events(article.title or (article.text or "")[:200], settings)
                if article.kind != "document"
                else set(),
                settings,
            )
            if not article.page_pending and rowid is not None:
                _stored(db, rowid, on_stored)
            return "new"
        current = db.table("articles").get(row[0])
        if article.page_pending:  # the page failed again (or a read page's retry failed): nothing new
            return "unchanged"
        if current.get("page_pending"):
            _stored(db, _page_read(db, row[0], current, article), on_stored)
            return "updated"
        known = db.execute(
            "SELECT 1 FROM article_versions WHERE article_id = ? AND content_hash = ?", [row[0], article.content_hash]
        ).fetchone()
        if current["content_hash"] == article.content_hash or known:
            return "unchanged"  # a text this article already had: never flip back to it
        _replace_current(db, row[0], current, article, article.url, edit_alert_share)
        return "updated"


def save_reextracted(db: Database, article_id: str, article: Article) -> Literal["unchanged", "changed", "version"]:
    """Store what re-extracting a stored article from its raw response gave (``carewatch reprocess``),
    in the caller's transaction. Every stored field the pipelines make is compared: all equal,
    nothing is written ("unchanged"); a different title or text becomes a new version as a crawl's
    edit does, the old one kept with its diff ("version"), but is not flagged ``edited``: the
    publisher changed nothing, so subscribers are not sent it as an edit; other fields (date,
    authors, tags...) are corrected in place ("changed")."""
    current = db.table("articles").get(article_id)
    fields = {**_fields(article), "canonical_url": article.canonical_url}
    if all(current.get(k) == v for k, v in fields.items()):
        return "unchanged"
    outcome: Literal["changed", "version"] = "changed"
    if (current["title"], current["text"]) != (article.title, article.text):
        diff = word_diff(f"{current['title']}\n{current['text']}", f"{article.title}\n{article.text}")
        _keep_version(db, article_id, current, article.fetched_at, diff)
        fields.update(updated=article.fetched_at, version=current["version"] + 1)
        outcome = "version"
    db.table("articles").update(article_id, fields)
    _insert_topics(db, article_id, article)
    _index_bands(db, article_id, article)
    return outcome


def save_tags(db: Database, article_id: str, article: Article) -> None:
    """Replace a stored article's topics, entities and relevance (re-tagging after the taxonomy changed)."""
    db.table("articles").update(
        article_id,
        {
            "topics": _topics_json(article),
            "relevance": article.relevance,
            "relevant": int(article.relevant),
            "relevance_evidence": json.dumps(article.relevance_evidence, ensure_ascii=False),
            "entities": json.dumps([asdict(e) for e in article.entities], ensure_ascii=False),
        },
    )
    _insert_topics(db, article_id, article)


# -- finding and reading one article ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FoundArticle:
    """The stored article a reference (an article id or a URL) names, and how it was found."""

    article_id: str
    via: Literal["id", "url", "copy", "capture"]  # its id; its own URL; a copy's URL (alias); a raw capture's URL
    alias_reason: str | None = None  # via "copy": why that URL was recorded as a copy of the article


def find_article(db: Database, ref: str) -> FoundArticle:
    """The article with this id, or at this URL: its own (by URL key), a copy's or re-issue's (an
    alias), or one a raw response of it was fetched from. Raises CarewatchError when none is."""
    ref = ref.strip()
    if db.execute("SELECT 1 FROM articles WHERE article_id = ?", [ref]).fetchone():
        return FoundArticle(ref, "id")
    is_url = ref.startswith(("http://", "https://"))
    key = url_key(ref) if is_url else ref
    row = db.execute("SELECT article_id FROM articles WHERE url_key = ?", [key]).fetchone()
    if row:
        return FoundArticle(row[0], "url")
    alias = db.execute("SELECT article_id, reason FROM article_aliases WHERE url_key = ?", [key]).fetchone()
    if alias:
        return FoundArticle(alias[0], "copy", alias[1])
    if is_url:
        for article_id, url in db.execute(
            "SELECT article_id, url FROM captures WHERE url = ? OR url LIKE ?", [ref, f"%{key.split('/', 1)[-1]}"]
        ).fetchall():
            if url_key(url) == key:
                return FoundArticle(article_id, "capture")
    raise CarewatchError(f"{ref}: no stored article or copy has this id or URL")


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """The stored fields of one article that explaining its de-duplication or its tags needs."""

    article_id: str
    source_id: str
    title: str | None
    canonical_url: str | None
    published: str | None
    text: str | None
    content_hash: str | None
    shingles: int | None
    topics: str | None  # JSON: [{topic, label, score, evidence}]
    relevant: int | None


def stored_article(db: Database, article_id: str) -> StoredArticle:
    """One stored article (``article_id`` as :func:`find_article` gives it)."""
    row = fetch_one(
        db.execute(
            "SELECT article_id, source_id, title, canonical_url, published, text, content_hash, "
            "shingles, topics, relevant FROM articles WHERE article_id = ?",
            [article_id],
        ),
        StoredArticle,
    )
    if row is None:
        raise CarewatchError(f"{article_id}: no stored article or copy has this id or URL")
    return row


# An alias at the address the article itself is now at: an edited re-issue that replaced the text
# it had at its first address (save_article moves the article to the newer edition's URL). It is
# not a copy found at another address. One predicate for every place that counts or lists copies.
AT_OWN_ADDRESS = (
    "article_aliases.url IN (SELECT url FROM articles a WHERE a.article_id = article_aliases.article_id "
    "UNION SELECT canonical_url FROM articles a WHERE a.article_id = article_aliases.article_id)"
)


@dataclass(frozen=True, slots=True)
class ArticleCopy:
    """A URL recorded as a copy of a stored article, and why; ``current``: it is the address the
    article is now at (an edited re-issue that replaced the text), not another one."""

    url: str
    reason: str | None
    current: bool


def article_copies(db: Database, article_id: str) -> list[ArticleCopy]:
    rows = db.execute(
        f"SELECT url, reason, {AT_OWN_ADDRESS} FROM article_aliases WHERE article_id = ? ORDER BY seen",
        [article_id],
    ).fetchall()
    return [ArticleCopy(url, reason, bool(current)) for url, reason, current in rows]


@dataclass(frozen=True, slots=True)
class ReplacedVersion:
    """A text an article had before, kept when it was replaced."""

    version: int
    changed: float | None  # share of words changed by the replacement (None: not measured)
    seen: str


def replaced_versions(db: Database, article_id: str) -> list[ReplacedVersion]:
    return fetch_all(
        db.execute(
            "SELECT version, changed, seen FROM article_versions WHERE article_id = ? ORDER BY version", [article_id]
        ),
        ReplacedVersion,
    )
