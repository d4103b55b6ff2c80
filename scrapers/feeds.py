"""Feeds: ``feed`` (RSS or Atom, parsed with feedparser; each entry's page fetched for its full
text, or with ``follow: false`` the entry itself kept as the article) and ``wordpress`` (a feed,
back-filled through WordPress's ``?paged=N``). A feed whose declared XML entities would expand
beyond reason is refused before any parser sees it."""

from __future__ import annotations

import re
import time
from calendar import timegm
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
from scrapy.http import Response

from carewatch.scrapers.base import SpiderBase, clean, index_page, with_query

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
    return sum(size(r) for r in _ENTITY_REF.findall(body[end if end >= 0 else 0 :]) if r in values)


def _iso(struct: time.struct_time | None) -> str | None:
    if not struct:
        return None
    return datetime.fromtimestamp(timegm(struct), tz=UTC).isoformat(timespec="seconds")


class FeedPages(SpiderBase):
    """Reads ``feed`` and ``wordpress`` sources' own pages."""

    @index_page
    def parse_feed(self, response: Response, source: dict) -> Iterator[Any]:
        if response.status == 404:  # past the last page of a paged feed
            yield self._fetch(response, kind="end", error="no more pages")
            return
        expansion = entity_expansion(response.body)
        if expansion > MAX_ENTITY_EXPANSION:  # refused before any parser sees it
            yield self._fetch(
                response,
                status="error",
                kind="feed",
                error=(
                    f"refused: the feed declares XML entities that would expand to {expansion:,} characters "
                    f"(limit {MAX_ENTITY_EXPANSION:,}; an entity-expansion attack such as 'billion laughs'); not parsed"
                ),
            )
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
            problem = {
                "status": "warning" if minor else "error",
                "kind": "bozo",
                "error": f"feed parsed with errors: {type(exc).__name__}: {exc}",
            }
        links = []
        for entry in entries:
            link = entry.get("link")
            if not link:
                continue
            content = entry.get("content") or []
            links.append(
                (
                    response.urljoin(link),
                    {
                        "title": clean(entry.get("title")),
                        "author": clean(entry.get("author")) or None,
                        "published": _iso(entry.get("published_parsed") or entry.get("updated_parsed")),
                        "summary": (content[0].get("value") if content else None) or entry.get("summary"),
                        "guid": entry.get("id"),
                    },
                )
            )
        self._remember_validators(response)
        next_url = None
        if source["kind"] == "wordpress" and entries and self.backfills.older([e["published"] for _, e in links]):
            next_url = with_query(source["url"], paged=response.meta.get("page", 1) + 1)
        yield from self._follow(response, source, links, next_url, fetch_pages=source.get("follow", True), **problem)
