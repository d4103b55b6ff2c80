"""The spider the crawl runs (ops/crawl_process.py): one for every source kind, parametrised by the
source's config entry, put together from the kinds' own modules around scrapers/base.py.

Kinds (config/schema.py's ``kind``): ``feed`` and ``wordpress`` (scrapers/feeds.py), ``listing``
(scrapers/listings.py), ``pdf_links`` (scrapers/pdfs.py), ``sitemap`` (scrapers/sitemaps.py),
``govuk_search`` (scrapers/govuk.py), ``cmis`` and ``moderngov`` (scrapers/meetings.py). Each
source's own page is read by its kind; the pages it leads to, by scrapers/articles.py (or, for
GOV.UK, by the Content API reader). Incremental crawling and back-fill (``since``):
scrapers/base.py and scrapers/backfill.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from scrapy.http import Response

from carewatch.scrapers.articles import ArticlePages
from carewatch.scrapers.feeds import FeedPages
from carewatch.scrapers.govuk import GovukSearchPages
from carewatch.scrapers.meetings import MeetingPages
from carewatch.scrapers.pdfs import PdfLinkPages
from carewatch.scrapers.sitemaps import SitemapPages


class SourceSpider(FeedPages, PdfLinkPages, SitemapPages, GovukSearchPages, MeetingPages, ArticlePages):
    name = "carewatch"

    def index_callback(self, kind: str) -> Callable[[Response], Iterator[Any]]:
        return {
            "feed": self.parse_feed,
            "wordpress": self.parse_feed,
            "listing": self.parse_listing,
            "pdf_links": self.parse_pdf_links,
            "sitemap": self.parse_sitemap,
            "govuk_search": self.parse_govuk_search,
            "cmis": self.parse_meeting_calendar,
            "moderngov": self.parse_meeting_calendar,
        }[kind]

    def parse_article(self, response: Response) -> Iterator[Any]:
        """A GOV.UK Content API item (its entry names the page it stands for), else a page or a PDF."""
        if (response.meta.get("entry") or {}).get("page_url"):
            return self.parse_content_item(response)
        return self.parse_page(response)


class OnePageSpider(SourceSpider):
    """``carewatch inspect URL``: one page fetched as a crawl fetches an article page (the same
    request, downloader middlewares, errback and callback), so it fails, or is refused, with exactly
    the error a crawl would record. Its one source is the one named, else a stand-in."""

    name = "carewatch-inspect"

    def __init__(self, sources: list[dict[str, Any]], url: str, **kwargs: Any) -> None:
        super().__init__(sources=sources, **kwargs)
        self.url = url

    async def start(self):  # Scrapy >= 2.13 entry point
        yield self._article_request(next(iter(self.sources)), self.url, {}, None)
