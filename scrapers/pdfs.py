"""Pages of links to documents: ``pdf_links`` sources (e.g. Ofsted's provider page), read as a
listing whose link text gives each document's type and date; the document itself must be a PDF
(Ofsted's report links sometimes serve an HTML "Report not found" page instead)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from scrapy.http import Response, TextResponse

from carewatch.scrapers.base import clean, index_page
from carewatch.scrapers.listings import ListingPages

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


def link_entry(text: str) -> dict:
    """What a document link's text says: 'Children's services inspection, pdf - 18 April 2023'."""
    return {"title": text.split(",")[0].strip() or None, "published": date_from_text(text)}


def html_instead_of_pdf(response: TextResponse) -> str:
    """The error recorded when a document link serves an HTML page."""
    title = clean(" ".join(response.css("title::text, h1::text").getall()))[:120]
    return f"expected a PDF, got an HTML page: {title!r}"


class PdfLinkPages(ListingPages):
    """Reads ``pdf_links`` sources' own pages."""

    @index_page
    def parse_pdf_links(self, response: Response, source: dict) -> Iterator[Any]:
        yield from self._links_page(response, source, link_entry)
