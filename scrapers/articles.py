"""Article pages, whatever kind of source led to them: an HTML page (decoded with the charset it
really has) or a PDF, kept as the Article the pipelines extract. A page that is neither (an image,
random bytes served as text/html) is refused, and what the feed said of it kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response, TextResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from carewatch.scrapers.base import SpiderBase, article_page, binary_content
from carewatch.scrapers.pdfs import html_instead_of_pdf


def _declares_charset(response: TextResponse) -> bool:
    """Whether the HTTP header, a byte-order mark or the page itself (<meta>) names a charset."""
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
    return bool(
        http_content_type_encoding(content_type)
        or read_bom(response.body)[0]
        or html_body_declared_encoding(response.body)
    )


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


class ArticlePages(SpiderBase):
    """Reads article pages: HTML or PDF."""

    @article_page
    def parse_page(self, response: Response, source: dict, data: dict) -> Iterator[Any]:
        is_pdf = response.body.lstrip().startswith(b"%PDF-")
        is_text = isinstance(response, TextResponse) and not is_pdf
        binary = None if is_pdf else binary_content(response)
        if binary:
            # An image, an archive, random bytes: stored, it would be an empty or garbage article that
            # is never fetched again. Failed instead (so the feed is read in full next time and the
            # page tried again), and what the feed said is kept, not alerted, as when a fetch fails.
            yield self._fetch(
                response, status="error", kind="not-html", error=f"expected an HTML page or a PDF, got {binary}"
            )
            if data.get("summary"):
                yield self._article(response.meta["source_id"], response.url, data, page_pending=True)
            return
        if is_text and source["kind"] == "pdf_links":
            yield self._fetch(response, status="error", kind="not-pdf", error=html_instead_of_pdf(response))
            return
        yield self._fetch(response, found=1, new=1)
        yield self._article(
            response.meta["source_id"],
            response.url,
            data,
            html=decode_page(response) if is_text else "",
            body=b"" if is_text else response.body,
            content_type=(response.headers.get("Content-Type") or b"").decode("latin-1"),
        )
