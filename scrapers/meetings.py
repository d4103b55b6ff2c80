"""Council meetings: ``cmis`` and ``moderngov`` sources. The calendar is read month by month (from
``months_back`` months ago, or the back-fill's ``since``, to ``months_ahead`` months on), each
meeting of a followed committee is read from its own page (scrapers.meetings_markup parses both
systems' pages), and yielded as a :class:`~carewatch.core.items.Meeting`; each document it links
to that is not stored yet is fetched as an article page (kind ``document``: pipelines.extract),
so a document that fails is recorded in the fetch log and the rest are stored.

The politeness, health and failure rules are the other sources': the same requests, download
guard, retries and fetch log; a calendar month or a meeting page that fails fails its source for
the run (so no validators are kept and the next crawl reads everything again).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import scrapy
from scrapy.http import Response

from carewatch.core.items import AgendaItem, Meeting, MeetingDocument, utcnow_iso
from carewatch.core.urls import url_key
from carewatch.scrapers import meetings_markup as markup
from carewatch.scrapers.base import SpiderBase, index_page

MEETING_KINDS = ("cmis", "moderngov")
LONDON = ZoneInfo("Europe/London")
MEETING_PRIORITY = 5  # meeting pages before documents, after nothing in particular

_CALENDAR: dict[str, Callable[[str, int, int], str]] = {
    "cmis": markup.cmis_calendar_url,
    "moderngov": markup.moderngov_calendar_url,
}


def months(today: date, back: int, ahead: int, since: str | None = None) -> list[tuple[int, int]]:
    """(year, month) of each calendar month to read, oldest first: ``back`` months before this one
    (or from ``since``'s month, for a back-fill, at most 24 months back) to ``ahead`` months after."""
    index = today.year * 12 + today.month - 1
    first = index - back
    if since:
        first = max(min(first, int(since[:4]) * 12 + int(since[5:7]) - 1), index - 24)
    return [(i // 12, i % 12 + 1) for i in range(first, index + ahead + 1)]


def follows(committees: tuple[str, ...] | list[str], committee: str) -> bool:
    """Whether a committee is followed: every word of one of the names given is in its name (case
    and punctuation aside), so "Corporate Parenting" follows "Corporate Parenting Board"; no names
    given follows every committee."""
    if not committees:
        return True
    words = set(re.findall(r"\w+", committee.lower()))
    return any(set(re.findall(r"\w+", name.lower())) <= words for name in committees)


def utc_start(local: str | None) -> str | None:
    """A meeting's start as the page gives it (Europe/London wall clock, or a date) in UTC ISO-8601;
    a date alone stays a date."""
    if not local:
        return None
    if len(local) <= 10:
        return local
    dt = datetime.fromisoformat(local)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=LONDON)
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def meeting_item(source: dict, page: markup.MeetingPage, url: str) -> Meeting:
    return Meeting(
        source_id=source["id"],
        external_id=page.external_id,
        url=url,
        committee=page.committee,
        start=utc_start(page.start),
        status=page.status,
        fetched_at=utcnow_iso(),
        status_text=page.status_text,
        venue=page.venue,
        items=tuple(
            AgendaItem(
                number=i.number,
                title=i.title,
                text=i.text,
                documents=tuple(MeetingDocument(d.title, d.url) for d in i.documents),
            )
            for i in page.items
        ),
        documents=tuple(MeetingDocument(d.title, d.url) for d in page.documents),
        published_note=page.published_note,
        authority=source.get("authority") or source["name"],
    )


class MeetingPages(SpiderBase):
    """Reads ``cmis`` and ``moderngov`` sources: calendar months, meeting pages, their documents."""

    def index_requests(self, source: dict, url: str) -> Iterator[scrapy.Request]:
        if source["kind"] not in MEETING_KINDS:
            yield from super().index_requests(source, url)
            return
        for year, month in months(
            date.today(), source.get("months_back", 1), source.get("months_ahead", 3), self.since
        ):
            # Not conditional: a month's list stays the same when a meeting's agenda is republished,
            # and only the list leads to the meeting pages (which are asked conditionally).
            month_url = _CALENDAR[source["kind"]](source["url"], year, month)
            request = self._index_request(source, month_url, page=1, conditional=False)
            request.meta.update(year=year, month=month)
            yield request

    @index_page
    def parse_meeting_calendar(self, response: Response, source: dict) -> Iterator[Any]:
        """A calendar month: each meeting of a followed committee is read from its page."""
        if source["kind"] == "cmis":
            refs = markup.cmis_calendar(response.text, response.url, response.meta["year"], response.meta["month"])
        else:
            refs = markup.moderngov_calendar(response.text, response.url)
        wanted = [r for r in refs if follows(source.get("committees") or (), r.committee)]
        yield self._fetch(response, found=len(refs), new=len(wanted))
        for ref in wanted:
            yield scrapy.Request(  # conditional: an unchanged meeting page answers 304 and costs nothing
                ref.url,
                callback=self.parse_meeting,
                errback=self.on_error,
                headers=self._conditional_headers(ref.url),
                priority=MEETING_PRIORITY,
                meta={
                    "source_id": source["id"],
                    "role": "meeting",
                    "started": utcnow_iso(),
                    "conditional": True,
                    "handle_httpstatus_list": [304],
                },
            )

    def parse_meeting(self, response: Response) -> Iterator[Any]:
        """A meeting's page: the meeting (with its agenda) and a request for each document not stored."""
        if response.status == 304:  # unchanged since the last crawl that read it whole
            yield self._fetch(response, status="not_modified")
            return
        self._remember_validators(response)
        source = self.sources[response.meta["source_id"]]
        parse = markup.cmis_meeting if source["kind"] == "cmis" else markup.moderngov_meeting
        try:
            page = parse(response.text, response.url)
        except (ValueError, AttributeError) as e:  # not a meeting page (a login page, a changed layout)
            yield self._fetch(response, status="error", kind="not-a-meeting", error=f"{type(e).__name__}: {e}")
            return
        meeting = meeting_item(source, page, response.url)
        documents = [*(d for i in meeting.items for d in i.documents), *meeting.documents]
        new = [d for d in {url_key(d.url): d for d in documents}.values() if not self._stored(d.url)]
        yield self._fetch(response, found=len(documents), new=len(new))
        yield meeting
        day = (meeting.start or "")[:10] or None
        for d in new:
            entry = {"title": d.title, "published": day}
            yield self._article_request(source["id"], d.url, entry, None)

    def _stored(self, url: str) -> bool:
        return bool(self.state and self.state.is_stored(url_key(url)))
