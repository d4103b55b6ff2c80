"""GOV.UK: ``govuk_search`` sources, the GOV.UK Search API (paged with ``start=`` when back-filling),
each result read through the Content API; the item's body (a withdrawn notice first) is wrapped as
the page stored under the result's own GOV.UK URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from scrapy.http import Response

from carewatch.scrapers.base import SpiderBase, article_page, index_page, with_query


class GovukSearchPages(SpiderBase):
    """Reads ``govuk_search`` sources' search results and the Content API items they lead to."""

    @index_page
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
            links.append(
                (
                    api,
                    {
                        "title": r.get("title"),
                        "published": r.get("public_timestamp"),
                        "summary": r.get("description"),
                        "page_url": response.urljoin(r["link"]),
                    },
                )
            )
        self._remember_validators(response)
        next_url = None
        if results and self.backfills.older([e["published"] for _, e in links]):
            query = dict(parse_qsl(urlsplit(response.url).query))
            count = int(query.get("count", len(results)) or len(results))
            next_url = with_query(response.url, start=int(query.get("start", 0) or 0) + count)
        yield from self._follow(response, source, links, next_url)

    @article_page
    def parse_content_item(self, response: Response, source: dict, data: dict) -> Iterator[Any]:
        """A Content API item (its entry's ``page_url`` is the GOV.UK page it stands for)."""
        try:
            item = json.loads(response.body)
            body = (item.get("details") or {}).get("body") or ""
        except (ValueError, AttributeError) as e:
            yield self._fetch(response, status="error", kind="api", error=f"not a GOV.UK content item: {e}")
            return
        yield self._fetch(response, found=1, new=1)
        notice = item.get("withdrawn_notice") or {}
        if notice:
            body = (
                f"<p>This was withdrawn on {notice.get('withdrawn_at', '')[:10]}: {notice.get('explanation', '')}</p>"
            ) + body
        html = f"<html><head><title>{item.get('title', '')}</title></head><body><article>{body}</article></body></html>"
        entry = {
            **data,
            "title": item.get("title") or data.get("title"),
            "published": item.get("first_published_at") or data.get("published"),
            "summary": item.get("description") or data.get("summary"),
        }
        yield self._article(response.meta["source_id"], data["page_url"], entry, html=html)
