"""Raw responses kept as WARC files (warcio), so any stored article can be re-extracted later
with better code (``carewatch reprocess``).

Why a downloader middleware (with a two-line spider middleware) rather than a helper the spider
calls: it sees every response of every source kind and callback in one place (feeds, listings,
sitemaps, API results, article pages, PDFs), so a new path through the spider cannot forget to
archive; and at priority 575 it sits after RedirectMiddleware, HttpCompressionMiddleware and
MetaRefreshMiddleware, so what it writes is exactly the final URL, status, headers and (decoded)
body the spider's callback is given: the input that re-extraction must reproduce. The spider
middleware then copies the record's location from the response onto each Article the callback
made from it (``Article.extra["capture"]``), for the store to record; the spider knows nothing of
WARC. (A page's Article is made from its own response; a ``follow: false`` feed's Articles from
the feed's response, which is then their capture.)

What is written for each 2xx response of a source's request (``meta["role"]`` index or article;
robots.txt and error responses are not kept):

- a ``response`` record: the status line and headers as received (less Transfer-Encoding, and
  Content-Length set to the stored body when Scrapy decompressed it), the body the spider saw,
  and ``WARC-Payload-Digest: sha256:...`` (base32, as WARC writes digests);
- a ``request`` record (concurrent to it): the request line and headers as sent, without
  credentials (Authorization, Proxy-Authorization, Cookie);
- a ``metadata`` record (concurrent to it, ``application/json``): the source id, the role and
  what the feed or listing said about the page (``entry``): re-extraction needs them as much as
  the page, and with them the WARC files alone are enough to rebuild the archive's articles.

Files: ``<raw_dir>/<source id>/<UTC start of the crawl>-<pid>.warc.gz``, one per crawl process
and source, opened on the first record and created exclusively (never rewritten or appended to
by another process); each record its own gzip member, so a record is read by seeking to its
offset, and a crawl killed mid-write loses only the record it was writing. ``raw_dir`` is the
``raw_dir`` setting, or ``<database path>-raw`` beside the database.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import re
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from carewatch.core.digests import sha256_digest
from carewatch.core.items import Article, utcnow

log = logging.getLogger(__name__)

ROLES = ("index", "article")
FORMAT = 1  # of the metadata record's JSON
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie"}
_DROP_RESPONSE_HEADERS = {"transfer-encoding"}  # the stored body is never chunked


def raw_dir_for(raw_dir: str | os.PathLike[str] | None, db_path: str | os.PathLike[str] | None) -> Path | None:
    """Where the WARC files go: the ``raw_dir`` setting, else ``<database path>-raw`` beside it."""
    if raw_dir:
        return Path(raw_dir)
    if db_path:
        p = Path(db_path)
        return p.with_name(p.name + "-raw")
    return None


def _text_headers(headers: Any, drop: set[str]) -> list[tuple[str, str]]:
    out = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        if key.lower() in drop:
            continue
        for value in values:
            out.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out


class WarcArchive:
    """Writes one WARC file per source for this process under ``raw_dir``."""

    def __init__(self, raw_dir: str | os.PathLike[str]) -> None:
        self.raw_dir = Path(raw_dir)
        self.stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        self._files: dict[str, tuple[BinaryIO, WARCWriter, str]] = {}

    def _open(self, source_id: str) -> tuple[BinaryIO, WARCWriter, str]:
        if source_id in self._files:
            return self._files[source_id]
        folder = re.sub(r"[^A-Za-z0-9_.-]", "_", source_id) or "_"
        (self.raw_dir / folder).mkdir(parents=True, exist_ok=True)
        n = 0
        while True:  # exclusive creation: a file is never rewritten, nor shared by two processes
            rel = f"{folder}/{self.stamp}-{os.getpid()}{f'-{n}' if n else ''}.warc.gz"
            try:
                fh = open(self.raw_dir / rel, "xb")
                break
            except FileExistsError:
                n += 1
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        writer.write_record(
            writer.create_warcinfo_record(
                Path(rel).name,
                {
                    "software": "carewatch (scrapers/warc.py) with warcio",
                    "format": "WARC File Format 1.1",
                    "isPartOf": source_id,
                    "description": "raw responses of one crawl of one source; see scrapers/warc.py",
                },
            )
        )
        fh.flush()
        self._files[source_id] = (fh, writer, rel)
        return self._files[source_id]

    def write(self, request: Request, response: Response) -> dict[str, Any]:
        """Write the response, request and metadata records; return where the response record is."""
        meta = request.meta
        fh, writer, rel = self._open(meta["source_id"])
        body = response.body
        sha_hex, sha_warc = sha256_digest(body)
        headers = _text_headers(response.headers, _DROP_RESPONSE_HEADERS)
        if any(k.lower() == "content-length" for k, _ in headers):
            headers = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers]
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        protocol = response.protocol if (response.protocol or "").startswith("HTTP/1.") else "HTTP/1.1"
        http = StatusAndHeaders(f"{response.status} {reason}".strip(), headers, protocol=protocol)
        record = writer.create_warc_record(
            response.url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict={"WARC-Payload-Digest": sha_warc},
        )
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        date = record.rec_headers.get_header("WARC-Date")
        offset = fh.tell()
        writer.write_record(record)
        length = fh.tell() - offset

        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_http = StatusAndHeaders(
            f"{request.method} {target} HTTP/1.1", _text_headers(request.headers, _SECRET_HEADERS), is_http_request=True
        )
        concurrent = {"WARC-Concurrent-To": record_id, "WARC-Date": date}
        writer.write_record(
            writer.create_warc_record(
                response.url, "request", http_headers=request_http, warc_headers_dict=dict(concurrent)
            )
        )
        info = json.dumps(
            {
                "format": FORMAT,
                "source_id": meta["source_id"],
                "role": meta.get("role"),
                "entry": meta.get("entry") or {},
                "request_url": request.url,
            },
            ensure_ascii=False,
            default=str,
        ).encode("utf-8")
        writer.write_record(
            writer.create_warc_record(
                response.url,
                "metadata",
                payload=io.BytesIO(info),
                length=len(info),
                warc_content_type="application/json",
                warc_headers_dict=dict(concurrent),
            )
        )
        fh.flush()  # the store records this location next: the bytes must be in the file first
        return {
            "warc_file": rel,
            "offset": offset,
            "length": length,
            "sha256": sha_hex,
            "record_id": record_id,
            "fetched": date,
            "url": response.url,
            "status": response.status,
            "content_type": (response.headers.get("Content-Type") or b"").decode("latin-1"),
        }

    def close(self) -> None:
        for fh, _, _ in self._files.values():
            try:
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fh.close()
        self._files.clear()


class WarcMiddleware:
    """Downloader middleware: every 2xx response of a source's request into the WARC archive; its
    location in ``request.meta["capture"]`` (which is also ``response.meta``)."""

    def __init__(self, archive: WarcArchive, stats: Any = None) -> None:
        self.archive = archive
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        raw_dir = raw_dir_for(crawler.settings.get("CAREWATCH_RAW_DIR"), crawler.settings.get("CAREWATCH_DB"))
        if raw_dir is None:
            raise NotConfigured("no CAREWATCH_RAW_DIR nor CAREWATCH_DB: raw responses are not kept")
        mw = cls(WarcArchive(raw_dir), crawler.stats)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        self.archive.close()

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        meta = request.meta
        if meta.get("role") not in ROLES or "source_id" not in meta or not 200 <= response.status < 300:
            return response
        try:
            meta["capture"] = self.archive.write(request, response)
        except OSError as e:  # a full disk must not stop the crawl: the article is stored without its capture
            log.error("could not keep the raw response of %s in %s: %s", response.url, self.archive.raw_dir, e)
            if self.stats:
                self.stats.inc_value("carewatch/warc_errors")
        else:
            if self.stats:
                self.stats.inc_value("carewatch/warc_records")
        return response


class CaptureSpiderMiddleware(BaseSpiderMiddleware):
    """Spider middleware: puts the location of the response's WARC record on every Article the
    callback made from that response (``Article.extra["capture"]``), for the store to record."""

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        if not isinstance(item, Article) or response is None or "capture" in item.extra:
            return item
        try:
            capture = response.meta.get("capture")
        except AttributeError:  # a response without its request
            return item
        if not capture:
            return item
        return dataclasses.replace(item, extra={**item.extra, "capture": capture})
