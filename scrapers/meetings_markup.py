"""Pure parsers for council meeting systems: CMIS (Birmingham) and ModernGov (its neighbours).

No Scrapy here: each function takes a page's text and URL and returns frozen dataclasses, so the
spider (scrapers/meetings.py), the tests and anything else can use them on text from anywhere.
docs/meetings-markup.md says what the real pages look like and where each fact was seen.

Hand-written, with parsel, because nothing maintained parses these pages. The one package on PyPI
for ModernGov, ``moderngov`` (0.3.0, last released November 2022), is a command-line client of the
web service that fetches for itself (requests, a disk cache, ``exit(1)`` on any error) and parses
no HTML; nothing on PyPI reads CMIS at all. The public scrapers that do (DemocracyClub's LGSF,
UK civic-tech projects) are applications, not libraries, and were read, not copied.

What each function reads:

- :func:`cmis_calendar`: CMIS's no-JavaScript month calendar
  (``.../ctl/MeetingCalendarPublicNoJava/mid/<mid>/Date/<yyyy-mm-dd>/Default.aspx``): rows of a
  day cell ``td.SimpleCalendarDate`` ("Monday, 8 June": no year, so it comes from the month asked
  for) and a cell of ``p.Meeting`` links ("10:00 Licensing Sub-Committee A"); also the list view
  (``ctl=MeetingCalendarListView``: "9 Jul 2026 11:00 - Planning Committee", which has its year).
- :func:`cmis_meeting`: a CMIS meeting page (``ctl/ViewMeetingPublic/.../Meeting/<id>/...``): the
  labelled fields (``div.holder`` > ``div.DNNLabel`` + ``div.Value``, read by label, since the
  real page gives the status the class ``Value Venue``), the documents (``li.DocumentListItem``
  ``a.TitleLink``) and the agenda items.
- :func:`moderngov_calendar`: either the web service's ``GetMeetings`` XML or the HTML month view
  ``mgCalendarMonthView.aspx`` (see the function for which the spider uses, and why).
- :func:`moderngov_meeting`: a ModernGov meeting page, ``ieListDocuments.aspx?CId=..&MId=..``.

Times are the wall clock printed (Europe/London), as ISO-8601 without offset: "2026-12-09T10:00",
or the date alone ("2026-12-09") when no time is printed.

``MeetingPage.status`` is normalised from what the page prints (``status_text``):

- "cancelled": the status says cancelled (CMIS "Cancelled"; ModernGov "Cancelled", "CANCELLED");
- "moved": it says moved, rescheduled or postponed ("Moved", "Rescheduled", "Postponed");
- "held": it says the meeting took place (CMIS "Occurred", "Held"), or the meeting's own minutes
  are published (a meeting-level document titled "... minutes", not "minutes of the previous
  meeting"; ModernGov's page title "Agenda and minutes"; the web service's
  ``minutepublished``);
- "scheduled": anything else ("Scheduled", "Confirmed", "Provisional", nothing printed).

No clock is read: a past meeting without minutes stays "scheduled", as the page says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import parse_qs, urljoin, urlsplit

from parsel import Selector

__all__ = [
    "AgendaEntry",
    "DocumentRef",
    "MeetingPage",
    "MeetingRef",
    "cmis_calendar",
    "cmis_calendar_url",
    "cmis_meeting",
    "moderngov_calendar",
    "moderngov_calendar_url",
    "moderngov_meeting",
    "normalise_status",
    "parse_when",
]


@dataclass(frozen=True, slots=True)
class MeetingRef:  # one meeting as a calendar/list page shows it
    url: str  # absolute URL of the meeting page
    committee: str
    start: str | None  # ISO-8601 local time without offset ("2026-12-09T10:00"), or date only
    status: str | None  # as shown ("Cancelled", "Rescheduled", ...), None if nothing shown
    external_id: str  # the system's meeting id (CMIS Meeting/<id>, ModernGov MId)


@dataclass(frozen=True, slots=True)
class DocumentRef:
    title: str
    url: str  # absolute


@dataclass(frozen=True, slots=True)
class AgendaEntry:
    number: str  # "1", "7", "7a" as printed
    title: str
    text: str  # the item's description/recommendation text on the page, "" if none
    documents: tuple[DocumentRef, ...]


@dataclass(frozen=True, slots=True)
class MeetingPage:
    external_id: str
    committee: str
    start: str | None  # as MeetingRef
    status: str  # normalised: "scheduled" | "cancelled" | "moved" | "held" (module docstring)
    status_text: str | None  # as printed
    venue: str | None
    items: tuple[AgendaEntry, ...]
    documents: tuple[DocumentRef, ...]  # meeting-level documents (agenda pack, supplementary pack, minutes)
    published_note: str | None  # e.g. "Agenda republished on ..." / "Supplementary agenda" note, as printed


# --------------------------------------------------------------------------- dates and text

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
# "9 December 2026", "9th December, 2026", "9 Dec 2026"; or "09/12/2026" (ModernGov dd/mm/yyyy)
_DATE_WORDS = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_DATE_SLASHES = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
# "10.00 am", "2:00 pm", "6.30 p.m.", "10am"; or 24-hour "10:00", "14.00"
_TIME_12 = re.compile(r"\b(\d{1,2})(?:[.:](\d{2}))?\s*([ap])\.?\s?m\b\.?", re.I)
_TIME_24 = re.compile(r"\b([01]?\d|2[0-3])[.:]([0-5]\d)\b")
_NOON = re.compile(r"\bnoon\b|\bmidday\b", re.I)
_SPACES = re.compile(r"\s+")


def clean(text: str | None) -> str:
    """Whitespace collapsed, ends stripped (non-breaking spaces too)."""
    return _SPACES.sub(" ", (text or "").replace("\xa0", " ")).strip()


def _date(text: str, default_year: int | None = None) -> tuple[date, int] | None:
    """The first date in ``text`` and where it ends; a day and month without a year take
    ``default_year``."""
    m = _DATE_WORDS.search(text)
    if m and m.group(2).lower() in _MONTHS:
        d, mon, y = int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
        try:
            return date(y, mon, d), m.end()
        except ValueError:
            return None
    m = _DATE_SLASHES.search(text)
    if m:
        try:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))), m.end()
        except ValueError:
            return None
    if default_year is not None:  # "Monday, 8 June": CMIS's month calendar prints no year
        m = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\b", text)
        if m and m.group(2).lower() in _MONTHS:
            try:
                return date(default_year, _MONTHS[m.group(2).lower()], int(m.group(1))), m.end()
            except ValueError:
                return None
    return None


def _time(text: str) -> str | None:
    """The first time of day in ``text`` as "HH:MM" (12-hour with am/pm, or 24-hour)."""
    m = _TIME_12.search(text)
    if m:
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if 1 <= hour <= 12 and minute < 60:
            hour = hour % 12 + (12 if m.group(3).lower() == "p" else 0)
            return f"{hour:02d}:{minute:02d}"
    if _NOON.search(text):
        return "12:00"
    m = _TIME_24.search(text)
    if m:
        return f"{int(m.group(1)):02d}:{m.group(2)}"
    return None


def parse_when(text: str | None, default_year: int | None = None, time_text: str | None = None) -> str | None:
    """A printed date and time as ISO local time: "Wednesday, 9 December 2026 10.00 am" ->
    "2026-12-09T10:00"; "9 Dec 2026 - 10:00" -> "2026-12-09T10:00"; "13/01/2026" -> "2026-01-13".
    The time is looked for after the date (or in ``time_text``, as ModernGov's XML gives it apart);
    None when no date is found."""
    text = clean(text)
    found = _date(text, default_year)
    if found is None:
        return None
    day, end = found
    when = _time(time_text if time_text is not None else text[end:])
    return f"{day.isoformat()}T{when}" if when else day.isoformat()


_CANCELLED = re.compile(r"\bcancel+ed\b", re.I)
_MOVED = re.compile(r"\b(moved|re-?scheduled|postponed|re-?arranged)\b", re.I)
_HELD = re.compile(r"\b(occurred|held|took place)\b", re.I)
_STATUS_WORD = re.compile(
    r"\b(CANCELLED|Cancelled|MOVED|Moved|RESCHEDULED|Rescheduled|POSTPONED|Postponed|WITHDRAWN|Withdrawn)\b"
)


def _own_minutes(title: str) -> bool:
    """A document that is this meeting's minutes (not the previous meeting's, on the agenda)."""
    t = title.lower()
    return "minute" in t and "previous" not in t and "last meeting" not in t


def normalise_status(status_text: str | None, documents: tuple[DocumentRef, ...] = (), minutes: bool = False) -> str:
    """The normalised status (module docstring): cancelled, moved, held or scheduled."""
    text = status_text or ""
    if _CANCELLED.search(text):
        return "cancelled"
    if _MOVED.search(text):
        return "moved"
    if _HELD.search(text) or minutes or any(_own_minutes(d.title) for d in documents):
        return "held"
    return "scheduled"


def _text(sel: Selector) -> str:
    return clean(" ".join(sel.xpath(".//text()").getall()))


def _paragraphs(sel: Selector) -> str:
    """A block's text, one line per paragraph or list item."""
    parts = [_text(p) for p in sel.xpath(".//p | .//li")]
    parts = [p for p in parts if p]
    return "\n".join(parts) if parts else _text(sel)


_SIZE = re.compile(r"\s*(?:\(\s*)?(?:PDF|DOCX?|XLSX?)?,?\s*[\d.]+\s*[KMG]i?B\s*\)?\s*$", re.I)


def _doc_title(text: str) -> str:
    """A document link's text without its size: "Report PDF 250 KB" -> "Report"."""
    return _SIZE.sub("", clean(text)).strip() or clean(text)


# --------------------------------------------------------------------------- CMIS

_CMIS_MEETING_URL = re.compile(r"/Meeting/(\d+)/Committee/(\d+)", re.I)
_CMIS_PREFIX = re.compile(r"^(?P<prefix>.*?/tabid/\d+)/ctl/\w+/(?P<mid>mid/\d+)/", re.I)
_CMIS_DAY = re.compile(r"^\s*[A-Za-z]+day,?\s+\d{1,2}\s+[A-Za-z]+(?:\s+\d{4})?\s*$")
_CMIS_ENTRY = re.compile(r"^(?:(?P<time>\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?)\s+)?(?P<committee>.+)$", re.I)
_CMIS_LIST_ENTRY = re.compile(r"^(?P<when>\d{1,2}\s+\w+\s+\d{4}(?:\s+\d{1,2}[:.]\d{2})?)\s+-\s+(?P<committee>.+)$")
_CMIS_STATUS_SUFFIX = re.compile(r"\s*(?:[-–(]\s*)?(?P<status>" + _STATUS_WORD.pattern + r")\s*\)?\s*$")


def cmis_calendar_url(base_url: str, year: int, month: int) -> str:
    """The month calendar of a CMIS site. ``base_url``: the site's meetings page
    ("https://birmingham.cmis.uk.com/birmingham/Meetings.aspx") or any page of its meetings module
    (a meeting link, a calendar page): the module's ``tabid`` and ``mid`` are taken from such a
    link, else Birmingham's (70 and 397, which Hull, Norwich and North Ayrshire share)."""
    m = _CMIS_PREFIX.match(base_url)
    if m:
        prefix, mid = m.group("prefix"), m.group("mid")
    else:
        parts = urlsplit(base_url)
        site = parts.path.strip("/").split("/")[0] if parts.path.strip("/") else ""
        prefix = f"{parts.scheme}://{parts.netloc}/{site + '/' if site else ''}Meetings/tabid/70"
        mid = "mid/397"
    return f"{prefix}/ctl/MeetingCalendarPublicNoJava/{mid}/Date/{year:04d}-{month:02d}-01/Default.aspx"


def _cmis_entry(text: str) -> tuple[str | None, str, str | None]:
    """(time, committee, status) of a calendar entry: "10:00 Cabinet", "10:00 Cabinet - Cancelled"."""
    text = clean(text)
    status = None
    s = _CMIS_STATUS_SUFFIX.search(text)
    if s and s.start() > 0:
        status, text = s.group("status"), text[: s.start()].rstrip(" -–(")
    m = _CMIS_ENTRY.match(text)
    if not m:
        return None, text, status
    return m.group("time"), clean(m.group("committee")), status


def cmis_calendar(html: str, url: str, year: int, month: int) -> list[MeetingRef]:
    """The meetings on a CMIS month calendar (or list view) page, in page order, each once.

    The month calendar's day cells read "Monday, 8 June": the year is the requested month's
    (``year``; a December page that shows early January days gives them the next year). Where
    the page shows a status beside an entry (a ``span.MeetingStatus``, or a trailing
    "- Cancelled"), it is the ref's ``status``; otherwise None."""
    sel = Selector(text=html)
    refs: dict[str, MeetingRef] = {}
    for row in sel.css("tr"):
        cells = row.xpath("./td")
        if len(cells) < 2:
            continue
        day_text = _text(cells[0])
        link_cell = cells[1]
        list_view = False
        if not _CMIS_DAY.match(day_text):
            # the list view: "9 Jul 2026 11:00 - Planning Committee" in the first cell
            if not cells[0].css("a[href*='/Meeting/']"):
                continue
            link_cell, list_view = cells[0], True
        for entry in link_cell.xpath(
            ".//p[contains(@class,'Meeting')] | self::td[not(.//p[contains(@class,'Meeting')])]"
        ):
            for a in entry.css("a[href]"):
                href = a.attrib["href"]
                m = _CMIS_MEETING_URL.search(href)
                if not m:
                    continue
                text = _text(a)
                shown = clean(" ".join(entry.css(".MeetingStatus ::text").getall())) or None
                if list_view:
                    lm = _CMIS_LIST_ENTRY.match(text)
                    if not lm:
                        continue
                    committee, status = lm.group("committee"), None
                    s = _CMIS_STATUS_SUFFIX.search(committee)
                    if s and s.start() > 0:
                        committee, status = committee[: s.start()].rstrip(" -–("), s.group("status")
                    start = parse_when(lm.group("when"))
                else:
                    time_text, committee, status = _cmis_entry(text)
                    found = _date(day_text, year)
                    if found is None:
                        continue
                    day = found[0]
                    if month == 12 and day.month == 1:
                        day = day.replace(year=year + 1)
                    elif month == 1 and day.month == 12:
                        day = day.replace(year=year - 1)
                    when = _time(time_text) if time_text else None
                    start = f"{day.isoformat()}T{when}" if when else day.isoformat()
                ref = MeetingRef(
                    url=urljoin(url, href),
                    committee=committee,
                    start=start,
                    status=shown or status,
                    external_id=m.group(1),
                )
                refs.setdefault(ref.external_id, ref)
    return list(refs.values())


def _cmis_fields(sel: Selector) -> dict[str, Selector]:
    """The meeting summary's labelled values, label -> value element ("Committee", "Date/Time",
    "Status", "Venue"). The real page nests the Venue holder inside the Status one and gives the
    status the class ``Value Venue``, so each value is found from its own label."""
    fields: dict[str, Selector] = {}
    for label in sel.css("div.DNNLabel"):
        name = _text(label).rstrip(":").strip()
        value = label.xpath("following-sibling::div[contains(concat(' ', normalize-space(@class), ' '), ' Value ')][1]")
        if name and value and name not in fields:
            fields[name] = value[0]
    # an older layout (and carewatch's first CMIS fixture): a table of th/td rows
    for row in sel.css("table.MeetingSummary tr"):
        name, value = clean(" ".join(row.css("th ::text").getall())).rstrip(":"), row.css("td")
        if name and value and name not in fields:
            fields[name] = value[0]
    return fields


def _cmis_documents(block: Selector, url: str) -> tuple[DocumentRef, ...]:
    docs: dict[str, DocumentRef] = {}
    # li.DocumentListItem a.TitleLink (the meeting page); a Telerik grid's rows in older layouts
    for a in block.css("li.DocumentListItem a.TitleLink[href], a[href*='Document.ashx']"):
        title = _doc_title(clean(" ".join(a.xpath(".//text()[not(ancestor::*[contains(@class,'sr-only')])]").getall())))
        if title:
            docs.setdefault(urljoin(url, a.attrib["href"]), DocumentRef(title, urljoin(url, a.attrib["href"])))
    return tuple(docs.values())


def cmis_meeting(html: str, url: str) -> MeetingPage:
    """A CMIS meeting page (``ViewMeetingPublic``, any tab). Raises ValueError if the page is
    not one (no meeting id in its URL or form, no committee)."""
    sel = Selector(text=html)
    m = _CMIS_MEETING_URL.search(url) or _CMIS_MEETING_URL.search(sel.css("form::attr(action)").get() or "")
    if not m:
        raise ValueError(f"not a CMIS meeting page: no Meeting/<id> in {url}")
    fields = _cmis_fields(sel)
    committee = _text(fields["Committee"]) if "Committee" in fields else ""
    title = clean(" ".join(sel.css("h1.MeetingTitle ::text").getall()))
    if not committee and " - " in title:
        committee = title.split(" - ")[0]
    if not committee:
        raise ValueError(f"not a CMIS meeting page: no committee on {url}")
    when = _text(fields["Date/Time"]) if "Date/Time" in fields else title
    status_text = _text(fields["Status"]) or None if "Status" in fields else None
    venue = _text(fields["Venue"]) or None if "Venue" in fields else None

    items: list[AgendaEntry] = []
    for row in sel.css(".AgendaItem"):
        number = clean(" ".join(row.css(".AgendaItemNumber ::text").getall())).rstrip(".")
        item_title = clean(" ".join(row.css(".AgendaItemTitle ::text").getall()))
        if not item_title:
            continue
        desc = row.css(".AgendaItemDescription")
        items.append(
            AgendaEntry(
                number=number,
                title=item_title,
                text=_paragraphs(desc[0]) if desc else "",
                documents=_cmis_documents(row, url),
            )
        )
    # meeting-level documents: those outside the agenda items
    in_items = {d.url for i in items for d in i.documents}
    documents = tuple(d for d in _cmis_documents(sel, url) if d.url not in in_items)
    note = clean(" ".join(sel.css(".MeetingNote ::text").getall())) or None
    return MeetingPage(
        external_id=m.group(1),
        committee=committee,
        start=parse_when(when),
        status=normalise_status(status_text, documents),
        status_text=status_text,
        venue=venue,
        items=tuple(items),
        documents=documents,
        published_note=note,
    )


# --------------------------------------------------------------------------- ModernGov


def _moderngov_base(base_url: str) -> str:
    """A ModernGov site's root (where its .aspx pages are): "https://x.moderngov.co.uk",
    "http://ww5.swindon.gov.uk/moderngov"."""
    parts = urlsplit(base_url)
    path, low = parts.path, parts.path.lower()
    if "/mgwebservice.asmx" in low:
        path = path[: low.index("/mgwebservice.asmx")]
    elif low.endswith((".aspx", ".asmx")):
        path = path.rsplit("/", 1)[0]
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}"


def moderngov_calendar_url(base_url: str, year: int, month: int) -> str:
    """The month's meetings from a ModernGov site's web service: ``GetMeetings`` for every
    committee (``lCommitteeId=0``) between the month's first and last days (dd/mm/yyyy, as
    LGSF sends them). :func:`moderngov_calendar` says why the web service rather than the
    month view page ``mgCalendarMonthView.aspx?M=<m>&DD=<yyyy>``, which it also reads."""
    first = date(year, month, 1)
    last = date(year + (month == 12), month % 12 + 1, 1).toordinal() - 1
    end = date.fromordinal(last)
    return (
        f"{_moderngov_base(base_url)}/mgWebService.asmx/GetMeetings?lCommitteeId=0"
        f"&sFromDate={first:%d/%m/%Y}&sToDate={end:%d/%m/%Y}"
    )


def _xml_text(el: Selector, name: str) -> str:
    return clean(el.xpath(f"string(./{name})").get())


def _range(url: str) -> tuple[date, date] | None:
    """The sFromDate..sToDate a GetMeetings URL asked for."""
    q = {k.lower(): v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    try:
        return (
            datetime.strptime(q["sfromdate"], "%d/%m/%Y").date(),
            datetime.strptime(q["stodate"], "%d/%m/%Y").date(),
        )
    except (KeyError, ValueError):
        return None


_MG_MID = re.compile(r"[?&]MId=(\d+)", re.I)
_MG_CID = re.compile(r"[?&]CId=(\d+)", re.I)
_MG_TITLE = re.compile(r"^(?:Meeting of\s+)?(?P<committee>.+?),\s*(?P<when>\d{1,2}/\d{1,2}/\d{4}.*)$", re.I)


def moderngov_calendar(html_or_xml: str, url: str) -> list[MeetingRef]:
    """The meetings of a ModernGov calendar, from either of its two forms:

    - the web service's ``GetMeetings`` XML (what :func:`moderngov_calendar_url` asks for, and
      what the spider reads): ``committee`` elements with ``committeeid``/``committeetitle`` and
      ``committeemeetings/meeting`` rows of ``meetingid``, ``meetingdate`` (dd/mm/yyyy),
      ``meetingtime`` ("10.00 am") and ``meetingstatus`` ("Confirmed", "Cancelled"). It is chosen
      because it is structured: every meeting's id, committee, date, time and status in one
      document, where the month view prints the status only in free text. Some installs ignore
      its date range (seen at Lambeth), so rows outside the range the URL asked for are dropped.
      Each ref's URL is the meeting's page, ``ieListDocuments.aspx?CId=<c>&MId=<m>``.
    - the HTML month view ``mgCalendarMonthView.aspx``: links to ``ieListDocuments.aspx`` in
      ``td.mgCalendarCell``, whose ``title`` reads "Cabinet, 10/12/2026 6.00 pm" (or
      "Meeting of Cabinet, ..."); a status word in the link (CANCELLED, MOVED, ...) is its status.
    """
    text = html_or_xml.lstrip("\ufeff \r\n\t")
    if text.startswith("<?xml") or re.match(r"<(getmeetings|committees?)\b", text, re.I):
        return _moderngov_xml_calendar(text, url)
    return _moderngov_html_calendar(text, url)


def _moderngov_xml_calendar(xml: str, url: str) -> list[MeetingRef]:
    sel = Selector(text=re.sub(r"^<\?xml[^>]*\?>", "", xml.strip()), type="xml")
    sel.remove_namespaces()
    base = _moderngov_base(url)
    wanted = _range(url)
    refs: list[MeetingRef] = []
    for committee in sel.xpath("//committee"):
        cid, title = _xml_text(committee, "committeeid"), _xml_text(committee, "committeetitle")
        for meeting in committee.xpath("./committeemeetings/meeting"):
            mid = _xml_text(meeting, "meetingid")
            if not mid:
                continue
            start = parse_when(_xml_text(meeting, "meetingdate"), time_text=_xml_text(meeting, "meetingtime"))
            if wanted and start and not (wanted[0] <= date.fromisoformat(start[:10]) <= wanted[1]):
                continue
            refs.append(
                MeetingRef(
                    url=f"{base}/ieListDocuments.aspx?CId={cid}&MId={mid}",
                    committee=title,
                    start=start,
                    status=_xml_text(meeting, "meetingstatus") or None,
                    external_id=mid,
                )
            )
    return refs


def _moderngov_html_calendar(html: str, url: str) -> list[MeetingRef]:
    sel = Selector(text=html)
    refs: dict[str, MeetingRef] = {}
    links = sel.css("td.mgCalendarCell a[href*='ieListDocuments'], .mgCalendarWeekGrid a[href*='ieListDocuments']")
    for a in links or sel.css("a[href*='ieListDocuments']"):
        href = a.attrib["href"]
        mid = _MG_MID.search(href)
        if not mid:
            continue
        title, text = clean(a.attrib.get("title")), _text(a)
        m = _MG_TITLE.match(title)
        if m:
            committee, start = clean(m.group("committee")), parse_when(m.group("when"))
        else:  # no title: "Cabinet, 6.00 pm" in the link, the day from the cell
            committee, start = clean(text.split(",")[0]), None
        status = _STATUS_WORD.search(f"{title} {text}")
        committee = clean(_STATUS_WORD.sub("", committee)).rstrip(" -–(") or committee
        refs.setdefault(
            mid.group(1),
            MeetingRef(
                url=urljoin(url, href),
                committee=committee,
                start=start,
                status=status.group(1) if status else None,
                external_id=mid.group(1),
            ),
        )
    return list(refs.values())


_MG_HEADING = re.compile(r"^(?P<committee>.+?)\s+-\s+(?P<when>(?:[A-Za-z]+day,?\s+)?\d{1,2}.*)$")


def _mg_label(sel: Selector, label: str) -> str | None:
    """The text after a ``span.mgLabel`` "Venue: " in its paragraph."""
    for span in sel.css("span.mgLabel"):
        if clean(_text(span)).rstrip(":").strip().lower() == label.lower():
            parent = span.xpath("..")
            value = clean(_text(parent[0])[len(_text(span)) :]) if parent else ""
            return value.rstrip(" .") or None
    return None


def _mg_docs(block: Selector, url: str) -> tuple[DocumentRef, ...]:
    docs: dict[str, DocumentRef] = {}
    for a in block.css("a[href]"):
        href = a.attrib["href"]
        path = urlsplit(href).path.lower()
        if not (
            path.endswith((".pdf", ".doc", ".docx"))
            or "/documents/" in f"/{path}"
            or "mgconvert2pdf.aspx" in path
            or "ieview.aspx" in path
        ):
            continue
        full = urljoin(url, href.replace(" ", "%20"))
        title = _doc_title(_text(a)) or clean(a.attrib.get("title"))
        if title:
            docs.setdefault(full, DocumentRef(title, full))
    return tuple(docs.values())


def moderngov_meeting(html: str, url: str) -> MeetingPage:
    """A ModernGov meeting page, ``ieListDocuments.aspx?CId=..&MId=..``: the heading
    ``h2.mgSubTitleTxt`` ("Cabinet - Thursday, 10th December, 2026 6.00 pm"), the status (a
    status word in the page title or heading, or a "This meeting has been cancelled" notice),
    ``span.mgLabel`` "Venue:", the items of ``table.mgItemTable`` (number in
    ``td.mgItemNumberCell``, title ``p.mgAiTitleTxt``, text ``div.mgWordPara``, documents: links in
    the item) and the meeting's own documents (the links to documents outside that table).
    Raises ValueError if the page is not a meeting page."""
    sel = Selector(text=html)
    mid = _MG_MID.search(url) or _MG_MID.search(sel.css("form::attr(action)").get() or "")
    if not mid:
        raise ValueError(f"not a ModernGov meeting page: no MId in {url}")
    heading = clean(" ".join(sel.css("h2.mgSubTitleTxt ::text").getall()))
    page_title = clean(" ".join(sel.css("title::text").getall()))
    main_title = clean(" ".join(sel.css("h1.mgMainTitleTxt ::text").getall()))
    m = _MG_HEADING.match(heading)
    if not m:
        raise ValueError(f"not a ModernGov meeting page: heading {heading!r} on {url}")
    committee, when = m.group("committee"), m.group("when")
    status_word = _STATUS_WORD.search(f"{page_title} {heading} {main_title}")
    notice = clean(" ".join(sel.css(".mgStatusTxt ::text, .mgCancelledTxt ::text").getall()))
    if not notice:
        for p in sel.css("#modgov p, #modgov div.mgInfo"):
            t = _text(p)
            if re.search(r"\bthis meeting (has been|was|is)\b", t, re.I):
                notice = t
                break
    status_text = notice or (status_word.group(1) if status_word else None)
    when = clean(_STATUS_WORD.sub("", when))

    items: list[AgendaEntry] = []
    item_rows = sel.css("table.mgItemTable tr")
    for row in item_rows:
        number_cell = row.css("td.mgItemNumberCell")
        cells = row.xpath("./td")
        if not number_cell or len(cells) < 2:
            continue
        content = cells[-1]
        title_el = content.css("p.mgAiTitleTxt")
        if not title_el:
            continue
        title = _doc_title(_text(title_el[0]))
        # the item's own text: its paragraphs, but not those under a "Decision:" or "Minutes:"
        # sub-heading (the record of the meeting, printed on the same page once it is held)
        paras = []
        for div in content.css("div.mgWordPara"):
            sub = div.xpath("preceding-sibling::p[contains(@class,'mgSubItemTitleTxt')][1]")
            if sub and re.match(r"^\s*(decisions?|minutes)\b", _text(sub[0]), re.I):
                continue
            paras.append(_paragraphs(div))
        items.append(
            AgendaEntry(
                number=clean(_text(number_cell[0])).rstrip("."),
                title=title,
                text="\n".join(p for p in paras if p),
                documents=_mg_docs(content, url),
            )
        )
    in_items = {d.url for i in items for d in i.documents}
    scope = sel.css("#modgov") or [sel]
    documents = tuple(d for d in _mg_docs(scope[0], url) if d.url not in in_items)
    note = clean(" ".join(sel.css(".mgEditionTxt ::text, .mgRepublishedTxt ::text").getall())) or None
    minutes = "minutes" in main_title.lower()
    return MeetingPage(
        external_id=mid.group(1),
        committee=committee,
        start=parse_when(when),
        status=normalise_status(status_text, documents, minutes=minutes),
        status_text=status_text,
        venue=_mg_label(sel, "Venue"),
        items=tuple(items),
        documents=documents,
        published_note=note,
    )
