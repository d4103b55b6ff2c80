"""Refuse responses that look whole but are not: a redirect loop, a gzip body cut short.

Scrapy follows a redirect loop (A -> B -> A) up to REDIRECT_MAX_TIMES for a request that is not
filtered as a duplicate (a source's own page), and for one that is (an article page) its duplicate
filter silently drops the hop back to A: the page is neither fetched nor recorded as failed, the
source's run counts as a success and its feed is next asked with validators (304), so the page is
never tried again. And Scrapy's gunzip returns whatever it could decompress of a truncated gzip
stream as if it were the whole body (lenient on purpose, for servers with bad checksums), so half
an article would be stored as the article, and not fetched again.

This downloader middleware sees each response before RedirectMiddleware (600) and
HttpCompressionMiddleware (590) do (priority 610: responses pass the middlewares from the highest
number down) and refuses both with an error that says what happened; the spider's errback records
it in the fetch log like any failed fetch, which also keeps the source's validators unsaved, so the
next crawl tries again.
"""

from __future__ import annotations

import zlib
from urllib.parse import urldefrag, urljoin

from scrapy.exceptions import IgnoreRequest
from w3lib.url import safe_url_string

REDIRECTS = {301, 302, 303, 307, 308}


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL already in the request's redirect chain."""


class TruncatedBody(IgnoreRequest):
    """A compressed body whose stream ends before its end marker."""


def gzip_complete(body: bytes, limit: int = 0) -> bool:
    """False when the gzip stream stops before its end. Corrupt data, or what decompresses past
    ``limit`` bytes, is left to Scrapy (its decompression and size limit deal with those)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data, out = body, 0
    try:
        while data and not d.eof:
            out += len(d.decompress(data, 65536))
            data = d.unconsumed_tail
            if limit and out > limit:
                return True
        if not d.eof:
            d.flush()
    except zlib.error:
        return True
    return d.eof


class ResponseChecksMiddleware:
    def __init__(self, max_bytes: int = 0) -> None:
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getint("DOWNLOAD_MAXSIZE", 0))

    def process_response(self, request, response, spider=None):
        if response.status in REDIRECTS and response.headers.get("Location"):
            location = safe_url_string(response.headers["Location"].decode("latin-1"))
            target = urldefrag(urljoin(request.url, location))[0]
            chain = [*request.meta.get("redirect_urls", []), request.url]
            if target in {urldefrag(u)[0] for u in chain}:
                raise RedirectLoop(("redirect loop: " + " -> ".join([*chain, target]))[:600])
        elif 200 <= response.status < 300 and request.method != "HEAD" and response.body:
            encodings = [e.strip().lower() for v in response.headers.getlist("Content-Encoding") for e in v.split(b",")]
            if encodings and encodings[-1] in (b"gzip", b"x-gzip") and not gzip_complete(response.body, self.max_bytes):
                raise TruncatedBody(
                    f"truncated gzip body: the compressed stream stops before its end "
                    f"({len(response.body):,} bytes received, Content-Encoding: gzip); not stored"
                )
        return response
