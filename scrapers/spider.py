"""One spider for every source kind, parametrised by the source's config entry.

Kinds: ``feed`` (RSS/Atom parsed with feedparser; each entry's page fetched for its full text),
``wordpress`` (a feed, back-filled through WordPress's ``?paged=N``), ``listing`` (an HTML page
whose article links a CSS selector picks), ``pdf_links`` (a page of links to documents, e.g.
Ofsted's provider page; the link text gives the type and date), ``sitemap`` (a sitemap or
sitemap index), ``govuk_search`` (the GOV.UK Search API, each result read through the Content
API).

Incremental: a source's own page (feed, listing, sitemap, search) is fetched with the ETag and
Last-Modified it last had, so an unchanged source answers 304 and costs nothing; pages already
stored are not fetched again. Validators are saved only for sources whose whole run succeeded,
so a failure is retried next time rather than hidden behind a 304.

Back-fill (``since``): archives are walked page by page, older each time, until the entries are
older than ``since``; progress is saved as pages complete, so an interrupted back-fill resumes
where it stopped.
"""

from __future__ import annotations

import functools
import json
import re
import time
from calendar import timegm
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
import scrapy
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from carewatch.core.items import Article, CrawlState, Fetch, utcnow_iso
from carewatch.core.urls import url_key

ARTICLE_PRIORITY = 10  # articles before the next archive page: a page completes before the next starts


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
    if "max size" in str(exc):  # Scrapy's DOWNLOAD_MAXSIZE cut the download off
        return "too-large", f"too large, not downloaded: {exc}", None
    received = getattr(failure, "request", None) and failure.request.meta.get("body_bytes", 0)
    if name == "DownloadCancelledError" and max_bytes and (received or 0) > max_bytes:
        return "too-large", (f"too large, not downloaded: more than {max_bytes:,} bytes (max_response_bytes) "
                             f"and still coming, cut off"), None
    detail = str(exc)
    if name == "ResponseDataLossError":  # Scrapy gives no message; Twisted's reasons say how it ended
        reasons = getattr(exc.__cause__, "reasons", None) or []
        how = "; ".join(filter(None, (r.getErrorMessage() for r in reasons
                                                if type(r.value).__name__ != "_DataLoss")))
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
        return (f"binary data served as {ctype} ({len(response.body):,} bytes, "
                f"{controls * 100 // len(head)}% control bytes)")
    return None


def _declares_charset(response: TextResponse) -> bool:
    """Whether the HTTP header, a byte-order mark or the page itself (<meta>) names a charset."""
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
    return bool(http_content_type_encoding(content_type) or read_bom(response.body)[0]
                or html_body_declared_encoding(response.body))


def decode_page(response: TextResponse) -> str:
    """The page as text. Scrapy reconciles the HTTP, BOM and <meta> charsets; when the bytes are
    not valid in the charset it chose (Windows-1252 served as UTF-8, say), they are read as
    Windows-1252, the usual truth, rather than kept with replacement characters. (UTF-8 served as
    Latin-1 decodes without error; the extract stage mends that mojibake.) A page that names no
    charset at all and is not UTF-8 is read as Windows-1252 too, as browsers do for English pages,
    rather than as whatever a statistical guess says (it takes £ for the Ł of Windows-1250)."""
    if not _declares_charset(response):
        for encoding in ("utf-8", "cp1252"):
            try:
                return response.body.decode(encoding)
            except UnicodeDecodeError:
                continue
    text = response.text
    if "\ufffd" in text:
        try:
            response.body.decode(response.encoding)
        except (UnicodeDecodeError, LookupError):
            try:
                return response.body.decode("cp1252")
            except UnicodeDecodeError:
                pass
    return text


# A feed's own entity declarations (<!ENTITY name "value"> in its DOCTYPE) may expand to at most this
# many characters. feedparser expands declared entities (its fallback parser even after expat gave
# up), so "billion laughs" (entities of entities) or a quadratic blow-up (one long entity used
# thousands of times) turns a 100 KB feed into gigabytes. Real feeds declare a few short ones.
# Measured here, by hand: defusedxml would refuse every feed that declares any entity at all, and
# expat's own amplification limit does not guard feedparser's fallback (non-expat) parser.
MAX_ENTITY_EXPANSION = 1_000_000
_ENTITY_DECL = re.compile(rb"""<!ENTITY\s+(%\s*)?([^\s%&;<>"']+)\s+(?:"([^"]*)"|'([^']*)')""")
_ENTITY_REF = re.compile(rb"&([^\s&;#<>\"']+);")


def entity_expansion(body: bytes) -> int:
    """Characters the document's internal entities would expand to where it uses them: nested
    entities multiplied out, each reference counted. 0 when it declares none."""
    if b"<!ENTITY" not in body:
        return 0
    values: dict[bytes, bytes] = {}
    for m in _ENTITY_DECL.finditer(body):
        if not m[1]:  # parameter entities (%name;) are used inside the DTD only
            values.setdefault(m[2], m[3] if m[3] is not None else m[4])
    sizes: dict[bytes, int] = {}

    def size(name: bytes) -> int:
        if name not in values:
            return len(name) + 2  # undefined or predefined (&amp;): left as it is, roughly
        if name not in sizes:
            sizes[name] = 0  # a reference cycle counts nothing (parsers refuse those anyway)
            value = values[name]
            sizes[name] = len(_ENTITY_REF.sub(b"", value)) + sum(size(r) for r in _ENTITY_REF.findall(value))
        return sizes[name]

    end = body.find(b"]>", body.find(b"<!ENTITY"))
    return sum(size(r) for r in _ENTITY_REF.findall(body[end if end >= 0 else 0:]) if r in values)


def with_query(url: str, **params: Any) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: str(v) for k, v in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query, safe="[]%")))


def _index_page(parse):  # noqa: ANN001, ANN202
    """A source's own page: a 304 is recorded as not modified; otherwise parse it with its source."""
    @functools.wraps(parse)
    def wrapper(self: "SourceSpider", response: Response) -> Iterator[Any]:
        if response.status == 304:
            yield self._fetch(response, status="not_modified")
            return
        yield from parse(self, response, self.sources[response.meta["source_id"]])
    return wrapper


@dataclass
class _Page:
    """One archive page of a back-fill, done when all the articles it listed are."""

    source_id: str
    number: int
    next_url: str | None
    outstanding: int = 0
    parsed: bool = False


@dataclass
class _Backfill:
    pages: dict[int, _Page] = field(default_factory=dict)
    done_through: int = 0
    saved: int = 0


class SourceSpider(scrapy.Spider):
    name = "carewatch"

    def __init__(self, sources: list[dict[str, Any]], since: str | None = None,
                 state: CrawlState | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources = {s["id"]: s for s in sources}
        self.since = since
        self.state = state
        self.failed: set[str] = set()
        self.fresh_validators: dict[str, tuple[str, str | None, str | None]] = {}  # url -> (source, etag, lm)
        self.backfills: dict[str, _Backfill] = {}

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):  # noqa: ANN206
        factory, db = crawler.settings.get("CAREWATCH_CRAWL_STATE"), crawler.settings.get("CAREWATCH_DB")
        kwargs.setdefault("state", load_object(factory)(db) if factory and db else None)
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.save_validators, signal=signals.spider_closed)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider.count_body_bytes, signal=signals.bytes_received)
        crawler.signals.connect(spider.item_failed, signal=signals.item_error)
        return spider

    def count_body_bytes(self, data: bytes, request: scrapy.Request, spider: scrapy.Spider | None = None) -> None:
        """Bytes of the body received so far: a download cut off at the size limit is then told
        from other cancelled downloads (classify_failure)."""
        request.meta["body_bytes"] = request.meta.get("body_bytes", 0) + len(data)

    def item_failed(self, item: object, response: Response | None = None, spider: scrapy.Spider | None = None,
                    failure: Failure | None = None) -> None:
        """An article a pipeline stage could not process or store (disk full, say): its source
        counts as failed for this run, as when the page's fetch fails, so none of the source's HTTP
        validators are kept; otherwise the next crawl's feed request is answered 304 and the
        article is never seen again."""
        if isinstance(item, Article):
            self.failed.add(item.source_id)

    def request_dropped(self, request: scrapy.Request, spider: scrapy.Spider | None = None) -> None:
        """A request the scheduler dropped (a duplicate) still completes its archive page."""
        if request.meta.get("role") == "article":
            self._article_done(request.meta)

    async def start(self):  # noqa: D102 - Scrapy >= 2.13 entry point
        revisit_days = self.crawler.settings.getint("CAREWATCH_REVISIT_DAYS", 0) if hasattr(self, "crawler") else 0
        for source in self.sources.values():
            url = source["url"]
            if self.since and self.state:
                url = self.state.backfill_resume(source["id"], self.since) or url
            yield self._index_request(source, url, page=1)
            # Recent pages, asked again conditionally, so edits show up. (GOV.UK items are read from
            # the Content API, not the page stored as their URL: their edits arrive through search.)
            if self.state and not self.since and source["kind"] != "govuk_search":
                for page_url in self.state.recent_pages(source["id"], revisit_days):
                    yield self._revisit_request(source["id"], page_url)

    # -- requests ----------------------------------------------------------------------------
    def _index_request(self, source: dict, url: str, page: int) -> scrapy.Request:
        callback = {"feed": self.parse_feed, "wordpress": self.parse_feed, "listing": self.parse_listing,
                    "pdf_links": self.parse_listing, "sitemap": self.parse_sitemap,
                    "govuk_search": self.parse_govuk_search}[source["kind"]]
        conditional = not self.since and page == 1  # conditional GET of the source's own page
        headers = self._conditional_headers(url) if conditional else {}
        return scrapy.Request(
            url, callback=callback, errback=self.on_error, headers=headers, dont_filter=True,
            meta={"source_id": source["id"], "role": "index", "page": page, "started": utcnow_iso(),
                  "conditional": conditional, "handle_httpstatus_list": [304] + ([404] if page > 1 else [])},
        )

    def _article_request(self, source_id: str, url: str, entry: dict, page: _Page | None,
                         callback=None) -> scrapy.Request:  # noqa: ANN001
        if page:
            page.outstanding += 1
        return scrapy.Request(
            url, callback=callback or self.parse_article, errback=self.on_error, priority=ARTICLE_PRIORITY,
            meta={"source_id": source_id, "role": "article", "entry": entry, "started": utcnow_iso(),
                  "conditional": True, "page_ref": (source_id, page.number) if page else None},
        )

    def _conditional_headers(self, url: str) -> dict[str, str]:
        etag, modified = self.state.validators(url) if self.state else (None, None)
        headers = {"If-None-Match": etag, "If-Modified-Since": modified}
        return {k: v for k, v in headers.items() if v}

    def _revisit_request(self, source_id: str, url: str) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.on_error, headers=self._conditional_headers(url),
            priority=ARTICLE_PRIORITY,
            meta={"source_id": source_id, "role": "article", "entry": {}, "started": utcnow_iso(),
                  "conditional": True, "revisit": True, "handle_httpstatus_list": [304]},
        )

    def _fetch(self, response: Response, *, found: int = 0, new: int = 0, status: str = "ok",
               kind: str | None = None, error: str | None = None) -> Fetch:
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

    def _remember_validators(self, response: Response) -> None:
        if not response.meta.get("conditional") or response.status != 200:
            return
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        if etag or modified:
            self.fresh_validators[response.url] = (
                response.meta["source_id"], etag.decode("latin-1") if etag else None,
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
    def _follow(self, response: Response, source: dict, links: list[tuple[str, dict]],
                next_url: str | None, **fetch: Any) -> Iterator[Any]:
        """Yield the fetch record, article requests for new links, and the next archive page."""
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
        cap = self.crawler.settings.getint("CAREWATCH_MAX_LINKS_PER_PAGE", 0) if hasattr(self, "crawler") else 0
        if cap and len(wanted) > cap:
            # A page that lists more new links than any news page does (a broken or hostile site):
            # follow the first ones, say so in the fetch log, and keep no validators for the source,
            # so the next crawl reads the page in full and goes on with the links not yet stored.
            note = (f"{len(wanted):,} new links on the page; only the first {cap:,} followed "
                    f"(max_links_per_page), the rest are left for later crawls")
            wanted = wanted[:cap]
            self.failed.add(source["id"])
            if fetch.get("status") in ("error", "warning"):
                fetch["error"] = f"{fetch.get('error')}; {note}"
            else:
                fetch.update(status="warning", kind="links-capped", error=note)
        page = None
        if self.since:
            page = _Page(source["id"], response.meta.get("page", 1), next_url)
            self.backfills.setdefault(source["id"], _Backfill()).pages[page.number] = page
        yield self._fetch(response, found=len(links), new=len(wanted), **fetch)
        for url, entry in wanted:
            if source["kind"] in ("feed", "wordpress") and not source.get("follow", True):
                yield self._article(source["id"], url, entry)
            else:
                yield self._article_request(source["id"], url, entry, page)
        if page:
            page.parsed = True
            self._page_progress(source["id"])
            if next_url:
                yield self._index_request(source, next_url, page=page.number + 1)

    def _page_progress(self, source_id: str) -> None:
        """Save how far a back-fill got: up to the last page whose articles are all done."""
        bf = self.backfills.get(source_id)
        if not bf or not self.state or not self.since:
            return
        advanced = False
        while True:
            page = bf.pages.get(bf.done_through + 1)
            if page is None or not page.parsed or page.outstanding:
                break
            bf.done_through += 1
            advanced = True
            last = page
        if advanced:
            self.state.backfill_progress(source_id, self.since, last.next_url, bf.done_through - bf.saved)
            bf.saved = bf.done_through

    def _article_done(self, meta: dict) -> None:
        ref = meta.get("page_ref")
        if ref:
            page = self.backfills[ref[0]].pages[ref[1]]
            page.outstanding -= 1
            self._page_progress(ref[0])

    def _older(self, dates: list[str | None]) -> bool:
        """True when a back-fill should go on to the next (older) page."""
        known = [d for d in dates if d]
        return bool(self.since) and (not known or min(known)[:10] >= self.since)

    # -- index pages -------------------------------------------------------------------------
    @_index_page
    def parse_feed(self, response: Response, source: dict) -> Iterator[Any]:
        if response.status == 404:  # past the last page of a paged feed
            yield self._fetch(response, kind="end", error="no more pages")
            return
        expansion = entity_expansion(response.body)
        if expansion > MAX_ENTITY_EXPANSION:  # refused before any parser sees it
            yield self._fetch(response, status="error", kind="feed", error=(
                f"refused: the feed declares XML entities that would expand to {expansion:,} characters "
                f"(limit {MAX_ENTITY_EXPANSION:,}; an entity-expansion attack such as 'billion laughs'); not parsed"))
            return
        headers = {k.decode().lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v}
        parsed = feedparser.parse(response.body, response_headers=headers)
        entries = parsed.entries
        if not entries:
            reason = None
            if not response.body.strip():
                reason = "empty response: no feed"
            elif parsed.bozo:
                reason = f"malformed feed: {type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
            elif not parsed.version:
                reason = "not a feed (no RSS or Atom found)"
            if reason:
                yield self._fetch(response, status="error", kind="feed", error=reason)
                return
        problem = {}
        if parsed.bozo:  # entries are still kept; the feed's fault is recorded
            exc = parsed.bozo_exception
            minor = isinstance(exc, feedparser.CharacterEncodingOverride)
            problem = {"status": "warning" if minor else "error", "kind": "bozo",
                       "error": f"feed parsed with errors: {type(exc).__name__}: {exc}"}
        links = []
        for entry in entries:
            link = entry.get("link")
            if not link:
                continue
            content = entry.get("content") or []
            links.append((response.urljoin(link), {
                "title": _clean(entry.get("title")),
                "author": _clean(entry.get("author")) or None,
                "published": _iso(entry.get("published_parsed") or entry.get("updated_parsed")),
                "summary": (content[0].get("value") if content else None) or entry.get("summary"),
                "guid": entry.get("id"),
            }))
        self._remember_validators(response)
        next_url = None
        if source["kind"] == "wordpress" and entries and self._older([e["published"] for _, e in links]):
            next_url = with_query(source["url"], paged=response.meta.get("page", 1) + 1)
        yield from self._follow(response, source, links, next_url, **problem)

    @_index_page
    def parse_listing(self, response: Response, source: dict) -> Iterator[Any]:
        if not isinstance(response, TextResponse) or response.status == 404:
            yield self._fetch(response, status="error", kind="listing", error="not an HTML page")
            return
        links = []
        for sel in response.css(source["links"]):
            href = sel.attrib.get("href") if sel.attrib else sel.get()
            if not href:
                continue
            text = _clean(" ".join(sel.css("::text").getall())) if sel.attrib else ""
            entry = {}
            if source["kind"] == "pdf_links":
                entry = {"title": text.split(",")[0].strip() or None, "published": date_from_text(text)}
            links.append((response.urljoin(href.strip()), entry))
        if not links:
            self.failed.add(source["id"])
            yield self._fetch(response, status="error", kind="listing",
                              error=f"no links matched the selector {source['links']!r}")
            return
        self._remember_validators(response)
        next_url = None
        if source.get("next_page") and self._older(response.css("time::attr(datetime)").getall()):
            href = response.css(source["next_page"]).attrib.get("href")
            next_url = response.urljoin(href) if href else None
        yield from self._follow(response, source, links, next_url)

    @_index_page
    def parse_sitemap(self, response: Response, source: dict) -> Iterator[Any]:
        try:
            sel = scrapy.Selector(text=response.body.decode("utf-8", "replace"), type="xml")
            sel.remove_namespaces()
        except Exception as e:  # noqa: BLE001 - any parser failure is this source's error
            yield self._fetch(response, status="error", kind="sitemap", error=f"not a sitemap: {e}")
            return
        children = sel.xpath("//sitemapindex/sitemap/loc/text()").getall()
        if children:
            self._remember_validators(response)
            yield self._fetch(response, found=len(children), new=len(children))
            for loc in children:  # each child sitemap is an index page of its own, fetched conditionally
                yield self._index_request(source, response.urljoin(loc.strip()), page=1)
            return
        links = [(response.urljoin(u.xpath("loc/text()").get("").strip()),
                  {"published": (u.xpath("lastmod/text()").get() or "").strip() or None})
                 for u in sel.xpath("//urlset/url")]
        if not links:
            yield self._fetch(response, status="error", kind="sitemap", error="no <url> or <sitemap> entries")
            return
        self._remember_validators(response)
        yield from self._follow(response, source, links, None)

    @_index_page
    def parse_govuk_search(self, response: Response, source: dict) -> Iterator[Any]:
        try:
            results = json.loads(response.body)["results"]
        except (ValueError, KeyError, TypeError) as e:
            yield self._fetch(response, status="error", kind="api", error=f"not a GOV.UK search response: {e}")
            return
        links = []
        for r in results:
            if not r.get("link", "").startswith("/"):
                continue
            api = urlunsplit(urlsplit(response.url)._replace(path="/api/content" + r["link"], query=""))
            links.append((api, {"title": r.get("title"), "published": r.get("public_timestamp"),
                                "summary": r.get("description"), "page_url": response.urljoin(r["link"])}))
        self._remember_validators(response)
        next_url = None
        if results and self._older([e["published"] for _, e in links]):
            query = dict(parse_qsl(urlsplit(response.url).query))
            count = int(query.get("count", len(results)) or len(results))
            next_url = with_query(response.url, start=int(query.get("start", 0) or 0) + count)
        yield from self._follow(response, source, links, next_url)

    # -- article pages -----------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        self._article_done(response.meta)
        if response.status == 304:  # a revisited page, unchanged
            yield self._fetch(response, status="not_modified")
            return
        self._remember_validators(response)
        data = response.meta.get("entry") or {}
        source = self.sources[response.meta["source_id"]]
        if data.get("page_url"):  # a GOV.UK Content API item
            yield from self._govuk_content(response, data)
            return
        is_pdf = response.body.lstrip().startswith(b"%PDF-")
        is_text = isinstance(response, TextResponse) and not is_pdf
        binary = None if is_pdf else binary_content(response)
        if binary:
            # An image, an archive, random bytes: stored, it would be an empty or garbage article that
            # is never fetched again. Failed instead (so the feed is read in full next time and the
            # page tried again), and what the feed said is kept, as when a fetch fails.
            yield self._fetch(response, status="error", kind="not-html",
                              error=f"expected an HTML page or a PDF, got {binary}")
            if data.get("summary"):
                yield self._article(response.meta["source_id"], response.url, data)
            return
        if is_text and source["kind"] == "pdf_links":
            # Ofsted's report links sometimes serve an HTML "Report not found" page.
            title = _clean(" ".join(response.css("title::text, h1::text").getall()))[:120]
            yield self._fetch(response, status="error", kind="not-pdf",
                              error=f"expected a PDF, got an HTML page: {title!r}")
            return
        yield self._fetch(response, found=1, new=1)
        yield self._article(
            response.meta["source_id"], response.url, data,
            html=decode_page(response) if is_text else "",
            body=b"" if is_text else response.body,
            content_type=(response.headers.get("Content-Type") or b"").decode("latin-1"),
        )

    def _govuk_content(self, response: Response, data: dict) -> Iterator[Any]:
        try:
            item = json.loads(response.body)
            body = (item.get("details") or {}).get("body") or ""
        except (ValueError, AttributeError) as e:
            yield self._fetch(response, status="error", kind="api", error=f"not a GOV.UK content item: {e}")
            return
        yield self._fetch(response, found=1, new=1)
        notice = item.get("withdrawn_notice") or {}
        if notice:
            body = (f"<p>This was withdrawn on {notice.get('withdrawn_at', '')[:10]}: "
                    f"{notice.get('explanation', '')}</p>") + body
        html = f"<html><head><title>{item.get('title', '')}</title></head><body><article>{body}</article></body></html>"
        entry = {**data, "title": item.get("title") or data.get("title"),
                 "published": item.get("first_published_at") or data.get("published"),
                 "summary": item.get("description") or data.get("summary")}
        yield self._article(response.meta["source_id"], data["page_url"], entry, html=html)

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
            extra={"selectors": {k: v for k, v in selectors.items() if v}} if selectors else {},
            **page,
        )

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        meta = request.meta
        if meta.get("role") == "article":
            self._article_done(meta)
        self.failed.add(meta["source_id"])
        kind, message, status = classify_failure(
            failure, self.crawler.settings.getint("DOWNLOAD_MAXSIZE", 0) if hasattr(self, "crawler") else 0)
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
