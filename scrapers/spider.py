"""One spider for every source kind, parametrised by the source's config entry.

Kinds: ``feed`` (RSS/Atom parsed with feedparser; each entry's page fetched for its full text),
``listing`` (an HTML page whose article links a CSS selector picks), ``pdf_links`` (a page of
links to documents, e.g. Ofsted's provider page; the link text gives the type and date).
"""

from __future__ import annotations

import re
import time
from calendar import timegm
from datetime import datetime, timezone
from typing import Any, Iterator

import feedparser
import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from core.items import Article, Fetch, utcnow_iso


def _iso(struct: time.struct_time | None) -> str | None:
    if not struct:
        return None
    return datetime.fromtimestamp(timegm(struct), tz=timezone.utc).isoformat(timespec="seconds")


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


_DATE_IN_TEXT = re.compile(r"\b(\d{1,2})\s+([A-Z][a-z]+)\s+(\d{4})\b")


def date_from_text(text: str) -> str | None:
    """'..., pdf - 18 April 2023' -> '2023-04-18'."""
    m = _DATE_IN_TEXT.search(text or "")
    if not m:
        return None
    try:
        return datetime.strptime(" ".join(m.groups()), "%d %B %Y").date().isoformat()
    except ValueError:
        return None


def classify_failure(failure: Failure) -> tuple[str, str, int | None]:
    """(error kind, message, http status) of a failed request."""
    exc = failure.value
    if failure.check(HttpError):
        status = exc.response.status
        return "http", f"HTTP {status}", status
    name = type(exc).__name__
    return name, f"{name}: {exc}".strip(), None


class SourceSpider(scrapy.Spider):
    name = "carewatch"

    def __init__(self, sources: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources = {s["id"]: s for s in sources}

    async def start(self):  # noqa: D102 - Scrapy >= 2.13 entry point
        for source in self.sources.values():
            callback = {"feed": self.parse_feed, "listing": self.parse_listing, "pdf_links": self.parse_listing}
            yield self._request(source["url"], source["id"], callback[source["kind"]], role="index")

    # -- helpers -----------------------------------------------------------------------------
    def _request(self, url: str, source_id: str, callback, role: str, entry: dict | None = None) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            meta={"source_id": source_id, "role": role, "entry": entry or {}, "started": utcnow_iso()},
            dont_filter=role == "index",
        )

    def _fetch(self, response: Response, *, items: int = 0, status: str = "ok", kind=None, error=None) -> Fetch:
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
            items_found=items,
            error_kind=kind,
            error=error,
        )

    # -- index pages -------------------------------------------------------------------------
    def parse_feed(self, response: Response) -> Iterator[Any]:
        source_id = response.meta["source_id"]
        source = self.sources[source_id]
        headers = {k.decode().lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v}
        parsed = feedparser.parse(response.body, response_headers=headers)
        entries = parsed.entries
        if not entries:
            if not response.body.strip():
                reason = "empty response: no feed"
            elif parsed.bozo:
                reason = f"malformed feed: {type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
            elif not parsed.version:
                reason = "not a feed (no RSS or Atom found)"
            else:
                reason = None  # a valid feed with no entries
            if reason:
                yield self._fetch(response, status="error", kind="feed", error=reason)
                return
        warning = None
        if parsed.bozo:
            warning = f"feed parsed with errors: {type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
        yield self._fetch(response, items=len(entries), kind="feed-warning" if warning else None, error=warning)
        for entry in entries:
            link = entry.get("link")
            if not link:
                continue
            content = entry.get("content") or []
            data = {
                "title": _clean(entry.get("title")),
                "author": _clean(entry.get("author")) or None,
                "published": _iso(entry.get("published_parsed") or entry.get("updated_parsed")),
                "summary": (content[0].get("value") if content else None) or entry.get("summary"),
                "guid": entry.get("id"),
            }
            url = response.urljoin(link)
            if source.get("follow", True):
                yield self._request(url, source_id, self.parse_article, role="article", entry=data)
            else:
                yield self._article(source_id, url, data)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        source_id = response.meta["source_id"]
        source = self.sources[source_id]
        if not isinstance(response, TextResponse):
            yield self._fetch(response, status="error", kind="listing", error="not an HTML page")
            return
        found = []
        for sel in response.css(source["links"]):
            href = sel.attrib.get("href") if sel.attrib else sel.get()
            if not href:
                continue
            text = _clean(" ".join(sel.css("::text").getall())) if sel.attrib else ""
            found.append((response.urljoin(href.strip()), text))
        if not found:
            yield self._fetch(response, status="error", kind="listing",
                              error=f"no links matched the selector {source['links']!r}")
            return
        yield self._fetch(response, items=len(found))
        for url, text in found:
            entry = {}
            if source["kind"] == "pdf_links":
                entry = {"title": text.split(",")[0].strip() or None, "published": date_from_text(text)}
            yield self._request(url, source_id, self.parse_article, role="article", entry=entry)

    # -- article pages -----------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        data = response.meta.get("entry") or {}
        is_text = isinstance(response, TextResponse) and not response.body.lstrip().startswith(b"%PDF-")
        if is_text and self.sources[response.meta["source_id"]]["kind"] == "pdf_links":
            # Ofsted's report links sometimes serve an HTML "Report not found" page.
            title = _clean(" ".join(response.css("title::text, h1::text").getall()))[:120]
            yield self._fetch(response, status="error", kind="not-pdf",
                              error=f"expected a PDF, got an HTML page: {title!r}")
            return
        yield self._fetch(response, items=1)
        yield self._article(
            response.meta["source_id"],
            response.url,
            data,
            html=response.text if is_text else "",
            body=b"" if is_text else response.body,
            content_type=(response.headers.get("Content-Type") or b"").decode("latin-1"),
        )

    def _article(self, source_id: str, url: str, data: dict, **page: Any) -> Article:
        return Article(
            source_id=source_id,
            url=url,
            fetched_at=utcnow_iso(),
            feed_title=data.get("title") or None,
            feed_author=data.get("author"),
            feed_published=data.get("published"),
            feed_summary=data.get("summary"),
            guid=data.get("guid"),
            **page,
        )

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        kind, message, status = classify_failure(failure)
        meta = request.meta
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
        # The page failed but the feed entry is in hand: keep what the feed said, lose nothing.
        entry = meta.get("entry") or {}
        if meta.get("role") == "article" and entry.get("summary"):
            yield self._article(meta["source_id"], request.url, entry)
