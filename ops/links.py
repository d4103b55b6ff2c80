"""Links between press articles and the official documents they cover (``article_links``), found
after each crawl: the articles stored since the last pass are read against the official documents
of the last ``DOCUMENT_WINDOW_DAYS``, and the documents stored since then against the press of the
last ``PRESS_WINDOW_DAYS`` (coverage may come before carewatch reads the document). The rules that
decide a link are pipelines.links.find_links; this module picks the candidates and records what
it found, through the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from carewatch.config.schema import Config
from carewatch.core.items import utcnow
from carewatch.pipelines.links import OfficialDoc, find_links
from carewatch.store import meetings as store

DOCUMENT_WINDOW_DAYS = 180  # press cites a Cabinet report or an Ofsted letter for months after it
PRESS_WINDOW_DAYS = 60  # a document read late is still linked to the coverage it already had
CURSOR = "press-documents"


@dataclass(frozen=True)
class LinkReport:
    articles_read: int
    documents_read: int
    links_added: int


def _doc_type(row: store.CandidateRow) -> str | None:
    if row.committee:
        return "agenda item"
    if row.judgement or (row.kind == "pdf" and "ofsted" in row.source_id):
        return "ofsted inspection report"
    return "statement" if row.kind != "pdf" else None


def candidate(row: store.CandidateRow, config: Config) -> OfficialDoc:
    names = {s.id: (s.authority or s.name) for s in config.sources}
    return OfficialDoc(
        doc_id=row.article_id,
        kind="document",
        title=row.title or "",
        url=row.canonical_url or row.url,
        urls=tuple(u for u in (row.url, row.meeting_url) if u),
        committee=row.committee,
        date=(row.meeting_start or row.published or row.first_seen or "")[:10] or None,
        authority=row.meeting_authority or row.authority or names.get(row.source_id),
        text=row.text or "",
        doc_type=_doc_type(row),
    )


def _links(press: store.PressRow, docs: list[OfficialDoc]) -> list[store.NewLink]:
    found = find_links(
        f"{press.title or ''}\n{press.text or ''}", tuple(json.loads(press.outlinks or "[]")), press.published, docs
    )
    return [store.NewLink("document", f.doc_id, f.how, f.evidence, f.score) for f in found]


def link_new(config: Config, db: Database, now: datetime | None = None) -> LinkReport:
    """Find the links the articles and documents stored since the last pass make; record them."""
    now = now or utcnow()
    stamp = now.isoformat(timespec="seconds")
    official = config.official_sources()
    cursor, top = store.link_cursor(db, CURSOR), store.last_rowid(db)
    if top <= cursor:  # nothing stored since the last pass: the candidates are not even read
        return LinkReport(0, 0, 0)
    documents = store.official_documents(db, official, (now - timedelta(days=DOCUMENT_WINDOW_DAYS)).isoformat())
    candidates = [candidate(d, config) for d in documents]
    added = 0
    new_press = store.press_articles(db, official, after_rowid=cursor)
    for press in new_press:
        added += store.save_links(db, press.article_id, _links(press, candidates), stamp)
    new_docs = [c for c, d in zip(candidates, documents, strict=True) if d.rowid > cursor]
    if new_docs:
        since = (now - timedelta(days=PRESS_WINDOW_DAYS)).isoformat()
        for press in store.press_articles(db, official, since=since):
            if press.rowid > cursor:
                continue  # read above, against every candidate
            added += store.save_links(db, press.article_id, _links(press, new_docs), stamp)
    store.set_link_cursor(db, CURSOR, top, stamp)
    return LinkReport(len(new_press), len(new_docs), added)
