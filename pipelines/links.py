"""Story <-> document links: which official documents or meetings a press article covers.

``find_links(article_text, article_links, published, candidates)`` is pure: the store picks the
candidates (documents and meetings near the article's date) and calls it; nothing here touches a
database. Each link says how it was found, with the article's own words as evidence.

The rules, strongest first (one link per document, the best rule wins):

1. **hyperlink**: one of the article's hrefs is the document's own address, compared as
   ``core.urls.url_key`` compares pages (w3lib's ``canonicalize_url``: sorted query, upper-case
   %-escapes, no fragment; http/https, ``www.`` and a trailing slash ignored), and with the path's
   case ignored on IIS hosts (``.aspx``/``.ashx``: CMIS and ModernGov serve any case). An address
   the document shares with other candidates (a meeting page or agenda pack listing every item, an
   Ofsted provider page listing every report) is not the document's: it counts only as naming the
   document's committee and date, or Ofsted and the authority, and the rules below decide.
2. **title quoted**: the document's title, or a distinctive part of it (a part after the
   organisation's name: "Birmingham Children's Trust – Contract Review 2025" also gives
   "Contract Review 2025"), is in the article exactly or nearly (difflib ratio >= 0.90, every
   number identical). Formulaic titles are not evidence: a title that two candidates share
   ("Monitoring visit to Birmingham children's services"), and Ofsted's local-authority titles,
   which repeat at every inspection.
3. **committee and date**: the article names the committee ("the council's cabinet", "scrutiny
   committee", "corporate parenting board"; never "cabinet member") within 200 characters of a
   date that resolves, from the publication date, to the meeting's day ("on Tuesday", "last
   Thursday", "next week", "14 November", "October 16", "11/11/2025", "11 Tachwedd"). A meeting
   needs nothing more; a report on its agenda also needs the article's words to cover half of its
   title's distinctive words (a Cabinet agenda has a dozen reports).
4. **committee and subject**: no date, but the committee named, three quarters of the title's
   words, and the article published in the fortnight before the meeting or the week after it
   ("a report to cabinet says...").
5. **ofsted report by date**: an Ofsted report or letter: the article names Ofsted and the
   inspected authority (more often than any other authority), is about children's social care (or
   names the school, for a school's report), is published within 45 days of the report, and shows
   which report: its judgement ("rated good"), the month of the visit ("visited in October"), or
   its publication day ("published today", "the report, published on Friday").
6. **authority and date**: a statement or report with no committee: the authority named, its
   publication day named precisely (a day or a week), and half of its title's words.

Every rule but the hyperlink also needs the document's place (Birmingham, Sandwell, a school) to be
the article's: named, and not outnumbered by another authority's name (an article about Solihull
that mentions Birmingham in passing is about Solihull). A quoted title is let off the naming (a
local campaign site quoting "the Contract Review 2025" need not say which city), not the
outnumbering (Sandwell's report has the same title). And no rule links an article published
before the document existed: more than 14 days before an agenda report's meeting (CMIS publishes
agendas five clear working days ahead; the press previews from the agenda and the forward plan), or
before a publication date (one day's slack: Ofsted reports go out under embargo at midnight).

Why by hand: the libraries do what they can: w3lib canonicalises URLs, difflib scores near-exact
titles (rapidfuzz is not installed), dateparser reads a date span in English or Welsh and in either
order. What is left is the rules, which no library holds: dateparser's search mode finds dates in
ordinary words ("may", "second") and resolves a bare "on Tuesday" to one side of the publication
date and "next week" to a single day, where the press means the nearest Tuesday on either side and a
whole week; so the spans are found by the patterns below and only parsed by dateparser, and the
relative phrases are resolved here. dateparser comes with trafilatura (through htmldate).

The thresholds were set before the labelled set was measured (bench/links_set/README.md says how
the set was made); where a number came from is said at its definition.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from difflib import SequenceMatcher
from functools import lru_cache
from urllib.parse import urlsplit

import dateparser

from carewatch.core.urls import url_key
from carewatch.pipelines.ofsted import report_fields


@dataclass(frozen=True, slots=True)
class OfficialDoc:
    """A candidate document or meeting."""

    doc_id: str
    kind: str  # "document" | "meeting"
    title: str
    url: str | None
    urls: tuple[str, ...]  # other addresses of it (the meeting page, the agenda pack)
    committee: str | None
    date: str | None  # ISO date: meeting date, or publication date
    authority: str | None
    text: str
    doc_type: str | None


@dataclass(frozen=True, slots=True)
class Link:
    doc_id: str
    how: str  # "hyperlink" | "title quoted" | "committee and date" | "committee and subject" | ...
    evidence: str  # the article's words that show it
    score: float


# ---------------------------------------------------------------------------- thresholds
# Near-exact title: difflib ratio over the normalised words. Measured on CMIS-style titles before
# the set was scored: a possessive and one inserted word ("Trust's annual report for 2023/24" for
# "Trust Annual Report 2023/24") score 0.95; one different word scores 0.83-0.89 ("sufficiency" for
# "strategy" 0.84, "transport" for "improvement" 0.83, "review" for "refresh" 0.89). 0.90 keeps the
# first and refuses the second. Numbers must be identical whatever the ratio ("Contract Review 2024"
# is last year's report, at 0.95).
TITLE_RATIO = 0.90
# A committee and the date that says which meeting: within 200 characters of each other, the
# committee's sentence and the start of the next (a press sentence is about 25 words, 150
# characters), which is where "the cabinet will be asked on Tuesday" puts them.
NEAR_CHARS = 200
# A report on an agenda, named with its committee and date: the article must use half of the title's
# distinctive words. CMIS titles have 2-6 of them and the press paraphrases but keeps the nouns
# ("contract", "review"); another item of the same meeting shares at most one.
SUBJECT_SHARE = 0.5
# Without a date, three quarters of them: the committee and the timing are weaker evidence.
SUBJECT_SHARE_NO_DATE = 0.75
# The timing of "a report to cabinet": previews come from the agenda, published five clear working
# days (a week) before the meeting, or the forward plan, a week or two earlier; reports of the
# decision within the week after. Birmingham's Cabinet meets every three to four weeks, so the
# window never holds two Cabinets.
BEFORE_MEETING_DAYS = 14
AFTER_MEETING_DAYS = 7
# An Ofsted report's coverage: the day of publication (the embargo lifts at midnight) to six weeks
# after: Community Care and CYP Now report within days, monthly council bulletins and features
# within a month; later mentions are background ("rated good in 2023"), not coverage.
OFSTED_WINDOW_DAYS = 45
# One day's slack before a publication date (embargoed coverage, time zones).
PUBLISHED_SLACK_DAYS = 1
# A date expression as evidence of a day: a day, or at most a week ("last week"). Months ("in
# November", "earlier this month") count only for a committee with no nearer day named, and never
# for a publication date.
PRECISE_DAYS = 7
RANGE_DAYS = 31


# ---------------------------------------------------------------------------- words
_STOP = frozenset(
    "a an and the of for to on in at by with from into its it is are be as or our their this that new".split()
)
# Words that say nothing about which document: the place, the organisations, the kinds of paper.
_GENERIC = frozenset(
    "birmingham city council councils committee board meeting cabinet overview scrutiny report reports"
    " update progress children child childrens young people family families service services"
    " local authority authorities borough metropolitan".split()
)
_ISS_PATH = re.compile(r"\.as[hp]x$", re.I)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')


def _words(text: str) -> list[str]:
    """Lower-case words, apostrophes dropped ("children's" = "childrens"), "2026/27" as two words."""
    return [w.replace("'", "") for w in re.findall(r"[a-z0-9]+(?:'[a-z]+)?", _fold(text).lower())]


def _stem(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and len(word) > 3 and not word.endswith("ss"):
        return word[:-1]
    return word


def _content(text: str, generic: frozenset[str] = _GENERIC) -> list[str]:
    out = []
    for w in _words(text):
        s = _stem(w)
        if w in _STOP or w in generic or s in generic:
            continue
        out.append(s)
    return list(dict.fromkeys(out))


def _share(title: str, article_stems: set[str], places: frozenset[str]) -> float:
    """The share of the title's distinctive words that the article uses."""
    words = _content(title, _GENERIC | places)
    if not words:
        return 0.0
    return sum(w in article_stems for w in words) / len(words)


# ---------------------------------------------------------------------------- places
_NEIGHBOURS = (
    "Birmingham Sandwell Solihull Walsall Dudley Wolverhampton Coventry Warwickshire Worcestershire"
    " Staffordshire Shropshire Herefordshire Telford Stoke Leicester Nottingham Doncaster Slough"
    " Manchester Liverpool Leeds Bradford Kirklees Croydon Newport"
).split()
_COUNCIL_NAME = re.compile(
    r"\b([A-Z][a-z]{3,})(?:['’]s)? (?:City |Borough |County |Metropolitan Borough )?(?:Council|Children['’]s Trust)\b"
)
_NOT_PLACES = frozenset("City The Borough County Town Parish Labour Conservative Metropolitan Trust".split())
_PROVIDER = re.compile(r"\b(?:School|Academy|College|Nursery|Primary|Secondary)\b")


@lru_cache(maxsize=512)
def _doc_place(doc: OfficialDoc) -> str | None:
    """Whose document: the inspected authority or school for Ofsted, else the authority's place."""
    if _is_ofsted(doc):
        fields = report_fields((doc.text or "")[:3000]) or {}
        for pattern in (
            r"Inspection of (.+?) local authority",
            r"visit to (.+?) children['’]s services",
            r"^([^:]+?):",
            r"(?:Re-)?[Ii]nspection of (.+)$",
        ):
            if m := re.search(pattern, _fold(doc.title)):
                return _strip_council(m.group(1))
        if fields.get("authority"):
            return _strip_council(fields["authority"])
        return None
    if doc.authority:
        return _strip_council(doc.authority)
    return None


def _strip_council(name: str) -> str:
    name = re.sub(
        r"\s+(?:City |County |Borough |Metropolitan Borough )?Council$|\s+Children['’]s Trust$", "", name.strip()
    )
    return name.strip()


def _count(name: str, text: str) -> int:
    return len(re.findall(rf"\b{re.escape(name)}\b", text))


class _Places:
    """Whose article it is, counted once per article (names are counted once, whatever the number of
    candidates)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.counts: dict[str, int] = {}
        others = set(_NEIGHBOURS) | {m.group(1) for m in _COUNCIL_NAME.finditer(text)}
        self.others = others - _NOT_PLACES

    def count(self, name: str) -> int:
        if name not in self.counts:
            self.counts[name] = _count(name, self.text)
        return self.counts[name]

    def ok(self, place: str | None, named: bool = True) -> bool:
        """The article is about ``place``: named (unless ``named`` is False), and (for an authority)
        not outnumbered by another one."""
        if not place:
            return False
        n = self.count(place)
        if n == 0 and named:
            return False
        if _PROVIDER.search(place):
            return True
        return all(self.count(o) <= n for o in self.others - {place})


# ---------------------------------------------------------------------------- committees
def _committee_pattern(committee: str) -> re.Pattern[str]:
    """How the press names a committee. Cabinet: the word, never "cabinet member" (a councillor) or
    "shadow cabinet"; a scrutiny committee: "scrutiny committee/panel/session", "scrutineers";
    a board or panel: its name, or its last two words ("corporate parenting board")."""
    c = _fold(committee).lower()
    alternatives = [re.escape(c)]
    if c == "cabinet" or c.endswith(" cabinet"):
        alternatives = [r"(?<!shadow )\bcabinet\b(?!\s+members?\b)"]
    if "scrutiny" in c:
        alternatives.append(
            r"\bscrutiny (?:committee|panel|board|session|meeting|inquiry)\b|\bscrutineers\b|"
            r"\boverview and scrutiny\b|\bscrutiny councillors\b"
        )
    if c in ("city council", "full council"):
        alternatives.append(r"\bfull council\b|\bcity council meeting\b")
    words = c.split()
    if len(words) >= 3 and words[-1] in ("board", "panel", "committee", "forum", "partnership"):
        head = " ".join(words[-3:-1])
        alternatives.append(rf"\b{re.escape(head)} (?:board|panel|committee)\b")
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.I)


# ---------------------------------------------------------------------------- dates in the article
@dataclass(frozen=True, slots=True)
class _When:
    start: date
    end: date
    pos: int
    text: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


_MONTHS_EN = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_MONTHS_CY = "ionawr|chwefror|mawrth|ebrill|mai|mehefin|gorffennaf|awst|medi|hydref|tachwedd|rhagfyr"
_MONTH = rf"(?:{_MONTHS_EN}|{_MONTHS_CY})\.?"
_WEEKDAY_ABBR = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)[a-z]*\.?,?\s+"
_DAY_MONTH = re.compile(
    rf"\b(?:{_WEEKDAY_ABBR})?(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+({_MONTH})(?:,?\s+(\d{{4}}))?\b", re.I
)
_MONTH_DAY = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.I)
_NUMERIC = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b")
_MONTH_FULL = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Ionawr|Chwefror|Mawrth|Ebrill|Mai|Mehefin|Gorffennaf|Awst|Medi|Hydref|Tachwedd|Rhagfyr"
)
# A month alone: capitalised (so the verb "may" and "march" are not months), after a preposition or
# with a year.
_MONTH_ONLY = re.compile(
    rf"\b(?:(last|next|this)\s+|(?:in|since|during|from|until|by|of|and|early|late|mid-?)\s+)?({_MONTH_FULL})\b(?:\s+(\d{{4}}))?"
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(rf"\b(?:(last|next|this|on)\s+)?({'|'.join(_WEEKDAYS)})(?:['’]s)?\b", re.I)
_RELATIVE = re.compile(
    r"\b(today|this morning|this afternoon|tonight|yesterday|last night|tomorrow|this week|last week|"
    r"next week|earlier this month|later this month|this month|last month|next month)\b",
    re.I,
)
_CY_MONTHS = dict(zip(_MONTHS_CY.split("|"), range(1, 13), strict=True))
_EN_MONTHS = {calendar.month_name[i].lower(): i for i in range(1, 13)}


def _month_number(name: str) -> int:
    n = name.lower().rstrip(".")
    return _EN_MONTHS.get(n) or _CY_MONTHS.get(n) or 0


@lru_cache(maxsize=4096)
def _parse_span(span: str, base: date | None) -> date | None:
    settings: dict = {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["day", "month"]}
    if base:
        settings["RELATIVE_BASE"] = _at_noon(base)
    parsed = dateparser.parse(span, languages=["en", "cy"], settings=settings)
    return parsed.date() if parsed else None


def _at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12)


def _nearest_year(day: date, base: date | None) -> date:
    """A date written without its year is the occurrence nearest the publication date."""
    if base is None:
        return day
    options = []
    for year in (base.year - 1, base.year, base.year + 1):
        try:
            options.append(day.replace(year=year))
        except ValueError:  # 29 February
            continue
    return min(options, key=lambda d: abs((d - base).days))


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _week(day: date, offset: int) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday()) + timedelta(weeks=offset)
    return monday, monday + timedelta(days=6)


def _dates(text: str, published: date | None) -> list[_When]:
    """Every date the article names, as a day or a range, resolved from its publication date."""
    out: list[_When] = []
    taken: list[tuple[int, int]] = []

    def add(start: date, end: date, m: re.Match[str]) -> None:
        out.append(_When(start, end, m.start(), m.group(0)))
        taken.append(m.span())

    def free(m: re.Match[str]) -> bool:
        return not any(a < m.end() and m.start() < b for a, b in taken)

    for pattern in (_DAY_MONTH, _MONTH_DAY, _NUMERIC):
        for m in pattern.finditer(text):
            if not free(m):
                continue
            day = _parse_span(m.group(0), published)
            if day is None:
                continue
            has_year = pattern is _NUMERIC or bool(m.group(3))
            day = day if has_year else _nearest_year(day, published)
            add(day, day, m)
    for m in _MONTH_ONLY.finditer(text):
        if not free(m) or not (m.group(1) or m.group(3) or m.group(0) != m.group(2)):
            continue
        month = _month_number(m.group(2))
        if m.group(3):
            add(*_month_range(int(m.group(3)), month), m)
            continue
        if published is None:
            continue
        year = published.year if month <= published.month else published.year - 1
        if (m.group(1) or "").lower() == "next":
            year = published.year if month > published.month else published.year + 1
        elif (m.group(1) or "").lower() == "last" and month == published.month:
            year -= 1
        add(*_month_range(year, month), m)
    if published is None:
        return out
    for m in _WEEKDAY.finditer(text):
        if not free(m):
            continue
        which, wd = (m.group(1) or "").lower(), _WEEKDAYS.index(m.group(2).lower())
        back = (published.weekday() - wd) % 7  # days since the latest such day (0: today)
        previous = published - timedelta(days=back)
        following = published + timedelta(days=(wd - published.weekday()) % 7 or 7)
        if which == "last":
            days = [previous if back else previous - timedelta(days=7)]
        elif which == "next":
            days = [following, following + timedelta(days=7)]
        elif which == "this":
            days = [_week(published, 0)[0] + timedelta(days=wd)]
        else:  # "on Tuesday": the nearest Tuesday either side, as the tense of the sentence says
            days = [previous, following]
        for day in days:
            out.append(_When(day, day, m.start(), m.group(0)))
        taken.append(m.span())
    for m in _RELATIVE.finditer(text):
        if not free(m):
            continue
        phrase = m.group(1).lower()
        if phrase in ("today", "this morning", "this afternoon", "tonight"):
            add(published, published, m)
        elif phrase in ("yesterday", "last night"):
            add(published - timedelta(days=1), published - timedelta(days=1), m)
        elif phrase == "tomorrow":
            add(published + timedelta(days=1), published + timedelta(days=1), m)
        elif phrase.endswith("week"):
            add(*_week(published, {"this": 0, "last": -1, "next": 1}[phrase.split()[0]]), m)
        else:
            first, last = _month_range(published.year, published.month)
            if phrase == "earlier this month":
                add(first, published, m)
            elif phrase == "later this month":
                add(published, last, m)
            elif phrase == "this month":
                add(first, last, m)
            elif phrase == "last month":
                add(*_month_range((first - timedelta(days=1)).year, (first - timedelta(days=1)).month), m)
            else:
                add(*_month_range((last + timedelta(days=1)).year, (last + timedelta(days=1)).month), m)
    return out


# ---------------------------------------------------------------------------- Ofsted
_OFSTED_GRADES = {
    "Requires improvement to be good": r"requir\w* improvement",
    "Requires improvement": r"requir\w* improvement",
    "Inadequate": r"\binadequate\b",
    "Good": (
        r"\b(?:rated|judged|graded|rating of|as|remains?|be|is|are|now)\s+['‘\"“]?good\b"
        r"|\bgood['’\"”]? (?:rating|judgement|grade)"
    ),
    "Outstanding": r"\boutstanding\b",
}
_SOCIAL_CARE = re.compile(
    r"children['’]?s (?:services|social care|trust)|social (?:care|work)|care leavers?|children in care|"
    r"child protection|looked[- ]after|front door|children who need help|local authority children",
    re.I,
)
_LETTER = re.compile(r"monitoring visit|focused visit|\bletter\b|\bvisit", re.I)
_OFSTED_DAY = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + _MONTH_FULL + r")\b(?=.{0,40}?\b((?:19|20)\d\d)\b|)", re.S
)


def _is_ofsted(doc: OfficialDoc) -> bool:
    return (doc.doc_type or "").lower().startswith("ofsted") or (doc.authority or "").lower() == "ofsted"


@lru_cache(maxsize=512)
def _judgement(doc: OfficialDoc) -> str | None:
    fields = report_fields((doc.text or "")[:3000]) or {}
    if fields.get("judgement"):
        return fields["judgement"]
    head = " ".join((doc.text or "")[:1500].split())
    for grade in ("Requires improvement to be good", "Inadequate", "Good", "Outstanding"):
        if re.search(rf"(?:continues to be|remains|is|are|effectiveness:?)\s+(?:an? )?{grade}\b", head, re.I):
            return grade
    return None


@lru_cache(maxsize=512)
def _visit_months(doc: OfficialDoc, published: date) -> frozenset[tuple[int, int]]:
    """The months of the inspection or visit: dates in the report's first page in the 120 days
    before its publication (an ILACS report comes out about six weeks after the visit; a
    monitoring letter three to five)."""
    months = set()
    for m in _OFSTED_DAY.finditer(" ".join((doc.text or "")[:2000].split())):
        if not m.group(3):
            continue  # "1 and 2 May 2018": the year follows the second day
        try:
            day = date(int(m.group(3)), _month_number(m.group(2)), int(m.group(1)))
        except ValueError:
            continue
        if timedelta(0) <= published - day <= timedelta(days=120):
            months.add((day.year, day.month))
    return frozenset(months)


# ---------------------------------------------------------------------------- the linker
def _iso(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _key(url: str) -> str:
    try:
        key = url_key(url.strip())
    except ValueError:
        return url.strip()
    path, sep, query = key.partition("?")
    if _ISS_PATH.search(urlsplit("//" + path).path):
        path = path.lower()
    return path + sep + query


_LISTING = re.compile(r"ViewMeetingPublic|ieListDocuments\.aspx|/provider/\d+/\d+|mgCommitteeDetails", re.I)


def _snippet(text: str, pos: int, end: int | None = None, limit: int = 220) -> str:
    """The sentence of ``text`` holding ``pos`` (to ``end``): the words that show the link."""
    end = max(pos, end if end is not None else pos)
    starts = [m.end() for m in re.finditer(r"[.!?]\s|\n", text[:pos])]
    start = starts[-1] if starts else 0
    stop = re.search(r"[.!?](?=\s|$)|\n", text[end:])
    finish = end + stop.end() if stop else len(text)
    out = " ".join(text[start:finish].split())
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"


@lru_cache(maxsize=512)
def _title_variants(doc: OfficialDoc, places: frozenset[str]) -> tuple[str, ...]:
    parts = [doc.title] + re.split(r"\s+[–—-]\s+|:\s+", _fold(doc.title))
    out = []
    for part in parts:
        words = _words(part)
        distinctive = [w for w in words if w not in _STOP and _stem(w) not in (_GENERIC | places) and w != "trust"]
        if len(words) >= 3 and len(distinctive) >= 2:
            out.append(" ".join(words))
    return tuple(dict.fromkeys(out))


def _title_match(variant: str, words: list[str]) -> tuple[float, int]:
    """The best match of a title in the article's words: (ratio, word index)."""
    joined = " ".join(words)
    if f" {variant} " in f" {joined} ":
        index = f" {joined} ".index(f" {variant} ")
        return 1.0, joined[:index].count(" ")
    target = variant.split()
    present = set(words)
    # A title at ratio >= TITLE_RATIO keeps most of its words: skip the scan (the cost on a long article)
    # when fewer than 60% of them are in the article at all.
    if sum(w in present for w in target) < 0.6 * len(target):
        return 0.0, -1
    numbers = {w for w in target if w.isdigit()}
    best, where = 0.0, -1
    n = len(target)
    for size in (n - 1, n, n + 1):
        if size < 2:
            continue
        for i in range(0, max(0, len(words) - size) + 1):
            window = words[i : i + size]
            if not numbers <= set(window) or window[0][0] != target[0][0]:
                continue
            ratio = SequenceMatcher(None, variant, " ".join(window), autojunk=False).ratio()
            if ratio > best:
                best, where = ratio, i
    return best, where


def _word_pos(text: str, index: int) -> int:
    """The character offset in ``text`` of its ``index``-th word (as ``_words`` splits it)."""
    for i, m in enumerate(re.finditer(r"[a-z0-9]+(?:'[a-z]+)?", _fold(text).lower())):
        if i == index:
            return m.start()
    return 0


def find_links(
    article_text: str, article_links: tuple[str, ...], published: str | None, candidates: list[OfficialDoc]
) -> list[Link]:
    """The candidates the article covers, best first, each with how it was found and the evidence."""
    text = _fold(article_text or "")
    day = _iso(published)
    hrefs = {_key(u): u for u in article_links if u}
    stems = {_stem(w) for w in _words(text)}
    words = _words(text)
    mentions = _dates(text, day)
    # Addresses shared by candidates: listing pages, not any one document.
    seen: dict[str, int] = {}
    for doc in candidates:
        for address in {_key(u) for u in (doc.url, *doc.urls) if u}:
            seen[address] = seen.get(address, 0) + 1
    shared = {a for a, n in seen.items() if n > 1}
    titles: dict[str, int] = {}
    for doc in candidates:
        t = " ".join(_words(doc.title))
        titles[t] = titles.get(t, 0) + 1
    places = frozenset(_stem(w) for p in _NEIGHBOURS for w in _words(p))
    places_of = _Places(text)
    links = []
    for doc in candidates:
        link = _link(doc, text, words, stems, hrefs, day, mentions, shared, titles, places, places_of)
        if link:
            links.append(link)
    return sorted(links, key=lambda x: -x.score)


def _link(doc, text, words, stems, hrefs, day, mentions, shared, titles, places, places_of) -> Link | None:
    own = {_key(doc.url)} if doc.url else set()
    context = set()
    for u in doc.urls:
        k = _key(u)
        if doc.kind == "meeting" or (k not in shared and not _LISTING.search(u)):
            own.add(k)
        else:
            context.add(k)
    if doc.kind == "meeting" and doc.url:
        own.add(_key(doc.url))
    for k in own:
        if k in hrefs:
            return Link(doc.doc_id, "hyperlink", hrefs[k], 1.0)
    linked_context = next((hrefs[k] for k in context if k in hrefs), None)

    doc_day = _iso(doc.date)
    if day and doc_day:
        earliest = doc_day - timedelta(
            days=BEFORE_MEETING_DAYS if doc.committee or doc.kind == "meeting" else PUBLISHED_SLACK_DAYS
        )
        if day < earliest:
            return None  # the article was published before the document existed
    # 2. title quoted: a local campaign site quoting a report need not name the city, but no other
    # authority may be the article's subject ("Contract Review 2025" is also Sandwell's title)
    if (
        doc.kind != "meeting"
        and not _is_ofsted_la(doc)
        and titles.get(" ".join(_words(doc.title)), 0) < 2
        and places_of.ok(_doc_place(doc), named=False)
    ):
        for variant in _title_variants(doc, places):
            ratio, index = _title_match(variant, words)
            if ratio >= TITLE_RATIO:
                pos = _word_pos(text, index)
                return Link(doc.doc_id, "title quoted", _snippet(text, pos), round(0.95 * ratio, 3))

    place = _doc_place(doc)
    if not places_of.ok(place):
        return None

    share = _share(doc.title, stems, places)
    # 3-4. committee and date, committee and subject
    if doc.committee and doc_day:
        pattern = _committee_pattern(doc.committee)
        named = [m for m in pattern.finditer(text)]
        for m in named:
            near = [w for w in mentions if abs(w.pos - m.start()) <= NEAR_CHARS]
            precise = [w for w in near if w.days <= PRECISE_DAYS]
            usable = precise or [w for w in near if w.days <= RANGE_DAYS]
            hit = next((w for w in usable if w.holds(doc_day)), None)
            if hit and (doc.kind == "meeting" or share >= SUBJECT_SHARE):
                first, last = sorted((m.start(), hit.pos))
                return Link(doc.doc_id, "committee and date", _snippet(text, first, last), 0.85)
        if linked_context and doc.kind != "meeting" and share >= SUBJECT_SHARE:
            return Link(doc.doc_id, "committee and date", linked_context, 0.8)
        if (
            named
            and doc.kind != "meeting"
            and day
            and -BEFORE_MEETING_DAYS <= (day - doc_day).days <= AFTER_MEETING_DAYS
            and share >= SUBJECT_SHARE_NO_DATE
        ):
            return Link(doc.doc_id, "committee and subject", _snippet(text, named[0].start()), 0.7)
        return None

    # 5. an Ofsted report or letter by its date and the authority
    if _is_ofsted(doc):
        return _ofsted_link(doc, text, day, doc_day, mentions, place)

    # 6. a statement or report by its authority, publication day and subject
    if doc_day and share >= SUBJECT_SHARE:
        for w in mentions:
            if w.days <= PRECISE_DAYS and w.holds(doc_day):
                return Link(doc.doc_id, "authority and date", _snippet(text, w.pos), 0.75)
    return None


def _is_ofsted_la(doc: OfficialDoc) -> bool:
    """An Ofsted report on a local authority: its title repeats at every inspection."""
    place = _doc_place(doc) or ""
    return _is_ofsted(doc) and not _PROVIDER.search(place)


def _ofsted_link(doc, text, day, doc_day, mentions, place) -> Link | None:
    ofsted = re.search(r"\bofsted\b", text, re.I)
    if not ofsted or not day or not doc_day:
        return None
    if not -PUBLISHED_SLACK_DAYS <= (day - doc_day).days <= OFSTED_WINDOW_DAYS:
        return None
    if _PROVIDER.search(place or ""):
        subject = True  # the school is named (checked by the place)
    else:
        subject = bool(_SOCIAL_CARE.search(text))
    if not subject:
        return None
    kind = (doc.doc_type or "").lower()
    if ("monitoring" in kind or "focused" in kind) and not _LETTER.search(text):
        return None
    grade = _judgement(doc)
    if grade and (m := re.search(_OFSTED_GRADES[grade], text, re.I)):
        return Link(doc.doc_id, "ofsted report by date", _snippet(text, m.start()), 0.8)
    months = _visit_months(doc, doc_day)
    for w in mentions:
        if w.days <= RANGE_DAYS and (w.start.year, w.start.month) in months and w.end <= doc_day:
            return Link(doc.doc_id, "ofsted report by date", _snippet(text, w.pos), 0.8)
        if w.days <= PRECISE_DAYS and w.holds(doc_day):
            return Link(doc.doc_id, "ofsted report by date", _snippet(text, w.pos), 0.8)
    return None
