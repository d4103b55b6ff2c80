"""Sitemaps: ``sitemap`` sources, a sitemap (each ``<url>``'s page followed, its ``<lastmod>`` as
the date) or a sitemap index (each child sitemap an index page of its own, fetched conditionally)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from carewatch.scrapers.base import SpiderBase, index_page


class SitemapPages(SpiderBase):
    """Reads ``sitemap`` sources' own pages."""

    @index_page
    def parse_sitemap(self, response: Response, source: dict) -> Iterator[Any]:
        try:
            sel = scrapy.Selector(text=response.body.decode("utf-8", "replace"), type="xml")
            sel.remove_namespaces()
        except Exception as e:  # any parser failure is this source's error
            yield self._fetch(response, status="error", kind="sitemap", error=f"not a sitemap: {e}")
            return
        children = sel.xpath("//sitemapindex/sitemap/loc/text()").getall()
        if children:
            self._remember_validators(response)
            yield self._fetch(response, found=len(children), new=len(children))
            for loc in children:  # each child sitemap is an index page of its own, fetched conditionally
                yield self._index_request(source, response.urljoin(loc.strip()), page=1)
            return
        links = [
            (
                response.urljoin(u.xpath("loc/text()").get("").strip()),
                {"published": (u.xpath("lastmod/text()").get() or "").strip() or None},
            )
            for u in sel.xpath("//urlset/url")
        ]
        if not links:
            yield self._fetch(response, status="error", kind="sitemap", error="no <url> or <sitemap> entries")
            return
        self._remember_validators(response)
        yield from self._follow(response, source, links, None)
