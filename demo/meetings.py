# ruff: noqa: E501  (the sites' HTML is written line for line as the real pages serve it, as in demo/backfill.py)
"""Generated demo sites for council meetings: Birmingham's CMIS and Solihull's ModernGov.

Two hosts, each served by a handler (``demo/site/manifest.yaml`` routes them here):

- ``birmingham.cmis.uk.com.test`` (:func:`serve_cmis`), modelled on Birmingham City Council's
  CMIS: the no-JavaScript month calendar
  ``/birmingham/Meetings/tabid/70/ctl/MeetingCalendarPublicNoJava/mid/397/Date/<yyyy-mm-dd>/Default.aspx``,
  the list view ``/birmingham/Meetings.aspx?ctl=MeetingCalendarListView&mid=397`` (this month),
  the meetings page ``/birmingham/Meetings.aspx`` (carrying the module id 397), meeting pages
  ``/birmingham/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/<id>/Committee/<cid>[/SelectedTab/<tab>]/Default.aspx``
  and documents ``/birmingham/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=<token>&...`` (PDFs).
- ``solihull.moderngov.co.uk.test`` (:func:`serve_moderngov`), modelled on ModernGov: the web
  service ``/mgWebService.asmx/GetMeetings?lCommitteeId=<0|cid>&sFromDate=dd/mm/yyyy&sToDate=dd/mm/yyyy``,
  the month view ``/mgCalendarMonthView.aspx?M=<m>&DD=<yyyy>``, meeting pages
  ``/ieListDocuments.aspx?CId=<cid>&MId=<mid>`` and documents under ``/documents/`` (PDFs).

Every meeting's date is relative to the day the page is asked for (``date.today()``), so the
next seven days always hold a Corporate Parenting Board, a Cabinet and a scrutiny committee that
discuss children's social care. docs/meetings-markup.md describes the real markup these pages
copy and says which details are invented. All names, figures and findings are invented.

Birmingham (CMIS) meetings, by id (T is today; a date that falls on a weekend moves to the
nearest weekday):

====== ================================================================ ================ =====================================
id     committee                                                        when             state
====== ================================================================ ================ =====================================
31001  Cabinet                                                          T-20, 10:00      held: minutes published
31002  Licensing and Public Protection Committee                        last month       held (unrelated: taxis, street trading)
31003  Corporate Parenting Board                                        T+2, 14:00       Ofsted monitoring visit letter
31004  Cabinet                                                          T+4, 10:00       agenda republished: supplementary pack
31005  Education, Children and Young People O&S Committee               T+6, 10:00       the Trust's annual report; appendix 2 answers HTTP 500
31006  City Council                                                     T+9, 14:00       motion on the social care workforce
31007  Cabinet                                                          T+13, 10:00      Cancelled
31008  Corporate Parenting Board                                        T+23, 14:00      Rescheduled (moved from T+16); no agenda yet
31009  Licensing and Public Protection Committee                        T+20, 10:00      unrelated (gambling policy)
31010  City Council                                                     T+40, no time    no agenda yet, no time printed
====== ================================================================ ================ =====================================

Solihull (ModernGov) meetings: 4501 Cabinet T-14 (held, minutes), 4502 Children's Services,
Education and Skills Scrutiny Board T+3 (agenda republished: supplementary agenda), 4503 Cabinet
T+8 (Cancelled), 4504 the Scrutiny Board T+27 (Moved, from T+20; no agenda yet).

Changing the sites while they are served (for tests that crawl, change, crawl again):
:func:`reschedule` (a new date and time; status "Rescheduled" on CMIS, "Moved" on ModernGov),
:func:`cancel`, :func:`republish` (adds a supplementary pack and a "republished" note) and
:func:`reset` (back to the sites above). The changes are module state, shared by every server
in the process: a test that makes them must call :func:`reset` when it ends.

Run ``python -m carewatch.demo.meetings`` to print today's meetings.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import sys
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from html import escape
from urllib.parse import parse_qs, quote, unquote, urlsplit

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from carewatch.demo import pdfs

__all__ = [
    "CMIS_HOST",
    "MODERNGOV_HOST",
    "Meeting",
    "cancel",
    "document_pdf",
    "meetings",
    "reschedule",
    "republish",
    "reset",
    "serve_cmis",
    "serve_moderngov",
]

CMIS_HOST = "birmingham.cmis.uk.com.test"
MODERNGOV_HOST = "solihull.moderngov.co.uk.test"
CMIS = f"http://{CMIS_HOST}/birmingham"
MG = f"http://{MODERNGOV_HOST}"
HTML = "text/html; charset=utf-8"
XML = "text/xml; charset=utf-8"
PDF = "application/pdf"
_NOT_FOUND = b"<html><body><h1>Not found</h1></body></html>"
_ERROR_500 = (
    b"<!DOCTYPE html><html><head><title>Runtime Error</title></head><body><h1>Server Error in '/' Application.</h1>"
    b"<h2><i>Runtime Error</i></h2><p>An application error occurred on the server.</p></body></html>"
)

BIRMINGHAM_VENUE = "Council House, Victoria Square, Birmingham, B1 1BB"
SOLIHULL_VENUE = "Council Chamber, Council House, Manor Square, Solihull, B91 3QB"


@dataclass(frozen=True)
class Doc:
    key: str  # identity, stable when the meeting moves
    title: str
    lines: tuple[str, ...]  # the PDF's paragraphs
    fails: bool = False  # the document link answers HTTP 500


@dataclass(frozen=True)
class Item:
    number: str
    title: str
    text: tuple[str, ...] = ()
    docs: tuple[Doc, ...] = ()


@dataclass(frozen=True)
class Meeting:
    system: str  # "cmis" | "moderngov"
    id: int
    committee: str
    committee_id: int
    day: date
    at: time | None  # None: no time printed
    status: str  # as the page prints it
    venue: str
    items: tuple[Item, ...] = ()
    docs: tuple[Doc, ...] = ()  # meeting-level: agenda frontsheet, reports pack, supplementary, minutes
    note: str | None = None  # "Agenda republished on ..."
    moved_from: date | None = None
    minutes: bool = False

    @property
    def start(self) -> datetime | None:
        return datetime.combine(self.day, self.at) if self.at else None

    @property
    def all_docs(self) -> tuple[Doc, ...]:
        return (*(d for i in self.items for d in i.docs), *self.docs)


# --------------------------------------------------------------------------- the meetings


def _weekday(d: date) -> date:
    """Councils meet on weekdays: Saturday moves back to Friday, Sunday on to Monday."""
    return d - timedelta(days=1) if d.weekday() == 5 else d + timedelta(days=1) if d.weekday() == 6 else d


def _on(today: date, days: int) -> date:
    return _weekday(today + timedelta(days=days))


def _long(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _doc(key: str, title: str, *lines: str, fails: bool = False) -> Doc:
    return Doc(key, title, lines, fails)


def _standing_cmis(mid: int, previous: date | None) -> tuple[Item, ...]:
    prev = f" held on {_long(previous)}" if previous else ""
    return (
        Item(
            "1",
            "NOTICE OF RECORDING/WEBCAST",
            (
                "The Chair to advise/meeting to note that this meeting will be webcast for live or subsequent "
                "broadcast via the Council's meeting You Tube site and that members of the press/public may record "
                "and take photographs except where there are confidential or exempt items.",
            ),
        ),
        Item("2", "APOLOGIES", ("To receive any apologies.",)),
        Item(
            "3",
            "DECLARATIONS OF INTERESTS",
            (
                "Members are reminded that they must declare all relevant pecuniary and other registerable "
                "interests arising from any business to be discussed at this meeting.",
            ),
        ),
        Item(
            "4",
            "MINUTES",
            (f"To confirm and sign the Minutes of the meeting{prev}.",),
            (_doc(f"{mid}-minutes-previous", "Minutes of the previous meeting", f"Minutes of the meeting{prev}."),),
        ),
    )


def _cmis_meetings(today: date) -> list[Meeting]:
    t = today
    last_month_end = t.replace(day=1) - timedelta(days=1)
    return [
        Meeting(
            "cmis",
            31001,
            "Cabinet",
            3,
            _on(t, -20),
            time(10, 0),
            "Occurred",
            f"Committee Room 2, {BIRMINGHAM_VENUE}",
            items=(
                *_standing_cmis(31001, _on(t, -48)),
                Item(
                    "5",
                    "HIGHWAYS AND INFRASTRUCTURE: RESURFACING PROGRAMME 2026/27",
                    ("Report of the Strategic Director, City Operations.",),
                    (
                        _doc(
                            "31001-resurfacing",
                            "Highways Resurfacing Programme 2026-27",
                            "The programme resurfaces 64 kilometres of carriageway and 38 kilometres of footway.",
                            "Cabinet is recommended to approve the programme and the use of the highways "
                            "maintenance grant.",
                        ),
                    ),
                ),
                Item(
                    "6",
                    "FINANCIAL MONITORING REPORT QUARTER 2 2026/27",
                    (
                        "Report of the Director of Finance (Section 151 Officer).",
                        "The report sets out a forecast overspend of £14.2m, of which £9.6m is on children's "
                        "social care placements commissioned by Birmingham Children's Trust.",
                    ),
                    (
                        _doc(
                            "31001-q2-monitoring",
                            "Financial Monitoring Report Quarter 2 2026-27",
                            "The Council forecasts an overspend of £14.2m for 2026/27.",
                            "Children and Families: the forecast overspend of £9.6m is almost entirely on "
                            "placements for children in care, commissioned by Birmingham Children's Trust. The "
                            "average weekly cost of a residential placement has risen by 11% in a year.",
                            "Savings of £6.1m from the Trust's 2026/27 programme are rated amber; a review of "
                            "in-house residential homes is behind schedule.",
                        ),
                    ),
                ),
            ),
            docs=(
                _doc("31001-frontsheet", "Agenda frontsheet", "Cabinet agenda."),
                _doc("31001-pack", "Public reports pack", "Cabinet public reports pack."),
                _doc(
                    "31001-printed-minutes",
                    "Printed minutes",
                    "Cabinet noted the quarter 2 forecast overspend, including £9.6m on children's social care "
                    "placements, and approved the highways resurfacing programme.",
                ),
            ),
            minutes=True,
        ),
        Meeting(
            "cmis",
            31002,
            "Licensing and Public Protection Committee",
            17,
            _weekday(last_month_end - timedelta(days=4)),
            time(10, 0),
            "Occurred",
            f"Committee Rooms 3 & 4, {BIRMINGHAM_VENUE}",
            items=(
                Item("1", "APOLOGIES", ("To receive any apologies.",)),
                Item(
                    "2",
                    "HACKNEY CARRIAGE AND PRIVATE HIRE LICENSING POLICY REVIEW",
                    ("Report of the Director of Regulation and Enforcement.",),
                    (
                        _doc(
                            "31002-taxi-policy",
                            "Hackney Carriage and Private Hire Licensing Policy Review",
                            "The review proposes a maximum vehicle age of ten years and new signage rules for "
                            "private hire vehicles licensed in Birmingham.",
                        ),
                    ),
                ),
                Item(
                    "3",
                    "STREET TRADING CONSENT STREETS: DIGBETH",
                    ("Report of the Director of Regulation and Enforcement.",),
                    (
                        _doc(
                            "31002-street-trading",
                            "Street Trading Consent Streets - Digbeth",
                            "Six streets in Digbeth are proposed as consent streets for street trading.",
                        ),
                    ),
                ),
            ),
            docs=(
                _doc("31002-pack", "Public reports pack", "Licensing and Public Protection Committee reports."),
                _doc("31002-printed-minutes", "Printed minutes", "The Committee approved the policy review."),
            ),
            minutes=True,
        ),
        Meeting(
            "cmis",
            31003,
            "Corporate Parenting Board",
            1603,
            _on(t, 2),
            time(14, 0),
            "Scheduled",
            f"Committee Room 6, {BIRMINGHAM_VENUE}",
            items=(
                Item("1", "APOLOGIES", ("To receive any apologies.",)),
                Item(
                    "2",
                    "MINUTES",
                    ("To confirm the minutes of the last meeting.",),
                    (_doc("31003-minutes-previous", "Minutes of the last meeting", "Minutes of the last meeting."),),
                ),
                Item(
                    "3",
                    "OFSTED MONITORING VISIT TO BIRMINGHAM CHILDREN'S SERVICES: LETTER",
                    (
                        "Report of the Director of Children and Families.",
                        "The Board is asked to note the letter published by Ofsted following its monitoring visit "
                        "to Birmingham children's services, which looked at children in care and care leavers, and "
                        "the actions Birmingham Children's Trust proposes in response.",
                    ),
                    (
                        _doc(
                            "31003-ofsted-cover",
                            "Ofsted monitoring visit - covering report",
                            "Ofsted carried out a monitoring visit to Birmingham children's services, delivered by "
                            "Birmingham Children's Trust, looking at the experiences of children in care and care "
                            "leavers.",
                            "Inspectors found that most children in care live in stable homes, but that too many "
                            "care leavers do not have a pathway plan that they helped to write.",
                        ),
                        _doc(
                            "31003-ofsted-letter",
                            "Ofsted monitoring visit letter",
                            "Monitoring visit to Birmingham children's services.",
                            "This visit was the second monitoring visit since the inspection of local authority "
                            "children's services. Inspectors looked at the progress made for children in care and "
                            "care leavers.",
                            "Leaders know the service well. Caseloads for personal advisers have reduced, but the "
                            "quality of pathway planning remains too variable. Some care leavers live in unregistered "
                            "supported accommodation for too long.",
                        ),
                    ),
                ),
                Item(
                    "4",
                    "CARE LEAVERS LOCAL OFFER 2027",
                    ("Report of the Chief Executive, Birmingham Children's Trust.",),
                    (
                        _doc(
                            "31003-local-offer",
                            "Care Leavers Local Offer 2027",
                            "The local offer sets out the support Birmingham care leavers can expect: council tax "
                            "exemption to 25, a setting-up-home allowance of £3,000 and free travel for apprentices.",
                        ),
                    ),
                ),
                Item(
                    "5",
                    "VOICE OF THE CHILD: CHILDREN IN CARE COUNCIL UPDATE",
                    ("A verbal update from members of the Children in Care Council.",),
                ),
            ),
            docs=(
                _doc("31003-frontsheet", "Agenda frontsheet", "Corporate Parenting Board agenda."),
                _doc("31003-pack", "Public reports pack", "Corporate Parenting Board public reports pack."),
            ),
        ),
        Meeting(
            "cmis",
            31004,
            "Cabinet",
            3,
            _on(t, 4),
            time(10, 0),
            "Scheduled",
            f"Committee Room 2, {BIRMINGHAM_VENUE}",
            items=(
                *_standing_cmis(31004, _on(t, -20)),
                Item(
                    "5",
                    "BIRMINGHAM CHILDREN'S TRUST: CONTRACT REVIEW AND FUNDING SETTLEMENT 2027-2030",
                    (
                        "Report of the Strategic Director, Children and Families.",
                        "Cabinet is recommended to approve a variation to the service delivery contract with "
                        "Birmingham Children's Trust, extending it to March 2030, and the funding settlement for "
                        "children's social care for 2027-2030.",
                    ),
                    (
                        _doc(
                            "31004-trust-contract",
                            "Birmingham Children's Trust - Contract Review and Funding Settlement",
                            "The Council has commissioned children's social care from Birmingham Children's Trust "
                            "since April 2018. The current contract ends in March 2027.",
                            "The review recommends extending the contract to March 2030, with a contract sum of "
                            "£298m in 2027/28, revised key performance indicators and a new gain-share mechanism "
                            "for reductions in placement costs.",
                            "The Trust's chief executive has advised that the settlement assumes savings of £12m "
                            "over three years, mainly from placements and early help.",
                        ),
                        _doc(
                            "31004-trust-contract-appendix",
                            "Appendix 1 - Contract Variation Schedule",
                            "Schedule of changes to the service delivery contract with Birmingham Children's Trust.",
                        ),
                    ),
                ),
                Item(
                    "6",
                    "BUDGET 2027/28: CHILDREN'S SERVICES SAVINGS PROPOSALS",
                    (
                        "Report of the Director of Finance (Section 151 Officer).",
                        "Cabinet is asked to approve for consultation savings of £12m in children's services, "
                        "including the closure of two residential homes and reduced early help grants.",
                    ),
                    (
                        _doc(
                            "31004-savings",
                            "Budget 2027-28 - Children's Services Savings Proposals",
                            "The proposals would save £12m in children's services in 2027/28: £5.2m from placement "
                            "costs, £3.1m from closing two in-house residential children's homes, £2.4m from early "
                            "help grants to community organisations and £1.3m from management posts.",
                            "An equality impact assessment identifies a risk to disabled children and to families "
                            "receiving early help.",
                        ),
                        _doc(
                            "31004-savings-eia",
                            "Appendix A - Equality Impact Assessment",
                            "Equality impact assessment of the children's services savings proposals.",
                        ),
                    ),
                ),
                Item(
                    "7",
                    "A38 BRISTOL ROAD CYCLE ROUTE: PHASE 2",
                    ("Report of the Strategic Director, Place, Prosperity and Sustainability.",),
                    (
                        _doc(
                            "31004-cycle-route",
                            "A38 Bristol Road Cycle Route Phase 2",
                            "Phase 2 extends the segregated cycle route from Selly Oak to Northfield.",
                        ),
                    ),
                ),
            ),
            docs=(
                _doc("31004-frontsheet", "Agenda frontsheet", "Cabinet agenda."),
                _doc("31004-pack", "Public reports pack", "Cabinet public reports pack."),
                _doc(
                    "31004-supplementary",
                    "Supplementary Agenda Pack",
                    "Supplementary report to item 6: revised children's services savings proposals. The closure "
                    "of the second residential home is deferred to 2028/29 following the Trust's advice.",
                ),
            ),
            note=f"Agenda republished on {_on(t, -1):%d %b %Y}: Supplementary Agenda Pack added (item 6).",
        ),
        Meeting(
            "cmis",
            31005,
            "Education, Children and Young People Overview and Scrutiny Committee",
            1591,
            _on(t, 6),
            time(10, 0),
            "Scheduled",
            f"Committee Rooms 3 & 4, {BIRMINGHAM_VENUE}",
            items=(
                Item("1", "APOLOGIES", ("To receive any apologies.",)),
                Item("2", "DECLARATIONS OF INTERESTS", ("Members to declare any interests.",)),
                Item(
                    "3",
                    "ACTION NOTES",
                    ("To confirm the action notes of the last meeting.",),
                    (_doc("31005-action-notes", "Action notes of the last meeting", "Action notes."),),
                ),
                Item(
                    "4",
                    "BIRMINGHAM CHILDREN'S TRUST ANNUAL REPORT 2025/26",
                    (
                        "The Committee will take evidence from the Chief Executive of Birmingham Children's Trust "
                        "on the Trust's annual report: demand for children's social care, the workforce, "
                        "placement costs and the response to Ofsted's findings.",
                    ),
                    (
                        _doc(
                            "31005-trust-annual-report",
                            "Birmingham Children's Trust Annual Report 2025-26",
                            "Birmingham Children's Trust annual report 2025/26. In its eighth year the Trust "
                            "received 12,310 referrals to children's social care and supported 2,140 children in care.",
                            "Agency social workers made up 8% of the workforce, the lowest since the Trust began. "
                            "Average caseloads in locality teams were 16.",
                            "The Trust overspent by £9.8m, almost entirely on placements for children in care.",
                        ),
                        _doc(
                            "31005-trust-scorecard",
                            "Appendix 2 - Performance Scorecard",
                            "Performance scorecard.",
                            fails=True,
                        ),
                    ),
                ),
                Item(
                    "5",
                    "WORK PROGRAMME 2026/27",
                    ("To agree the Committee's work programme.",),
                    (_doc("31005-work-programme", "Work Programme 2026-27", "Education and children's scrutiny."),),
                ),
            ),
            docs=(
                _doc("31005-frontsheet", "Agenda frontsheet", "Scrutiny committee agenda."),
                _doc("31005-pack", "Public reports pack", "Scrutiny committee public reports pack."),
            ),
        ),
        Meeting(
            "cmis",
            31006,
            "City Council",
            1,
            _on(t, 9),
            time(14, 0),
            "Scheduled",
            f"Council Chamber, {BIRMINGHAM_VENUE}",
            items=(
                Item("1", "NOTICE OF RECORDING/WEBCAST", ("The Lord Mayor to advise that the meeting is webcast.",)),
                Item(
                    "2",
                    "MINUTES",
                    ("To confirm the minutes of the last meeting.",),
                    (_doc("31006-minutes-previous", "Minutes of the last meeting", "City Council minutes."),),
                ),
                Item("3", "PETITIONS", ("To receive and deal with petitions.",)),
                Item(
                    "4",
                    "MOTION: SUPPORT FOR THE CHILDREN'S SOCIAL CARE WORKFORCE",
                    (
                        "This Council notes the reduction in agency social workers at Birmingham Children's Trust "
                        "and resolves to protect the Trust's workforce budget from the 2027/28 savings.",
                    ),
                ),
            ),
            docs=(_doc("31006-pack", "Public reports pack", "City Council public reports pack."),),
        ),
        Meeting(
            "cmis",
            31007,
            "Cabinet",
            3,
            _on(t, 13),
            time(10, 0),
            "Cancelled",
            f"Committee Room 2, {BIRMINGHAM_VENUE}",
        ),
        Meeting(
            "cmis",
            31008,
            "Corporate Parenting Board",
            1603,
            _on(t, 23),
            time(14, 0),
            "Rescheduled",
            f"Committee Room 6, {BIRMINGHAM_VENUE}",
            moved_from=_on(t, 16),
        ),
        Meeting(
            "cmis",
            31009,
            "Licensing and Public Protection Committee",
            17,
            _on(t, 20),
            time(10, 0),
            "Scheduled",
            f"Committee Rooms 3 & 4, {BIRMINGHAM_VENUE}",
            items=(
                Item("1", "APOLOGIES", ("To receive any apologies.",)),
                Item(
                    "2",
                    "GAMBLING ACT 2005: STATEMENT OF PRINCIPLES 2027-2030",
                    ("Report of the Director of Regulation and Enforcement.",),
                    (
                        _doc(
                            "31009-gambling",
                            "Gambling Act 2005 - Statement of Principles",
                            "The draft statement of principles for gambling premises licences in Birmingham.",
                        ),
                    ),
                ),
            ),
            docs=(_doc("31009-pack", "Public reports pack", "Licensing committee public reports pack."),),
        ),
        Meeting(
            "cmis", 31010, "City Council", 1, _on(t, 40), None, "Scheduled", f"Council Chamber, {BIRMINGHAM_VENUE}"
        ),
    ]


def _moderngov_meetings(today: date) -> list[Meeting]:
    t = today
    board = "Children's Services, Education and Skills Scrutiny Board"
    return [
        Meeting(
            "moderngov",
            4501,
            "Cabinet",
            283,
            _on(t, -14),
            time(18, 0),
            "Confirmed",
            SOLIHULL_VENUE,
            items=(
                Item("1.", "Apologies for Absence"),
                Item(
                    "2.",
                    "Minutes",
                    ("To approve the minutes of the previous meeting.",),
                    (_doc("4501-minutes-previous", "Minutes of the previous meeting", "Cabinet minutes."),),
                ),
                Item(
                    "3.",
                    "Local Transport Plan: Delivery Programme",
                    ("To approve the transport delivery programme for the year.",),
                    (_doc("4501-transport", "Local Transport Plan Delivery Programme", "Solihull transport schemes."),),
                ),
                Item(
                    "4.",
                    "Children's Services Improvement Plan: Progress Report",
                    (
                        "To note progress against the children's services improvement plan following Ofsted's "
                        "focused visit, including caseloads and the use of agency social workers.",
                    ),
                    (
                        _doc(
                            "4501-improvement",
                            "Childrens Services Improvement Plan Progress",
                            "Solihull children's services improvement plan: progress report to Cabinet.",
                            "Social work caseloads have fallen to an average of 17; agency staff fill 21% of posts.",
                        ),
                        _doc("4501-improvement-appx", "Appendix A - Improvement Plan Tracker", "Tracker."),
                    ),
                ),
            ),
            docs=(
                _doc("4501-frontsheet", "Agenda frontsheet", "Cabinet agenda."),
                _doc("4501-pack", "Public reports pack", "Cabinet public reports pack."),
                _doc("4501-printed-minutes", "Printed minutes", "Cabinet noted the improvement plan progress."),
            ),
            minutes=True,
        ),
        Meeting(
            "moderngov",
            4502,
            board,
            412,
            _on(t, 3),
            time(18, 0),
            "Confirmed",
            SOLIHULL_VENUE,
            items=(
                Item("1.", "Apologies"),
                Item("2.", "Declarations of Interest", ("Members to declare any interests.",)),
                Item(
                    "3.",
                    "Ofsted Focused Visit: Children in Need and Child Protection",
                    (
                        "The Board will receive the letter from Ofsted's focused visit to Solihull children's "
                        "services and question the Director of Children's Services on the action plan.",
                    ),
                    (
                        _doc(
                            "4502-focused-visit",
                            "Ofsted Focused Visit Letter",
                            "Focused visit to Solihull children's services: children in need and children subject "
                            "to a child protection plan.",
                            "Inspectors found that most children are seen promptly, but that plans for some "
                            "children in need are not reviewed often enough.",
                        ),
                        _doc("4502-action-plan", "Focused Visit Action Plan", "Action plan."),
                    ),
                ),
                Item(
                    "4.",
                    "Sufficiency Strategy for Children in Care 2027-2030",
                    ("To comment on the draft sufficiency strategy for placements for children in care.",),
                    (_doc("4502-sufficiency", "Sufficiency Strategy 2027-2030", "Placement sufficiency strategy."),),
                ),
                Item("5.", "Work Programme", ("To note the Board's work programme.",)),
            ),
            docs=(
                _doc("4502-frontsheet", "Agenda frontsheet", "Scrutiny Board agenda."),
                _doc("4502-pack", "Public reports pack", "Scrutiny Board public reports pack."),
                _doc(
                    "4502-supplementary",
                    "Supplementary agenda",
                    "Supplementary agenda: the Ofsted focused visit action plan, published after the agenda.",
                ),
            ),
            note=f"Agenda republished on {_on(t, -1):%d %B %Y}: supplementary agenda added (item 3).",
        ),
        Meeting("moderngov", 4503, "Cabinet", 283, _on(t, 8), time(18, 0), "Cancelled", SOLIHULL_VENUE),
        Meeting("moderngov", 4504, board, 412, _on(t, 27), time(18, 0), "Moved", SOLIHULL_VENUE, moved_from=_on(t, 20)),
    ]


# --------------------------------------------------------------------------- changes (for tests)

_CHANGES: dict[tuple[str, int], dict] = {}


def _system(meeting_id: int) -> str:
    return "cmis" if meeting_id >= 30000 else "moderngov"


def reschedule(meeting_id: int, new_start: datetime | date, status: str | None = None) -> None:
    """Move a meeting to ``new_start`` (a datetime; a date keeps its time). Its status becomes
    "Rescheduled" (CMIS) or "Moved" (ModernGov) unless ``status`` says otherwise."""
    system = _system(meeting_id)
    change = _CHANGES.setdefault((system, meeting_id), {})
    if isinstance(new_start, datetime):
        change["day"], change["at"] = new_start.date(), new_start.time().replace(second=0, microsecond=0)
    else:
        change["day"] = new_start
    change["status"] = status or ("Rescheduled" if system == "cmis" else "Moved")
    change["moved"] = True


def cancel(meeting_id: int) -> None:
    """Cancel a meeting: its status becomes "Cancelled"."""
    _CHANGES.setdefault((_system(meeting_id), meeting_id), {})["status"] = "Cancelled"


def republish(meeting_id: int, title: str | None = None) -> None:
    """Republish a meeting's agenda: a supplementary pack (titled ``title``, else "Supplementary
    Agenda Pack <n>" on CMIS, "Supplementary agenda <n>" on ModernGov) is added to its documents and
    the note "Agenda republished on <today>: <title> added." replaces any earlier one. Each call
    adds one more pack."""
    change = _CHANGES.setdefault((_system(meeting_id), meeting_id), {})
    change["republished"] = change.get("republished", 0) + 1
    change.setdefault("titles", []).append(title)


def reset() -> None:
    """Undo every change: the sites as the module docstring describes them."""
    _CHANGES.clear()


def _apply(m: Meeting, today: date) -> Meeting:
    change = _CHANGES.get((m.system, m.id))
    if not change:
        return m
    if change.get("moved"):
        m = replace(m, day=change["day"], at=change.get("at", m.at), moved_from=m.day)
    if "status" in change:
        m = replace(m, status=change["status"])
    existing = sum("upplementary" in d.title for d in m.docs)
    for n in range(1, change.get("republished", 0) + 1):
        label = "Supplementary Agenda Pack" if m.system == "cmis" else "Supplementary agenda"
        title = change["titles"][n - 1] or f"{label} {existing + n}"
        doc = _doc(
            f"{m.id}-republished-{n}",
            title,
            f"{title} for the {m.committee} meeting: additional reports published after the agenda.",
        )
        when = f"{today:%d %b %Y}" if m.system == "cmis" else f"{today:%d %B %Y}"
        m = replace(m, docs=(*m.docs, doc), note=f"Agenda republished on {when}: {title} added.")
    return m


def meetings(today: date | None = None, system: str | None = None) -> list[Meeting]:
    """Every demo meeting as served today (with the changes made by the functions above)."""
    today = today or date.today()
    found = []
    if system in (None, "cmis"):
        found += _cmis_meetings(today)
    if system in (None, "moderngov"):
        found += _moderngov_meetings(today)
    return sorted((_apply(m, today) for m in found), key=lambda m: (m.day, m.at or time(0), m.id))


# --------------------------------------------------------------------------- documents


def _cmis_token(key: str) -> str:
    return base64.b64encode(hashlib.sha256(key.encode()).digest()[:24]).decode()


def _lower_escapes(value: str) -> str:
    """Percent-encoded with lower-case escapes ("%2f", "%3d"), as the real CMIS writes them."""
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(value, safe=""))


def cmis_document_url(doc: Doc) -> str:
    """A document's address, in CMIS's shape: an opaque, percent-encoded query."""
    return (
        f"{CMIS}/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo={_lower_escapes(_cmis_token(doc.key))}"
        f"&rUzwRPf%2bZ3zd4E7Ikn8Lyw%3d%3d=pwRE6AGJFLDNlh225F5QMaQWCtPHwdhUfCZ%2fLUQzgA2uL5jNRG4jdQ%3d%3d"
        f"&mCTIbCubSFfXsDGW9IXnlg%3d%3d=hFflUdN3100%3d&kCx1AnS9%2fpWZQ40DXFvdEw%3d%3d=hFflUdN3100%3d"
    )


def _mg_doc_number(key: str) -> int:
    return 70000 + int(hashlib.sha256(key.encode()).hexdigest()[:6], 16) % 20000


def _mg_meeting_date(m: Meeting) -> str:
    suffix = "th" if 11 <= m.day.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(m.day.day % 10, "th")
    return f"{m.day.day}{suffix}-{m.day:%b-%Y} {m.at:%H.%M}" if m.at else f"{m.day.day}{suffix}-{m.day:%b-%Y}"


def moderngov_document_path(m: Meeting, doc: Doc) -> str:
    """A document's path relative to the site root, as ModernGov writes it (with spaces):
    ``documents/s70123/Report title.pdf`` for an item's document, ``documents/g4502/Public
    reports pack 10th-Dec-2026 18.00 Cabinet.pdf`` for the meeting's own."""
    name = re.sub(r"[^A-Za-z0-9 ,.&()-]", "", doc.title)
    if any(doc is d for d in m.docs):
        return f"documents/g{m.id}/{name} {_mg_meeting_date(m)} {re.sub(r'[^A-Za-z0-9 ,&-]', '', m.committee)}.pdf"
    return f"documents/s{_mg_doc_number(doc.key)}/{name}.pdf"


def _when_text(m: Meeting) -> str:
    return f"{m.day:%A}, {_long(m.day)}" + (f", {m.at:%H:%M}" if m.at else "")


@functools.lru_cache(maxsize=256)
def _pdf(council: str, committee: str, when: str, title: str, lines: tuple[str, ...]) -> bytes:
    st = pdfs._styles()
    head = Table(
        [
            [Paragraph("Report to:", st["cellb"]), Paragraph(escape(committee), st["cell"])],
            [Paragraph("Date:", st["cellb"]), Paragraph(escape(when), st["cell"])],
            [Paragraph("Title:", st["cellb"]), Paragraph(escape(title), st["cell"])],
        ],
        colWidths=[40 * mm, 124 * mm],
        hAlign="LEFT",
    )
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    story = [
        Paragraph(escape(council.upper()), st["council"]),
        Paragraph(escape(title), st["title"]),
        head,
        Spacer(1, 5 * mm),
        *pdfs._paras([escape(line) for line in lines], st),
        Spacer(1, 5 * mm),
        Paragraph(
            "Written for a demonstration of the carewatch tool: modelled on real council papers, but the "
            "meeting, the people and the figures are invented.",
            st["small"],
        ),
    ]
    return pdfs._build(
        story,
        title=title,
        subject=f"{committee}, {when}",
        footer=f"{committee}  {when}",
        author=council,
        keywords=f"{council}, {committee}, meeting papers",
    )


def document_pdf(m: Meeting, doc: Doc) -> bytes:
    """The PDF of one of a meeting's documents (built with demo/pdfs.py's helpers)."""
    council = "Birmingham City Council" if m.system == "cmis" else "Solihull Metropolitan Borough Council"
    return _pdf(council, m.committee, _when_text(m), doc.title, doc.lines)


# --------------------------------------------------------------------------- CMIS pages

_CMIS_MODULE = f"{CMIS}/Meetings/tabid/70/ctl"


def cmis_meeting_url(m: Meeting, tab: str = "Documents") -> str:
    return f"{_CMIS_MODULE}/ViewMeetingPublic/mid/397/Meeting/{m.id}/Committee/{m.committee_id}/SelectedTab/{tab}/Default.aspx"


def cmis_calendar_url(year: int, month: int) -> str:
    return f"{_CMIS_MODULE}/MeetingCalendarPublicNoJava/mid/397/Date/{year:04d}-{month:02d}-01/Default.aspx"


def _cmis_page(title: str, action: str, body: str) -> bytes:
    page = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xml:lang="en-GB" lang="en-GB" xmlns="http://www.w3.org/1999/xhtml">
<head id="Head">
  <meta content="text/html; charset=UTF-8" http-equiv="Content-Type" />
  <title>{escape(title)} - Birmingham City Council</title>
  <link href="/birmingham/Portals/_default/default.css" type="text/css" rel="stylesheet" />
  <link href="/birmingham/WebResource.axd?d=Telerik.Web.UI.Skins.Default.Grid.Default.css" type="text/css" rel="stylesheet" />
</head>
<body id="Body">
  <form method="post" action="{escape(action)}" id="Form" enctype="multipart/form-data">
    <div class="aspNetHidden">
      <input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" />
      <input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="/wEPDwUKMTY1NDU2MTA1MmRkDemoViewStateOnlyForShow0Pq8=" />
    </div>
    <div id="header"><a id="dnn_dnnLOGO_hypLogo" title="Birmingham City Council" href="/birmingham/Home.aspx">Birmingham City Council</a>
      <ul class="topnav"><li><a href="/birmingham/Home.aspx">Home</a></li><li><a href="/birmingham/Councillors.aspx">Councillors</a></li><li><a href="/birmingham/Committees.aspx">Committees</a></li><li><a href="/birmingham/Meetings.aspx">Meetings</a></li><li><a href="/birmingham/Decisions.aspx">Decisions</a></li></ul>
    </div>
    <div id="dnn_ContentPane">
      <div class="DnnModule DnnModule-CMIS_Meetings DnnModule-397"><a name="397"></a>
        <div id="dnn_ctr397_ContentPane">
{body}
        </div>
      </div>
    </div>
    <div id="footer"><a href="/birmingham/Accessibility.aspx">Accessibility</a> | <a href="/birmingham/Privacy.aspx">Privacy</a> | Powered by CMIS</div>
  </form>
</body>
</html>
"""
    return page.encode("utf-8")


def _cmis_entry_text(m: Meeting) -> str:
    return f"{m.at:%H:%M} {m.committee}" if m.at else m.committee


def _cmis_status_span(m: Meeting) -> str:
    if m.status in ("Cancelled", "Rescheduled", "Moved", "Postponed"):
        return f' <span class="MeetingStatus">{escape(m.status)}</span>'
    return ""


def cmis_calendar_page(year: int, month: int, today: date | None = None) -> bytes:
    """The no-JavaScript month calendar: a row per day, "Monday, 8 June" (no year), and a cell of
    ``p.Meeting`` links "10:00 Cabinet"."""
    by_day: dict[date, list[Meeting]] = {}
    for m in meetings(today, "cmis"):
        by_day.setdefault(m.day, []).append(m)
    first = date(year, month, 1)
    rows = []
    d = first
    while d.month == month:
        entries = "".join(
            f'\n    <p class="Meeting">\n      <a href="{escape(cmis_meeting_url(m))}">{escape(_cmis_entry_text(m))}</a>'
            f"{_cmis_status_span(m)}\n    </p>"
            for m in by_day.get(d, [])
        )
        cls = "rgRow" if (d.day - 1) % 2 == 0 else "rgAltRow"
        tail = "\n  " if entries else ""
        rows.append(
            f'<tr class="{cls}" id="dnn_ctr397_MeetingCalendarPublicPrinter_grdRadMeeting_ctl00__{d.day - 1}">\n'
            f'  <td class="SimpleCalendarDate">{d:%A}, {d.day} {d:%B}</td>\n  <td>{entries}{tail}</td>\n</tr>'
        )
        d += timedelta(days=1)
    prev_m = (first - timedelta(days=1)).replace(day=1)
    next_m = (first + timedelta(days=32)).replace(day=1)
    body = f"""          <div class="DNNModuleContent ModCMISMeetingsC">
            <h1>Meetings calendar</h1>
            <p class="CalendarNavigation"><a href="{escape(cmis_calendar_url(prev_m.year, prev_m.month))}">&lt; {prev_m:%B %Y}</a> | <strong>{first:%B %Y}</strong> | <a href="{escape(cmis_calendar_url(next_m.year, next_m.month))}">{next_m:%B %Y} &gt;</a></p>
            <table class="rgMasterTable" id="dnn_ctr397_MeetingCalendarPublicPrinter_grdRadMeeting_ctl00" summary="Meetings in {first:%B %Y}">
{chr(10).join(rows)}
            </table>
          </div>"""
    return _cmis_page(f"Meetings calendar - {first:%B %Y}", cmis_calendar_url(year, month), body)


def cmis_list_view(today: date | None = None) -> bytes:
    """``Meetings.aspx?ctl=MeetingCalendarListView&mid=397``: this month's meetings, a Telerik grid
    whose links read "9 Jul 2026 11:00 - Planning Committee"."""
    today = today or date.today()
    rows = []
    for n, m in enumerate(x for x in meetings(today, "cmis") if (x.day.year, x.day.month) == (today.year, today.month)):
        when = f"{m.day.day} {m.day:%b %Y}" + (f" {m.at:%H:%M}" if m.at else "")
        rows.append(
            f'<tr class="{"rgRow" if n % 2 == 0 else "rgAltRow"}" id="dnn_ctr397_MeetingCalendarPublicList_grdRadMeeting_ctl00__{n}">\n'
            f'  <td class="DateColumn"><a id="dnn_ctr397_MeetingCalendarPublicList_grdRadMeeting_ctl00_ctl{4 + 2 * n:02d}_lnkMeeting" '
            f'title="Click to view: {escape(m.committee)} - {when}" href="{escape(cmis_meeting_url(m))}">{escape(when)} - {escape(m.committee)}</a></td>'
            f"<td>{escape(m.venue.split(',')[0])}</td>\n</tr>"
        )
    body = f"""          <div class="CMIS_ModuleWrapper CM_ModuleWrapper MeetingCalendarListView">
            <table id="dnn_ctr397_MeetingCalendarPublicList_grdRadMeeting_ctl00" style="width:100%;table-layout:auto;empty-cells:show;">
              <colgroup><col /><col /></colgroup>
              <thead><tr><th scope="col" class="DateColumn rgHeader">Date/Start Time</th><th scope="col" class="rgHeader">Venue</th></tr></thead>
              <tbody>
{chr(10).join(rows)}
              </tbody>
            </table>
          </div>"""
    return _cmis_page("Meetings", f"{CMIS}/Meetings.aspx?ctl=MeetingCalendarListView&mid=397", body)


def cmis_meetings_page() -> bytes:
    """``Meetings.aspx``: the calendar module's buttons, which carry its module id (397)."""
    body = """          <div id="dnn_ctr397_MeetingCalendarPublic_pnlViewActions">
            <div class="UserEditActions">
              <input type="submit" name="dnn$ctr397$MeetingCalendarPublic$btnButtonListView" value="Meeting List View" id="dnn_ctr397_MeetingCalendarPublic_btnButtonListView" />
              <input type="submit" name="dnn$ctr397$MeetingCalendarPublic$btnButtonMeetingsRSS" value="Meetings RSS" id="dnn_ctr397_MeetingCalendarPublic_btnButtonMeetingsRSS" />
            </div>
          </div>"""
    return _cmis_page("Meetings", f"{CMIS}/Meetings.aspx", body)


def _cmis_doc_list(docs: tuple[Doc, ...], indent: str) -> str:
    lis = []
    for n, d in enumerate(docs):
        size = 40 + len(" ".join(d.lines)) // 8
        lis.append(
            f'{indent}  <li class="DocumentListItem">\n'
            f'{indent}    <img class="FileTypeImage" src="/birmingham/images/FileManager/Icons/pdf.gif" alt="pdf" />\n'
            f'{indent}    <a id="dnn_ctr397_ViewMeetingPublic_cmisPdfDocuments_rptDocuments_linkTitle_{n}" '
            f'title="Click to view \'{escape(d.title)}\'" class="TitleLink" href="{escape(cmis_document_url(d))}" '
            f'target="_blank">{escape(d.title)}</a>\n'
            f'{indent}    <span class="FileSize">({size}Kb)</span>\n'
            f"{indent}  </li>"
        )
    return f'{indent}<ol class="DocumentList">\n' + "\n".join(lis) + f"\n{indent}</ol>"


def cmis_meeting_page(m: Meeting, tab: str = "Documents") -> bytes:
    """A meeting's page: the labelled summary (as the real page: the Venue holder nested in the
    Status one, both values of class ``Value Venue``), the documents and the agenda items."""
    when = f"{m.day.day} {m.day:%b %Y}" + (f" - {m.at:%H:%M}" if m.at else "")
    parts = [
        f"""          <div class="DNNModuleContent ModCMISMeetingsC">
            <div id="dnn_ctr397_ViewMeetingPublic_pnlMeetingSummary">
              <h1>Meeting Details</h1>
              <div class="holder">
                <div class="DNNLabel CommitteeLabel"><div class="dnnLabel"><label><span>Committee:</span></label></div></div>
                <div class="Value Committee"><a href="/birmingham/Committees/tabid/62/ctl/ViewCMIS_CommitteeDetails/mid/383/id/{m.committee_id}/Default.aspx">{escape(m.committee)}</a></div>
              </div>
              <div class="holder">
                <div class="DNNLabel DateTimeLabel"><div class="dnnLabel"><label><span>Date/Time:</span></label></div></div>
                <div class="Value DateTime">{when}</div>
              </div>
              <div class="holder">
                <div class="DNNLabel VenueLabel"><div class="dnnLabel"><label><span>Status:</span></label></div></div>
                <div class="Value Venue">{escape(m.status)}</div>
                <div class="holder">
                  <div class="DNNLabel VenueLabel"><div class="dnnLabel"><label><span>Venue:</span></label></div></div>
                  <div class="Value Venue">
                    <a href="/birmingham/Meetings/tabid/70/ctl/MeetingVenueDetails/mid/397/VenueID/{13 + m.committee_id % 7}/Default.aspx">{escape(m.venue)}</a>
                  </div>
                </div>
              </div>
            </div>
            <ul class="MeetingTabs">"""
    ]
    for name in ("Summary", "Documents", "Attendance"):
        selected = ' class="selected"' if name == tab else ""
        parts.append(f'              <li{selected}><a href="{escape(cmis_meeting_url(m, name))}">{name}</a></li>')
    parts.append("            </ul>")
    if m.note:
        parts.append(f'            <div class="MeetingNote"><p>{escape(m.note)}</p></div>')
    if m.docs:
        parts.append(
            '            <div id="dnn_ctr397_ViewMeetingPublic_cmisPdfDocuments_pnlDocuments" class="CmisDocumentList">\n'
            "              <h2>Documents</h2>\n" + _cmis_doc_list(m.docs, "              ") + "\n            </div>"
        )
    if m.items:
        rows = []
        for i in m.items:
            desc = "".join(f"<p>{escape(t)}</p>" for t in i.text)
            docs = ("\n" + _cmis_doc_list(i.docs, "                      ")) if i.docs else ""
            rows.append(
                f'                  <tr class="AgendaItem" id="AgendaItem_{escape(i.number)}">\n'
                f'                    <td class="AgendaItemNumber">{escape(i.number)}</td>\n'
                f'                    <td class="AgendaItemDetails">\n'
                f'                      <p class="AgendaItemTitle">{escape(i.title)}</p>\n'
                f'                      <div class="AgendaItemDescription">{desc}</div>{docs}\n'
                "                    </td>\n                  </tr>"
            )
        parts.append(
            '            <div id="dnn_ctr397_ViewMeetingPublic_ucAgendaItems_pnlAgendaItems" class="CmisAgendaItems">\n'
            '              <h2>Agenda items</h2>\n              <table class="AgendaItems" summary="Agenda items">\n'
            "                <tbody>\n"
            + "\n".join(rows)
            + "\n                </tbody>\n              </table>\n            </div>"
        )
    if not m.docs and not m.items:
        text = (
            "This meeting has been cancelled."
            if m.status == "Cancelled"
            else "The agenda for this meeting has not been published yet."
        )
        parts.append(f'            <p class="NoDocuments">{text}</p>')
    parts.append("          </div>")
    title = f"Meeting Details - {m.committee} - {m.day.day} {m.day:%b %Y}"
    return _cmis_page(title, cmis_meeting_url(m, tab), "\n".join(parts))


_CMIS_CALENDAR_PATH = re.compile(
    r"^/birmingham/Meetings/tabid/70/ctl/MeetingCalendarPublicNoJava/mid/397/Date/(\d{4})-(\d{1,2})-(\d{1,2})/Default\.aspx$",
    re.I,
)
_CMIS_MEETING_PATH = re.compile(
    r"^/birmingham/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/(\d+)/Committee/(\d+)(?:/SelectedTab/(\w+))?/Default\.aspx$",
    re.I,
)


def serve_cmis(path_and_query: str) -> tuple[int, str, bytes] | None:
    """The demo server's handler for the CMIS host (see the module docstring). None: not a page of
    this site (the server answers 404)."""
    parts = urlsplit(path_and_query)
    path, query = unquote(parts.path), parts.query
    today = date.today()
    m = _CMIS_CALENDAR_PATH.match(path)
    if m:
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            return 404, HTML, _NOT_FOUND
        return 200, HTML, cmis_calendar_page(year, month, today)
    m = _CMIS_MEETING_PATH.match(path)
    if m:
        found = [x for x in meetings(today, "cmis") if x.id == int(m[1]) and x.committee_id == int(m[2])]
        if not found:
            return None
        return 200, HTML, cmis_meeting_page(found[0], (m[3] or "Documents").capitalize())
    if path.lower() == "/birmingham/meetings.aspx":
        q = {k.lower(): v[0] for k, v in parse_qs(query).items()}
        if q.get("ctl", "").lower() == "meetingcalendarlistview":
            return 200, HTML, cmis_list_view(today)
        return 200, HTML, cmis_meetings_page()
    if path.lower() == "/birmingham/document.ashx":
        token = parse_qs(query).get("czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo", [""])[0]
        for meeting in meetings(today, "cmis"):
            for doc in meeting.all_docs:
                if _cmis_token(doc.key) == token:
                    if doc.fails:
                        return 500, HTML, _ERROR_500
                    return 200, PDF, document_pdf(meeting, doc)
        return None
    return None


# --------------------------------------------------------------------------- ModernGov pages


def moderngov_meeting_url(m: Meeting) -> str:
    return f"{MG}/ieListDocuments.aspx?CId={m.committee_id}&MId={m.id}"


def _mg_day(d: date) -> str:
    suffix = "th" if 11 <= d.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
    return f"{d:%A}, {d.day}{suffix} {d:%B}, {d.year}"


def _mg_time(t: time | None) -> str:
    if t is None:
        return ""
    return f"{t.hour % 12 or 12}.{t.minute:02d} {'pm' if t.hour >= 12 else 'am'}"


def get_meetings_xml(committee_id: int, start: date, end: date, today: date | None = None) -> bytes:
    """The web service's ``GetMeetings`` answer: committees and their meetings in the range."""
    by_committee: dict[tuple[int, str], list[Meeting]] = {}
    for m in meetings(today, "moderngov"):
        if start <= m.day <= end and committee_id in (0, m.committee_id):
            by_committee.setdefault((m.committee_id, m.committee), []).append(m)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<getmeetings>",
        f"  <meetingscount> {sum(len(v) for v in by_committee.values())}</meetingscount>",
        f"  <committeescount> {len(by_committee)}</committeescount>",
    ]
    for (cid, title), ms in sorted(by_committee.items()):
        out += [
            "  <committee>",
            f"    <committeeid>{cid}</committeeid>",
            f"    <committeetitle>{escape(title)}</committeetitle>",
            f"    <committeemeetingcount> {len(ms)}</committeemeetingcount>",
            "    <committeemeetings>",
        ]
        for m in ms:
            out += [
                "      <meeting>",
                f"        <meetingid>{m.id}</meetingid>",
                f"        <meetingdate>{m.day:%d/%m/%Y}</meetingdate>",
                f"        <meetingstatus>{escape(m.status)}</meetingstatus>",
                f"        <meetingtime>{_mg_time(m.at)}</meetingtime>",
                "        <iswebcast>False</iswebcast>",
                "      </meeting>",
            ]
        out += ["    </committeemeetings>", "  </committee>"]
    out.append("</getmeetings>")
    return ("\n".join(out) + "\n").encode("utf-8")


def _mg_page(title: str, body: str) -> bytes:
    page = f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8" />
  <title>{escape(title)}</title>
  <link rel="stylesheet" href="SiteSpecific/ssMgStyles.css" />
</head>
<body>
  <header class="site-header"><a href="https://www.solihull.gov.uk/">Solihull Council</a></header>
  <main id="content">
    <div id="modgov">
{body}
    </div>
  </main>
  <footer class="site-footer"><a href="mgGeneric.aspx?MD=mgAccessibility">Accessibility</a> | Powered by ModernGov</footer>
</body>
</html>
"""
    return page.encode("utf-8")


def _mg_status_word(m: Meeting) -> str:
    return {"Cancelled": "CANCELLED", "Moved": "MOVED", "Rescheduled": "MOVED", "Postponed": "POSTPONED"}.get(
        m.status, ""
    )


def moderngov_month_view(year: int, month: int, today: date | None = None) -> bytes:
    """``mgCalendarMonthView.aspx?M=<m>&DD=<yyyy>``: a grid of ``td.mgCalendarCell``, one per day,
    each link titled "Cabinet, 10/12/2026 6.00 pm" (a status word after it when there is one)."""
    first = date(year, month, 1)
    by_day: dict[date, list[Meeting]] = {}
    for m in meetings(today, "moderngov"):
        by_day.setdefault(m.day, []).append(m)
    cells, d = [], first - timedelta(days=first.weekday())
    while d <= (first + timedelta(days=31)).replace(day=1) - timedelta(days=1) or d.weekday() != 0:
        links = "".join(
            f'<br /><a href="ieListDocuments.aspx?CId={m.committee_id}&amp;MId={m.id}" '
            f'title="{escape(m.committee)}, {m.day:%d/%m/%Y} {_mg_time(m.at)}{" " + _mg_status_word(m) if _mg_status_word(m) else ""}">'
            f"{escape(m.committee)}, {_mg_time(m.at)}{' ' + _mg_status_word(m) if _mg_status_word(m) else ''}</a>"
            for m in by_day.get(d, [])
            if d.month == month
        )
        cls = "mgCalendarCell" if d.month == month else "mgCalendarCell mgCalendarOtherMonth"
        cells.append(f'<td class="{cls}"><span class="mgCalendarDayNumber">{d.day}</span>{links}</td>')
        d += timedelta(days=1)
    weeks = ["<tr>" + "".join(cells[i : i + 7]) + "</tr>" for i in range(0, len(cells), 7)]
    head = "".join(f'<th scope="col">{n}</th>' for n in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
    body = f"""      <div class="mgHeader"><h1 class="mgMainTitleTxt">Monthly meetings calendar - {first:%B %Y}</h1></div>
      <div class="mgContent">
        <table class="mgCalendarMonthGrid" summary="Meetings in {first:%B %Y}">
          <tr>{head}</tr>
          {"".join(weeks)}
        </table>
      </div>"""
    return _mg_page(f"Monthly meetings calendar - {first:%B %Y}", body)


def _mg_doc_link(m: Meeting, d: Doc, cls: str = "", text: str | None = None) -> str:
    """A document link: its title (or, for an item's only document, the item's title) and size."""
    size = 40 + len(" ".join(d.lines)) // 8
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<a{klass} href="{escape(moderngov_document_path(m, d))}" title="{escape(d.title)}">'
        f'{escape(text or d.title)} <span class="mgFileSize">PDF {size} KB</span></a>'
    )


def moderngov_meeting_page(m: Meeting) -> bytes:
    """``ieListDocuments.aspx``: heading ``h2.mgSubTitleTxt`` "Cabinet - Thursday, 10th December,
    2026 6.00 pm", ``span.mgLabel`` Venue and Contact, the items of ``table.mgItemTable`` and the
    meeting's documents."""
    word = _mg_status_word(m)
    heading = f"{m.committee} - {_mg_day(m.day)} {_mg_time(m.at)}".rstrip()
    main = "Agenda and minutes" if m.minutes else "Agenda" if m.items else "Meeting details"
    title = f"Agenda for {m.committee} on {_mg_day(m.day)}, {_mg_time(m.at)}" + (f" - {word}" if word else "")
    parts = [
        f'      <div class="mgHeader"><h1 class="mgMainTitleTxt">{main}</h1></div>',
        f'      <h2 class="mgSubTitleTxt">{escape(heading)}</h2>',
        '      <div class="mgLinks"><ul class="mgActionList">'
        f'<li><a href="mgMeetingAttendance.aspx?ID={m.id}">Attendance details</a></li>'
        f'<li><a href="mgIssueHistoryHome.aspx?CId={m.committee_id}&amp;MId={m.id}">Issue history</a></li>'
        "</ul></div>",
    ]
    if m.status == "Cancelled":
        parts.append('      <p class="mgStatusTxt">This meeting has been cancelled.</p>')
    elif m.moved_from:
        parts.append(f'      <p class="mgStatusTxt">This meeting has been moved from {_mg_day(m.moved_from)}.</p>')
    parts += [
        f'      <p><span class="mgLabel">Venue: </span>{escape(m.venue)}</p>',
        '      <p><span class="mgLabel">Contact: </span>Democratic Services, 0121 704 6000</p>',
    ]
    if m.note:
        parts.append(f'      <p class="mgEditionTxt">{escape(m.note)}</p>')
    parts.append('      <div class="mgContent">')
    if m.items:
        rows = []
        for i in m.items:
            if len(i.docs) == 1:
                title = f'<p class="mgAiTitleTxt">{_mg_doc_link(m, i.docs[0], "mgAiTitleLnk", i.title)}</p>'
                extra = ""
            else:
                title = f'<p class="mgAiTitleTxt">{escape(i.title)}</p>'
                extra = (
                    (
                        '<p class="mgSubItemTitleTxt">Additional documents:</p><ul class="mgBulletList">'
                        + "".join(f"<li>{_mg_doc_link(m, d)}</li>" for d in i.docs)
                        + "</ul>"
                    )
                    if i.docs
                    else ""
                )
            text = f'<div class="mgWordPara">{"".join(f"<p>{escape(t)}</p>" for t in i.text)}</div>' if i.text else ""
            minutes = (
                '<p class="mgSubItemTitleTxt">Minutes:</p>'
                f'<div class="mgWordPara"><p>The {escape(m.committee)} considered the item.</p></div>'
                if m.minutes
                else ""
            )
            rows.append(
                f'<tr><td class="mgItemNumberCell"><p class="mgAiTitleTxt">{escape(i.number)}</p></td>'
                f"<td>{title}{extra}{text}{minutes}</td></tr>"
            )
        parts.append(
            '        <p class="mgSectionTitle">Items</p>\n'
            '        <table class="mgItemTable" summary="Agenda items">\n          '
            + "\n          ".join(rows)
            + "\n        </table>"
        )
    elif m.status != "Cancelled":
        parts.append("        <p>The agenda for this meeting has not been published yet.</p>")
    if m.docs:
        parts.append(
            '        <p class="mgSectionTitle">Supporting documents</p>\n        <ul class="mgBulletList">'
            + "".join(f"<li>{_mg_doc_link(m, d)}</li>" for d in m.docs)
            + "</ul>"
        )
    parts.append("      </div>")
    return _mg_page(title, "\n".join(parts))


def _mg_range(q: dict[str, str], key: str) -> date | None:
    value = q.get(key, "")
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def serve_moderngov(path_and_query: str) -> tuple[int, str, bytes] | None:
    """The demo server's handler for the ModernGov host (see the module docstring)."""
    parts = urlsplit(path_and_query)
    path = unquote(parts.path)
    low = path.lower()
    q = {k.lower(): v[0] for k, v in parse_qs(parts.query).items()}
    today = date.today()
    if low == "/mgwebservice.asmx/getmeetings":
        start, end = _mg_range(q, "sfromdate"), _mg_range(q, "stodate")
        if start is None or end is None or not q.get("lcommitteeid", "0").isdigit():
            return 500, HTML, _ERROR_500  # ASP.NET's answer to a missing or bad parameter
        return 200, XML, get_meetings_xml(int(q.get("lcommitteeid", "0")), start, end, today)
    if low == "/mgcalendarmonthview.aspx":
        month, year = q.get("m", str(today.month)), q.get("dd", str(today.year))
        if not (month.isdigit() and year.isdigit() and 1 <= int(month) <= 12):
            return 404, HTML, _NOT_FOUND
        return 200, HTML, moderngov_month_view(int(year), int(month), today)
    if low == "/ielistdocuments.aspx":
        mid = q.get("mid", "")
        for m in meetings(today, "moderngov"):
            if str(m.id) == mid and q.get("cid", str(m.committee_id)) == str(m.committee_id):
                return 200, HTML, moderngov_meeting_page(m)
        return None
    if low.startswith("/documents/"):
        for m in meetings(today, "moderngov"):
            for d in m.all_docs:
                if "/" + moderngov_document_path(m, d).lower() == low:
                    return (500, HTML, _ERROR_500) if d.fails else (200, PDF, document_pdf(m, d))
        return None
    return None


def main() -> int:
    for m in meetings():
        when = f"{m.day:%a %d %b %Y}" + (f" {m.at:%H:%M}" if m.at else "")
        print(f"{m.system:9} {m.id:6} {when:22} {m.status:11} {len(m.items):2} items  {m.committee}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
