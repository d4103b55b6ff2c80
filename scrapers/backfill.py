"""Back-fill (``carewatch crawl --since``): a source's archive walked page by page, older each time,
until its entries are older than ``since``. The kinds that page (a WordPress feed's ``?paged=N``, a
listing's next-page link, GOV.UK search's ``start=``) say where the next page is; this module keeps
count of each page's articles and saves, as pages complete, how far the walk got, so an
interrupted back-fill resumes where it stopped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from carewatch.core.items import CrawlState


@dataclass
class Page:
    """One archive page of a back-fill, done when all the articles it listed are."""

    source_id: str
    number: int
    next_url: str | None
    outstanding: int = 0
    parsed: bool = False


@dataclass
class _Walk:
    """One source's back-fill in this crawl: its pages, and how far they are done and saved."""

    pages: dict[int, Page] = field(default_factory=dict)
    done_through: int = 0
    saved: int = 0


class Backfills:
    """The back-fills of a crawl with ``since`` (a crawl without it keeps none)."""

    def __init__(self, state: CrawlState | None, since: str | None) -> None:
        self.state, self.since = state, since
        self.walks: dict[str, _Walk] = {}

    def resume_url(self, source_id: str) -> str | None:
        """Where an interrupted back-fill of the source stopped (None: start at its first page)."""
        if self.since and self.state:
            return self.state.backfill_resume(source_id, self.since)
        return None

    def older(self, dates: Sequence[str | None]) -> bool:
        """True when a back-fill should go on to the next (older) page."""
        if not self.since:
            return False
        known = [d for d in dates if d]
        return not known or min(known)[:10] >= self.since

    def open_page(self, source_id: str, number: int, next_url: str | None) -> Page | None:
        """The archive page being read, counted from now on (None when this is no back-fill)."""
        if not self.since:
            return None
        page = Page(source_id, number, next_url)
        self.walks.setdefault(source_id, _Walk()).pages[number] = page
        return page

    def page_parsed(self, page: Page) -> None:
        """Every article request of the page is out."""
        page.parsed = True
        self._progress(page.source_id)

    def article_done(self, meta: dict) -> None:
        """An article request (its meta) answered, failed or dropped: one fewer for its page."""
        ref = meta.get("page_ref")
        if ref:
            page = self.walks[ref[0]].pages[ref[1]]
            page.outstanding -= 1
            self._progress(ref[0])

    def _progress(self, source_id: str) -> None:
        """Save how far a back-fill got: up to the last page whose articles are all done."""
        walk = self.walks.get(source_id)
        if not walk or not self.state or not self.since:
            return
        advanced = False
        while True:
            page = walk.pages.get(walk.done_through + 1)
            if page is None or not page.parsed or page.outstanding:
                break
            walk.done_through += 1
            advanced = True
            last = page
        if advanced:
            self.state.backfill_progress(source_id, self.since, last.next_url, walk.done_through - walk.saved)
            walk.saved = walk.done_through
