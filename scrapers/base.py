"""What every kind of source shares: the spider machinery the kinds (scrapers/feeds.py, listings.py,
pdfs.py, sitemaps.py, govuk.py, articles.py) are built on, and scrapers/spider.py puts together.

- Start: each source's own page (from where an interrupted back-fill stopped, with ``since``),
  and the pages stored recently, asked again conditionally so edits show up.
- Conditional requests: a source's own page is fetched with the ETag and Last-Modified it last
  had, so an unchanged source answers 304 (recorded as not modified) and costs nothing. The
  validators are saved only for sources whose whole run succeeded, so a failure is retried next
  time rather than hidden behind a 304.
- Following links: pages already stored are not fetched again, a source's ``url_pattern`` is
  applied, and a page with more new links than ``max_links_per_page`` is followed in part.
- Recording: one Fetch per attempt (its status, size, latency and, for a failure, what kind of
  failure: ``classify_failure``), and the Article a kind makes of a page.
- Errors: a failed request fails its source for this run; what the feed said of the page is kept,
  marked ``page_pending`` (not alerted), and the page is tried again on the next crawls.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure

from carewatch.core.items import Article, CrawlState, Fetch, utcnow_iso
from carewatch.core.urls import url_key
from carewatch.scrapers.backfill import Backfills, Page

ARTICLE_PRIORITY = 10  # articles before the next archive page: a page completes before the next starts


def clean(text: str | None) -> str:
    """Whitespace collapsed: a feed field or a link's text as one line."""
    return " ".join((text or "").split())


def with_query(url: str, **params: Any) -> str:
    """The URL with these query parameters set (a page number, an offset)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: str(v) for k, v in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query, safe="[]%")))


_MAXSIZE = re.compile(r"(Expected to receive|Received) (\d+) bytes which is larger than download max size \((\d+)\)")


def classify_failure(failure: Failure, max_bytes: int = 0) -> tuple[str, str, int | None]:
    """(error kind, message, http status) of a failed request. ``max_bytes``: the download size
    limit (a body without Content-Length cut off at it fails with a bare DownloadCancelledError)."""
    exc = failure.value
    if failure.check(HttpError):
        status = exc.response.status
        location = (exc.response.headers.get("Location") or b"").decode("latin-1")
        if 300 <= status < 400 and location:  # a redirect Scrapy would not follow (file:, ftp:, ...)
            scheme = urlsplit(location).scheme
            why = f" ({scheme}: is not http or https)" if scheme not in ("", "http", "https") else ""
            return "http", f"HTTP {status}: redirect to {location[:200]} not followed{why}", status
        return "http", f"HTTP {status}", status
    name = type(exc).__name__
    if name == "BlockedAddress":
        return "blocked", str(exc), None
    if name in ("RedirectLoop", "TruncatedBody"):  # scrapers.integrity
        return {"RedirectLoop": "redirect", "TruncatedBody": "truncated"}[name], str(exc), None
    if m := _MAXSIZE.search(str(exc)):  # Scrapy's DOWNLOAD_MAXSIZE cut the download off
        said, size, limit = m[1] == "Expected to receive", int(m[2]), int(m[3])
        how = "the server announced" if said else "more than"
        return (
            "too-large",
            f"too large, not downloaded: {how} {size:,} bytes ({size / 2**20:.1f} MB), over max_response_bytes "
            f"({limit:,} bytes, {limit / 2**20:.1f} MB)",
            None,
        )
    received = getattr(failure, "request", None) and failure.request.meta.get("body_bytes", 0)
    if name == "DownloadCancelledError" and max_bytes and (received or 0) > max_bytes:
        return (
            "too-large",
            (
                f"too large, not downloaded: more than {max_bytes:,} bytes (max_response_bytes) "
                f"and still coming, cut off"
            ),
            None,
        )
    detail = str(exc)
    if name == "ResponseDataLossError":  # Scrapy gives no message; Twisted's reasons say how it ended
        reasons = getattr(exc.__cause__, "reasons", None) or []
        how = "; ".join(filter(None, (r.getErrorMessage() for r in reasons if type(r.value).__name__ != "_DataLoss")))
        detail = "the connection ended before the body's Content-Length was reached" + (f" ({how})" if how else "")
    return name, f"{name}: {detail}".strip(), None


_CONTROL_BYTES = bytes(range(0, 9)) + bytes(range(14, 32))  # C0 controls but tab, newlines and form feed


def binary_content(response: Response) -> str | None:
    """What a page fetched for its text is, when it is not text (an image, random bytes served as
    text/html, ...); None for text. Text has next to no control bytes; binary data about 1 in 10."""
    ctype = (response.headers.get("Content-Type") or b"").decode("latin-1").split(";")[0].strip() or "no Content-Type"
    if not isinstance(response, TextResponse):
        return f"binary data ({ctype}, {len(response.body):,} bytes)"
    head = response.body[:8192]
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff")) or re.match(r"utf[-_]?(16|32)", response.encoding, re.I):
        return None  # UTF-16 and UTF-32 text is full of NULs
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls * 20 > len(head):
        return (
            f"binary data served as {ctype} ({len(response.body):,} bytes, "
            f"{controls * 100 // len(head)}% control bytes)"
        )
    return None


def index_page(parse: Callable[..., Iterator[Any]]) -> Callable[[Any, Response], Iterator[Any]]:
    """A source's own page: a 304 is recorded as not modified; otherwise parse it with its source."""

    @functools.wraps(parse)
    def wrapper(self: SpiderBase, response: Response) -> Iterator[Any]:
        if response.status == 304:
            yield self._fetch(response, status="not_modified")
            return
        yield from parse(self, response, self.sources[response.meta["source_id"]])

    return wrapper


def article_page(parse: Callable[..., Iterator[Any]]) -> Callable[[Any, Response], Iterator[Any]]:
    """A page an index page led to (or a revisit): it completes its back-fill page; a 304 (a
    revisited page, unchanged) is recorded as not modified; otherwise its validators are kept and it
    is parsed with its source and what the index page said of it."""

    @functools.wraps(parse)
    def wrapper(self: SpiderBase, response: Response) -> Iterator[Any]:
        self.backfills.article_done(response.meta)
        if response.status == 304:
            yield self._fetch(response, status="not_modified")
            return
        self._remember_validators(response)
        yield from parse(self, response, self.sources[response.meta["source_id"]], response.meta.get("entry") or {})

    return wrapper


class SpiderBase(scrapy.Spider):
    """The spider machinery, parametrised by the sources' config entries. A subclass says which
    callback reads each kind's own page (``index_callback``) and which reads an article page
    (``parse_article``)."""

    def __init__(
        self, sources: list[dict[str, Any]], since: str | None = None, state: CrawlState | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.sources = {s["id"]: s for s in sources}
        self.since = since
        self.state = state
        self.failed: set[str] = set()
        self.fresh_validators: dict[str, tuple[str, str | None, str | None]] = {}  # url -> (source, etag, lm)
        self.backfills = Backfills(state, since)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):  # Scrapy's hook
        factory, db = crawler.settings.get("CAREWATCH_CRAWL_STATE"), crawler.settings.get("CAREWATCH_DB")
        kwargs.setdefault("state", load_object(factory)(db) if factory and db else None)
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.save_validators, signal=signals.spider_closed)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider.count_body_bytes, signal=signals.bytes_received)
        crawler.signals.connect(spider.item_failed, signal=signals.item_error)
        return spider

    def index_callback(self, kind: str) -> Callable[[Response], Iterator[Any]]:
        """The callback that reads the own page of a source of this kind."""
        raise NotImplementedError

    def parse_article(self, response: Response) -> Iterator[Any]:
        """The callback of every article page."""
        raise NotImplementedError

    def _setting(self, name: str) -> int:
        """An integer Scrapy setting; 0 for a spider made without a crawler (reprocess, tests)."""
        return self.crawler.settings.getint(name, 0) if hasattr(self, "crawler") else 0

    # -- signals -----------------------------------------------------------------------------
    def count_body_bytes(self, data: bytes, request: scrapy.Request, spider: scrapy.Spider | None = None) -> None:
        """Bytes of the body received so far: a download cut off at the size limit is then told
        from other cancelled downloads (classify_failure)."""
        request.meta["body_bytes"] = request.meta.get("body_bytes", 0) + len(data)

    def item_failed(
        self,
        item: object,
        response: Response | None = None,
        spider: scrapy.Spider | None = None,
        failure: Failure | None = None,
    ) -> None:
        """An article a pipeline stage could not process or store (disk full, say): its source
        counts as failed for this run, as when the page's fetch fails, so none of the source's HTTP
        validators are kept; otherwise the next crawl's feed request is answered 304 and the
        article is never seen again."""
        if isinstance(item, Article):
            self.failed.add(item.source_id)

    def request_dropped(self, request: scrapy.Request, spider: scrapy.Spider | None = None) -> None:
        """A request the scheduler dropped (a duplicate) still completes its archive page."""
        if request.meta.get("role") == "article":
            self.backfills.article_done(request.meta)

    async def start(self):  # Scrapy >= 2.13 entry point
        revisit_days = self._setting("CAREWATCH_REVISIT_DAYS")
        for source in self.sources.values():
            url = self.backfills.resume_url(source["id"]) or source["url"]
            for request in self.index_requests(source, url):
                yield request
            # Recent pages, asked again conditionally, so edits show up. (GOV.UK items are read from
            # the Content API, not the page stored as their URL: their edits arrive through search.)
            if self.state and not self.since and source["kind"] != "govuk_search":
                for page_url, entry in self.state.recent_pages(source["id"], revisit_days):
                    yield self._revisit_request(source["id"], page_url, entry)
                # Pages that failed, kept from the feed until read: tried again even when the feed no
                # longer lists them (a request for one it still lists is dropped as a duplicate).
                for page_url, entry in self.state.pending_pages(source["id"], self._setting("CAREWATCH_PENDING_DAYS")):
                    yield self._article_request(source["id"], page_url, entry, None)

    # -- requests ----------------------------------------------------------------------------
    def index_requests(self, source: dict, url: str) -> Iterator[scrapy.Request]:
        """The requests a crawl of the source starts with: its own page (a meetings source's kind
        asks for several calendar months instead: scrapers.meetings)."""
        yield self._index_request(source, url, page=1)

    def _index_request(self, source: dict, url: str, page: int, conditional: bool | None = None) -> scrapy.Request:
        """``conditional``: whether to ask with the saved validators (default: the first page of a
        source's own page, outside a back-fill)."""
        if conditional is None:
            conditional = not self.since and page == 1  # conditional GET of the source's own page
        headers = self._conditional_headers(url) if conditional else {}
        return scrapy.Request(
            url,
            callback=self.index_callback(source["kind"]),
            errback=self.on_error,
            headers=headers,
            dont_filter=True,
            meta={
                "source_id": source["id"],
                "role": "index",
                "page": page,
                "started": utcnow_iso(),
                "conditional": conditional,
                "handle_httpstatus_list": [304] + ([404] if page > 1 else []),
            },
        )

    def _article_request(self, source_id: str, url: str, entry: dict, page: Page | None) -> scrapy.Request:
        if page:
            page.outstanding += 1
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            priority=ARTICLE_PRIORITY,
            meta={
                "source_id": source_id,
                "role": "article",
                "entry": entry,
                "started": utcnow_iso(),
                "conditional": True,
                "page_ref": (source_id, page.number) if page else None,
            },
        )

    def _conditional_headers(self, url: str) -> dict[str, str]:
        etag, modified = self.state.validators(url) if self.state else (None, None)
        headers = {"If-None-Match": etag, "If-Modified-Since": modified}
        return {k: v for k, v in headers.items() if v}

    def _revisit_request(self, source_id: str, url: str, entry: dict) -> scrapy.Request:
        """A stored page asked again, with what its feed said of it when it was first fetched (the
        page's own headline and date must not replace the feed's: that is not an edit)."""
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            headers=self._conditional_headers(url),
            priority=ARTICLE_PRIORITY,
            meta={
                "source_id": source_id,
                "role": "article",
                "entry": entry,
                "started": utcnow_iso(),
                "conditional": True,
                "revisit": True,
                "handle_httpstatus_list": [304],
            },
        )

    # -- what is recorded --------------------------------------------------------------------
    def _fetch(
        self,
        response: Response,
        *,
        found: int = 0,
        new: int = 0,
        status: str = "ok",
        kind: str | None = None,
        error: str | None = None,
    ) -> Fetch:
        if status == "error":
            self.failed.add(response.meta["source_id"])
        latency = response.meta.get("download_latency") or 0.0
        return Fetch(
            source_id=response.meta["source_id"],
            url=response.url,
            role=response.meta.get("role", "index"),
            started_at=response.meta.get("started") or utcnow_iso(),
            status=status,
            http_status=response.status,
            bytes=len(response.body),
            duration_ms=int(latency * 1000),
            items_found=found,
            items_new=new,
            error_kind=kind,
            error=error,
        )

    def _article(self, source_id: str, url: str, data: dict, **page: Any) -> Article:
        selectors = self.sources[source_id].get("selectors") or {}
        return Article(
            source_id=source_id,
            url=url,
            fetched_at=utcnow_iso(),
            feed_title=data.get("title") or None,
            feed_author=data.get("author"),
            feed_published=data.get("published"),
            feed_summary=data.get("summary"),
            guid=data.get("guid"),
            extra={
                **({"selectors": {k: v for k, v in selectors.items() if v}} if selectors else {}),
                # a meetings source's pages are its meetings' documents (pipelines.extract: kind "document")
                **({"official_document": True} if self.sources[source_id]["kind"] in ("cmis", "moderngov") else {}),
            },
            **page,
        )

    def _remember_validators(self, response: Response) -> None:
        if not response.meta.get("conditional") or response.status != 200:
            return
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        if etag or modified:
            self.fresh_validators[response.url] = (
                response.meta["source_id"],
                etag.decode("latin-1") if etag else None,
                modified.decode("latin-1") if modified else None,
            )

    def save_validators(self, spider: scrapy.Spider | None = None, reason: str = "finished") -> None:
        """At the end of the crawl, keep validators only of sources whose whole run succeeded."""
        if not self.state or reason != "finished":
            return
        for url, (source_id, etag, modified) in self.fresh_validators.items():
            if source_id not in self.failed:
                self.state.save_validators(url, etag, modified)

    # -- links to articles, and the next page of a back-fill --------------------------------
    def _follow(
        self,
        response: Response,
        source: dict,
        links: list[tuple[str, dict]],
        next_url: str | None,
        *,
        fetch_pages: bool = True,
        **fetch: Any,
    ) -> Iterator[Any]:
        """Yield the fetch record, article requests for new links (or, ``fetch_pages`` false, the
        articles as the index page gave them), and the next archive page."""
        pattern = re.compile(source["url_pattern"]) if source.get("url_pattern") else None
        wanted = []
        for url, entry in links:
            if pattern and not pattern.search(url):
                continue
            if self.since and entry.get("published") and entry["published"][:10] < self.since:
                continue
            if self.state and self.state.is_stored(url_key(url)):
                continue
            wanted.append((url, entry))
        cap = self._setting("CAREWATCH_MAX_LINKS_PER_PAGE")
        if cap and len(wanted) > cap:
            # A page that lists more new links than any news page does (a broken or hostile site):
            # follow the first ones, say so in the fetch log, and keep no validators for the source,
            # so the next crawl reads the page in full and goes on with the links not yet stored.
            note = (
                f"{len(wanted):,} new links on the page; only the first {cap:,} followed "
                f"(max_links_per_page), the rest are left for later crawls"
            )
            wanted = wanted[:cap]
            self.failed.add(source["id"])
            if fetch.get("status") in ("error", "warning"):
                fetch["error"] = f"{fetch.get('error')}; {note}"
            else:
                fetch.update(status="warning", kind="links-capped", error=note)
        page = self.backfills.open_page(source["id"], response.meta.get("page", 1), next_url)
        yield self._fetch(response, found=len(links), new=len(wanted), **fetch)
        for url, entry in wanted:
            if fetch_pages:
                yield self._article_request(source["id"], url, entry, page)
            else:
                yield self._article(source["id"], url, entry)
        if page:
            self.backfills.page_parsed(page)
            if next_url:
                yield self._index_request(source, next_url, page=page.number + 1)

    # -- errors ------------------------------------------------------------------------------
    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        meta = request.meta
        if meta.get("role") == "article":
            self.backfills.article_done(meta)
        self.failed.add(meta["source_id"])
        kind, message, status = classify_failure(failure, self._setting("DOWNLOAD_MAXSIZE"))
        yield Fetch(
            source_id=meta["source_id"],
            url=request.url,
            role=meta.get("role", "index"),
            started_at=meta.get("started") or utcnow_iso(),
            status="error",
            http_status=status,
            error_kind=kind,
            error=message,
        )
        # The page failed but the feed entry is in hand: keep what the feed said, lose nothing, but
        # alert nothing until the page is read (page_pending: the next crawls fetch it again). Kept
        # under the URL the feed gave, not where a redirect (a loop, say) had got to.
        entry = meta.get("entry") or {}
        if meta.get("role") == "article" and entry.get("summary"):
            linked = (meta.get("redirect_urls") or [request.url])[0]
            yield self._article(meta["source_id"], linked, entry, page_pending=True)
