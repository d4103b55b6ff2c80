"""``carewatch reprocess``: rebuild the stored articles from the raw responses kept as WARC files
(scrapers.warc), with the extraction and tagging code as it is now.

For each article (of one source with ``--source``), its latest capture (store.captures: the
response its current text came from) is read back from the WARC file by offset, its sha256
checked, and turned into a Scrapy ``Response`` of the class Scrapy itself would have made
(``responsetypes``: HtmlResponse, TextResponse, or Response for a PDF), with the request's meta
from the WARC's metadata record (the source, and what the feed or listing said about the page).
The spider's own callback for it (``parse_article``, or the feed's parser for ``follow: false``
sources) makes the Article, exactly as in a crawl; then ``pipelines.runner.run_stages`` extracts,
canonicalises and tags it with the source's ``include_keywords`` and ``local``, with no
de-duplication index (the article's identity is already known). No network is used.

The result is compared with the stored row (store.articles.save_reextracted): all equal,
unchanged; a different title or text, a new version (not flagged as an edit: no alert); other
fields corrected in place. Work goes in batches: extraction outside any transaction, then the
batch's writes in one short transaction, skipping an article that a crawl gave a newer capture
meanwhile. Articles without a capture (stored before captures were kept, or kept from a feed
entry when the page failed) are counted as missing.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carewatch.config.schema import Config
from carewatch.store.captures import ArticleCapture, StoredCapture

BATCH = 200
MAX_ERRORS = 20


class CaptureError(Exception):
    """A capture that cannot be read back: file gone, record not there, digest mismatch."""


@dataclass
class ReprocessResult:
    articles: int = 0  # looked at
    total: int = 0  # to look at
    reprocessed: int = 0  # re-extracted from their capture (unchanged + changed)
    unchanged: int = 0
    changed: int = 0  # of which...
    new_versions: int = 0  # ...a new title or text, kept as a new version
    missing: int = 0  # no capture recorded
    failed: int = 0  # capture unreadable, or nothing usable extracted from it
    skipped: int = 0  # a crawl stored a newer capture while this ran
    errors: list[dict] = field(default_factory=list)  # the first MAX_ERRORS failures
    raw_dir: str = ""  # where the WARC files were read from


@dataclass
class Capture:
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    info: dict  # the metadata record: source_id, role, entry


def read_capture(raw_dir: Path, stored: StoredCapture) -> Capture:
    """The response record at the capture's offset, with its metadata record, digest checked (read and
    checked by store.evidence.read_capture, as for an evidence pack)."""
    from carewatch.store.evidence import read_capture as read_and_check

    c = read_and_check(raw_dir, dataclasses.asdict(stored), 1)
    if c.problem:
        raise CaptureError(c.problem)
    return Capture(
        url=c.target_uri or stored.url,
        status=c.http_status or stored.status,
        headers=c.http_headers,
        body=c.payload,
        info=c.metadata,
    )


def rebuild_article(spider: Any, capture: Capture, row: ArticleCapture):
    """The Article the spider makes from this response, as in the crawl (None if it makes none)."""
    from scrapy import Request
    from scrapy.http import Headers
    from scrapy.responsetypes import responsetypes

    from carewatch.core.items import Article
    from carewatch.core.urls import url_key

    info = capture.info
    source_id = info.get("source_id") or row.source_id
    if source_id not in spider.sources:
        raise CaptureError(f"source {source_id!r} is no longer in sources.yaml")
    headers = Headers()
    for name, value in capture.headers:
        headers.appendlist(name, value.encode("latin-1", "replace"))
    cls = responsetypes.from_args(headers=headers, url=capture.url, body=capture.body)
    role = info.get("role") or "article"
    meta = {"source_id": source_id, "role": role, "entry": info.get("entry") or {}, "page": 1, "conditional": False}
    request = Request(capture.url, meta=meta, dont_filter=True)
    response = cls(url=capture.url, status=capture.status, headers=headers, body=capture.body, request=request)
    if role == "article":
        callback = spider.parse_article
    else:  # an index page (a follow: false feed): the callback the spider uses for the source's kind
        callback = spider._index_request(spider.sources[source_id], capture.url, page=1).callback
    articles = [item for item in (callback(response) or ()) if isinstance(item, Article)]
    if len(articles) > 1:  # a feed's entries: the one this article is
        articles = [a for a in articles if a.url == row.url] or [a for a in articles if url_key(a.url) == row.url_key]
    return articles[0] if articles else None


def reprocess_archive(
    config: Any,
    db: Any,
    raw_dir: Path,
    source_id: str | None = None,
    progress: Callable[[ReprocessResult], None] | None = None,
) -> ReprocessResult:
    """Re-extract every stored article (of ``source_id``) from its latest capture; see the module.
    ``progress`` is called as each article is taken up (``articles`` of ``total``)."""
    from scrapy.exceptions import DropItem

    from carewatch.core.errors import CarewatchError
    from carewatch.core.items import utcnow_iso
    from carewatch.pipelines.runner import run_stages
    from carewatch.scrapers.spider import SourceSpider
    from carewatch.store.articles import save_reextracted
    from carewatch.store.captures import articles_with_captures, count_articles, newest_capture_id

    if source_id:
        try:
            config.source(source_id)
        except KeyError as e:
            raise CarewatchError(f"unknown source {source_id!r}") from e
    spider = SourceSpider(sources=[s.model_dump() for s in config.sources])
    result = ReprocessResult(raw_dir=os.fspath(raw_dir), total=count_articles(db, source_id))

    def fail(row: ArticleCapture, error: str) -> None:
        result.failed += 1
        if len(result.errors) < MAX_ERRORS:
            result.errors.append({"article_id": row.article_id, "url": row.url, "error": error})

    last = 0
    while True:
        rows = articles_with_captures(db, last, BATCH, source_id)
        if not rows:
            break
        last = rows[-1].rowid
        done = []  # (article_id, capture id, Article)
        for row in rows:
            result.articles += 1
            if progress:
                progress(result)
            if row.capture is None:
                result.missing += 1
                continue
            try:
                capture = read_capture(raw_dir, row.capture)
                article = rebuild_article(spider, capture, row)
                if article is None:
                    raise CaptureError("the spider made no article from this response")
                article = dataclasses.replace(article, fetched_at=utcnow_iso())
                article = run_stages(article, config)  # no de-duplication index: the identity is known
            except (CaptureError, DropItem) as e:
                fail(row, str(e))
                continue
            except Exception as e:
                fail(row, f"{type(e).__name__}: {e}")
                continue
            done.append((row.article_id, row.capture.id, article))
        with db.atomic():
            for article_id, capture_id, article in done:
                if newest_capture_id(db, article_id) != capture_id:  # a crawl stored a newer text meanwhile: it wins
                    result.skipped += 1
                    continue
                outcome = save_reextracted(db, article_id, article)
                result.reprocessed += 1
                if outcome == "unchanged":
                    result.unchanged += 1
                else:
                    result.changed += 1
                    result.new_versions += outcome == "version"
    return result


def reprocess(
    config: Config,
    db_path: str | os.PathLike[str],
    source_id: str | None = None,
    progress: Callable[[ReprocessResult], None] | None = None,
) -> ReprocessResult:
    """``carewatch reprocess``: re-extract the archive at ``db_path`` (the articles of ``source_id``)
    from the WARC files under the ``raw_dir`` setting, else ``<database>-raw`` beside it."""
    from carewatch.ops.database import open_archive
    from carewatch.scrapers.warc import raw_dir_for

    db = open_archive(db_path)
    try:
        return reprocess_archive(config, db, raw_dir_for(config.settings.raw_dir, db_path), source_id, progress)
    finally:
        db.close()
