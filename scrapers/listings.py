"""Listings: ``listing`` sources, an HTML page whose article links a CSS selector (``links``) picks,
back-filled through the page's own next-page link (``next_page``) when asked to. scrapers/pdfs.py
reads its pages of document links the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from scrapy.http import Response

from carewatch.scrapers.base import SpiderBase, binary_content, clean, index_page


class ListingPages(SpiderBase):
    """Reads ``listing`` sources' own pages."""

    @index_page
    def parse_listing(self, response: Response, source: dict) -> Iterator[Any]:
        yield from self._links_page(response, source, lambda text: {})

    def _links_page(self, response: Response, source: dict, entry_for: Callable[[str], dict]) -> Iterator[Any]:
        """A page of links: each link the selector picks, with what ``entry_for`` reads in its text."""
        if response.status == 404:
            yield self._fetch(response, status="error", kind="listing", error="not an HTML page")
            return
        if binary := binary_content(response):  # an image, random bytes: no use looking for links in it
            yield self._fetch(
                response, status="error", kind="not-html", error=f"expected an HTML page of links, got {binary}"
            )
            return
        links = []
        for sel in response.css(source["links"]):
            href = sel.attrib.get("href") if sel.attrib else sel.get()
            if not href:
                continue
            text = clean(" ".join(sel.css("::text").getall())) if sel.attrib else ""
            links.append((response.urljoin(href.strip()), entry_for(text)))
        if not links:
            self.failed.add(source["id"])
            yield self._fetch(
                response, status="error", kind="listing", error=f"no links matched the selector {source['links']!r}"
            )
            return
        self._remember_validators(response)
        next_url = None
        if source.get("next_page") and self.backfills.older(response.css("time::attr(datetime)").getall()):
            href = response.css(source["next_page"]).attrib.get("href")
            next_url = response.urljoin(href) if href else None
        yield from self._follow(response, source, links, next_url)
