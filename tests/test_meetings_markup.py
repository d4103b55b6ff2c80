# ruff: noqa: E501  (the real sites' URLs, whole)
"""The meeting-system parsers (scrapers.meetings_markup) on the demo's CMIS and ModernGov sites, served by
the real demo server and fetched through it as a proxy, and on fragments of the real markup
(docs/meetings-markup.md says where each was seen). The sites' meetings are dated relative to today
(demo/meetings.py), so the expectations are computed from demo.meetings, never written as dates."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import date, datetime, time, timedelta

import pytest

from carewatch.demo import meetings as demo
from carewatch.demo.server import DemoServer
from carewatch.scrapers import meetings_markup as mm

CMIS_BASE = "http://birmingham.cmis.uk.com.test/birmingham/Meetings.aspx"
MG_BASE = "http://solihull.moderngov.co.uk.test/"


@pytest.fixture(scope="module")
def server():
    with DemoServer() as s:
        yield s


@pytest.fixture(autouse=True)
def fresh_sites():
    demo.reset()
    yield
    demo.reset()


def fetch(server, url: str) -> tuple[int, str, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.proxy_url}))
    try:
        with opener.open(url, timeout=20) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def page(server, url: str) -> str:
    status, _, body = fetch(server, url)
    assert status == 200, url
    return body.decode("utf-8")


def months_around(today: date) -> list[tuple[int, int]]:
    """Last month, this month and the next two, as the fixture serves them."""
    index = today.year * 12 + today.month - 1
    return [(i // 12, i % 12 + 1) for i in range(index - 1, index + 3)]


def iso(m: demo.Meeting) -> str:
    return f"{m.day.isoformat()}T{m.at:%H:%M}" if m.at else m.day.isoformat()


def by_id(system: str) -> dict[str, demo.Meeting]:
    return {str(m.id): m for m in demo.meetings(system=system)}


def cmis_refs(server) -> dict[str, mm.MeetingRef]:
    refs: dict[str, mm.MeetingRef] = {}
    for year, month in months_around(date.today()):
        url = mm.cmis_calendar_url(CMIS_BASE, year, month)
        for ref in mm.cmis_calendar(page(server, url), url, year, month):
            assert ref.external_id not in refs, "a meeting appears on one month's page only"
            refs[ref.external_id] = ref
    return refs


def cmis_page(server, meeting_id: int) -> mm.MeetingPage:
    m = by_id("cmis")[str(meeting_id)]
    url = demo.cmis_meeting_url(m)
    return mm.cmis_meeting(page(server, url), url)


def mg_page(server, meeting_id: int) -> mm.MeetingPage:
    m = by_id("moderngov")[str(meeting_id)]
    url = demo.moderngov_meeting_url(m)
    return mm.moderngov_meeting(page(server, url), url)


# --------------------------------------------------------------------------- CMIS, served


def test_the_cmis_calendar_shows_every_meeting_with_its_committee_start_and_status(server):
    refs = cmis_refs(server)
    expected = by_id("cmis")
    assert set(refs) == set(expected) and len(refs) == 10
    for mid, ref in refs.items():
        m = expected[mid]
        assert ref.committee == m.committee
        assert ref.start == iso(m)
        assert ref.url == demo.cmis_meeting_url(m)
    assert {mid: r.status for mid, r in refs.items() if r.status} == {"31007": "Cancelled", "31008": "Rescheduled"}
    assert refs["31010"].start == expected["31010"].day.isoformat()  # printed without a time
    committees = {r.committee for r in refs.values()}
    assert committees == {
        "Cabinet",
        "City Council",
        "Education, Children and Young People Overview and Scrutiny Committee",
        "Corporate Parenting Board",
        "Licensing and Public Protection Committee",
    }


def test_something_children_related_is_coming_up_in_the_next_seven_days(server):
    today = date.today()
    soon = [
        r
        for r in cmis_refs(server).values()
        if today <= date.fromisoformat(r.start[:10]) <= today + timedelta(days=7) and r.status is None
    ]
    assert {r.committee for r in soon} >= {
        "Cabinet",
        "Corporate Parenting Board",
        "Education, Children and Young People Overview and Scrutiny Committee",
    }


def test_the_cmis_list_view_and_meetings_page(server):
    today = date.today()
    url = f"{CMIS_BASE}?ctl=MeetingCalendarListView&mid=397"
    refs = mm.cmis_calendar(page(server, url), url, today.year, today.month)
    this_month = {
        str(m.id): m for m in demo.meetings(system="cmis") if (m.day.year, m.day.month) == (today.year, today.month)
    }
    assert {r.external_id for r in refs} == set(this_month)
    assert all(r.start == iso(this_month[r.external_id]) for r in refs)
    assert 'name="dnn$ctr397$MeetingCalendarPublic$btnButtonListView"' in page(server, CMIS_BASE)


def test_a_cmis_agenda_numbered_in_order_with_its_documents_and_the_republished_note(server):
    p = cmis_page(server, 31004)
    assert (p.external_id, p.committee, p.status, p.status_text) == ("31004", "Cabinet", "scheduled", "Scheduled")
    assert p.start == iso(by_id("cmis")["31004"])
    assert p.venue == "Committee Room 2, Council House, Victoria Square, Birmingham, B1 1BB"
    assert [i.number for i in p.items] == ["1", "2", "3", "4", "5", "6", "7"]
    trust = p.items[4]
    assert trust.title == "BIRMINGHAM CHILDREN'S TRUST: CONTRACT REVIEW AND FUNDING SETTLEMENT 2027-2030"
    assert "variation to the service delivery contract" in trust.text
    assert [d.title for d in trust.documents] == [
        "Birmingham Children's Trust - Contract Review and Funding Settlement",
        "Appendix 1 - Contract Variation Schedule",
    ]
    assert p.items[5].title == "BUDGET 2027/28: CHILDREN'S SERVICES SAVINGS PROPOSALS"
    assert p.items[0].documents == () and p.items[0].text.startswith("The Chair to advise")
    assert [d.title for d in p.documents] == ["Agenda frontsheet", "Public reports pack", "Supplementary Agenda Pack"]
    assert p.published_note and p.published_note.startswith("Agenda republished on ")
    assert "Supplementary Agenda Pack" in p.published_note
    for d in (*trust.documents, *p.documents):
        status, ctype, body = fetch(server, d.url)
        assert (status, ctype, body[:5]) == (200, "application/pdf", b"%PDF-"), d.title
        assert "/birmingham/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=" in d.url


def test_the_cmis_document_that_fails_answers_500_and_the_others_200(server):
    p = cmis_page(server, 31005)
    report = p.items[3]
    assert report.title == "BIRMINGHAM CHILDREN'S TRUST ANNUAL REPORT 2025/26"
    assert "evidence from the Chief Executive of Birmingham Children's Trust" in report.text
    answers = {d.title: fetch(server, d.url)[0] for d in report.documents}
    assert answers == {
        "Birmingham Children's Trust Annual Report 2025-26": 200,
        "Appendix 2 - Performance Scorecard": 500,
    }


def test_cmis_cancelled_moved_and_held_meetings(server):
    cancelled = cmis_page(server, 31007)
    assert (cancelled.status, cancelled.status_text, cancelled.items, cancelled.documents) == (
        "cancelled",
        "Cancelled",
        (),
        (),
    )
    moved = cmis_page(server, 31008)
    assert (moved.status, moved.status_text) == ("moved", "Rescheduled")
    assert moved.start == iso(by_id("cmis")["31008"])
    held = cmis_page(server, 31001)
    assert (held.status, held.status_text) == ("held", "Occurred")
    assert "Printed minutes" in [d.title for d in held.documents]
    assert cmis_page(server, 31003).status == "scheduled"  # "Minutes of the last meeting" is an agenda paper


def test_a_cmis_meeting_without_agenda_yet_and_without_a_time(server):
    p = cmis_page(server, 31010)
    assert p.start == by_id("cmis")["31010"].day.isoformat()
    assert (p.items, p.documents, p.published_note, p.status) == ((), (), None, "scheduled")


def test_a_cmis_item_without_documents(server):
    p = cmis_page(server, 31003)
    last = p.items[-1]
    assert (last.number, last.title, last.documents) == ("5", "VOICE OF THE CHILD: CHILDREN IN CARE COUNCIL UPDATE", ())
    assert last.text == "A verbal update from members of the Children in Care Council."
    ofsted = p.items[2]
    assert [d.title for d in ofsted.documents] == [
        "Ofsted monitoring visit - covering report",
        "Ofsted monitoring visit letter",
    ]


def test_the_first_cmis_fixture_still_parses(server):
    """The older static page (a table of th/td summary rows) that the pdf_links source reads."""
    url = (
        "http://birmingham.cmis.uk.com.test/birmingham/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/"
        "Meeting/20831/Committee/1562/SelectedTab/Documents/Default.aspx"
    )
    p = mm.cmis_meeting(page(server, url), url)
    assert (p.external_id, p.committee, p.start, p.status) == (
        "20831",
        "Schools, Children and Families Overview and Scrutiny Committee",
        "2024-03-13T10:00",
        "scheduled",
    )
    assert p.venue == "Committee Rooms 3 & 4, Council House, Victoria Square, Birmingham, B1 1BB"
    assert [d.title for d in p.documents][0].startswith("Agenda frontsheet")
    assert all(fetch(server, d.url)[0] == 200 for d in p.documents)


def test_unknown_cmis_pages_are_404(server):
    assert (
        fetch(
            server, "http://birmingham.cmis.uk.com.test/birmingham/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=nope"
        )[0]
        == 404
    )
    gone = CMIS_BASE.replace(
        "Meetings.aspx", "Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/1/Committee/3/Default.aspx"
    )
    assert fetch(server, gone)[0] == 404


# --------------------------------------------------------------------------- changing the sites


def test_a_crawl_sees_a_meeting_moved_cancelled_and_republished(server):
    first = cmis_refs(server)
    before = cmis_page(server, 31006)
    new_start = datetime.combine(date.today() + timedelta(days=11), time(17, 30))

    demo.reschedule(31003, new_start)
    demo.cancel(31009)
    demo.republish(31006)

    second = cmis_refs(server)
    assert set(second) == set(first)
    assert (second["31003"].start, second["31003"].status) == (new_start.strftime("%Y-%m-%dT%H:%M"), "Rescheduled")
    assert second["31009"].status == "Cancelled"
    moved = cmis_page(server, 31003)
    assert (moved.status, moved.start) == ("moved", new_start.strftime("%Y-%m-%dT%H:%M"))
    assert [i.number for i in moved.items] == ["1", "2", "3", "4", "5"]  # the agenda goes with it
    assert cmis_page(server, 31009).status == "cancelled"
    after = cmis_page(server, 31006)
    assert before.published_note is None and after.published_note and "republished" in after.published_note
    added = [d for d in after.documents if d not in before.documents]
    assert [d.title for d in added] == ["Supplementary Agenda Pack 1"]
    assert fetch(server, added[0].url)[0] == 200
    assert before.documents == after.documents[: len(before.documents)]  # the old papers keep their URLs

    demo.republish(31006, "Supplementary report: Item 4 motion, officer advice")
    again = cmis_page(server, 31006)
    assert [d.title for d in again.documents[len(after.documents) :]] == [
        "Supplementary report: Item 4 motion, officer advice"
    ]
    assert again.published_note and again.published_note.endswith(
        "Supplementary report: Item 4 motion, officer advice added."
    )

    demo.reset()
    assert cmis_refs(server) == first
    assert cmis_page(server, 31006) == before


def test_moderngov_sites_change_too(server):
    demo.reschedule(4502, date.today() + timedelta(days=5))
    demo.republish(4503)
    p = mg_page(server, 4502)
    assert p.status == "moved" and p.start == f"{(date.today() + timedelta(days=5)).isoformat()}T18:00"
    assert "moved from" in (p.status_text or "")
    assert [d.title for d in mg_page(server, 4503).documents] == ["Supplementary agenda 1"]


# --------------------------------------------------------------------------- ModernGov, served


def mg_calendar(server, web_service: bool) -> dict[str, mm.MeetingRef]:
    refs: dict[str, mm.MeetingRef] = {}
    for year, month in months_around(date.today()):
        if web_service:
            url = mm.moderngov_calendar_url(MG_BASE, year, month)
        else:
            url = f"http://solihull.moderngov.co.uk.test/mgCalendarMonthView.aspx?M={month}&DD={year}"
        for ref in mm.moderngov_calendar(page(server, url), url):
            assert ref.external_id not in refs
            refs[ref.external_id] = ref
    return refs


def test_the_moderngov_web_service_calendar(server):
    refs = mg_calendar(server, web_service=True)
    expected = by_id("moderngov")
    assert set(refs) == set(expected) == {"4501", "4502", "4503", "4504"}
    for mid, ref in refs.items():
        m = expected[mid]
        assert (ref.committee, ref.start, ref.url) == (m.committee, iso(m), demo.moderngov_meeting_url(m))
    assert {mid: r.status for mid, r in refs.items()} == {
        "4501": "Confirmed",
        "4502": "Confirmed",
        "4503": "Cancelled",
        "4504": "Moved",
    }


def test_the_moderngov_month_view_agrees_with_the_web_service(server):
    html_refs = mg_calendar(server, web_service=False)
    ws_refs = mg_calendar(server, web_service=True)
    assert {k: (r.committee, r.start, r.url) for k, r in html_refs.items()} == {
        k: (r.committee, r.start, r.url) for k, r in ws_refs.items()
    }
    assert {k: r.status for k, r in html_refs.items() if r.status} == {"4503": "CANCELLED", "4504": "MOVED"}


def test_a_moderngov_agenda_numbered_in_order_with_its_documents(server):
    p = mg_page(server, 4502)
    assert (p.external_id, p.committee, p.status, p.status_text) == (
        "4502",
        "Children's Services, Education and Skills Scrutiny Board",
        "scheduled",
        None,
    )
    assert p.start == iso(by_id("moderngov")["4502"])
    assert p.venue == "Council Chamber, Council House, Manor Square, Solihull, B91 3QB"
    assert [i.number for i in p.items] == ["1", "2", "3", "4", "5"]
    visit = p.items[2]
    assert visit.title == "Ofsted Focused Visit: Children in Need and Child Protection"
    assert visit.text.startswith("The Board will receive the letter from Ofsted's focused visit")
    assert [d.title for d in visit.documents] == ["Ofsted Focused Visit Letter", "Focused Visit Action Plan"]
    single = p.items[3]  # one document: the item's title links to it
    assert [d.title for d in single.documents] == ["Sufficiency Strategy for Children in Care 2027-2030"]
    assert p.items[0].documents == () and p.items[0].text == ""
    assert [d.title for d in p.documents] == ["Agenda frontsheet", "Public reports pack", "Supplementary agenda"]
    assert p.published_note and p.published_note.startswith("Agenda republished on ")
    for d in (*visit.documents, *single.documents, *p.documents):
        assert "/documents/" in d.url and " " not in d.url
        status, ctype, body = fetch(server, d.url)
        assert (status, ctype, body[:5]) == (200, "application/pdf", b"%PDF-"), d.url


def test_moderngov_cancelled_moved_held_and_not_yet_published(server):
    cancelled = mg_page(server, 4503)
    assert (cancelled.status, cancelled.status_text, cancelled.items) == (
        "cancelled",
        "This meeting has been cancelled.",
        (),
    )
    moved = mg_page(server, 4504)
    assert moved.status == "moved" and moved.items == () and moved.documents == ()
    assert moved.start == iso(by_id("moderngov")["4504"])
    held = mg_page(server, 4501)
    assert held.status == "held" and "Printed minutes" in [d.title for d in held.documents]
    # the minutes printed under each item are not the item's text
    improvement = held.items[3]
    assert improvement.text.startswith("To note progress against the children's services improvement plan")
    assert "considered the item" not in improvement.text


def test_the_web_service_needs_its_dates(server):
    assert fetch(server, "http://solihull.moderngov.co.uk.test/mgWebService.asmx/GetMeetings?lCommitteeId=0")[0] == 500
    one = "http://solihull.moderngov.co.uk.test/mgWebService.asmx/GetMeetings?lCommitteeId=283&sFromDate=01/01/2000&sToDate=31/12/2099"
    refs = mm.moderngov_calendar(page(server, one), one)
    assert {r.committee for r in refs} == {"Cabinet"} and {r.external_id for r in refs} == {"4501", "4503"}


# --------------------------------------------------------------------------- the real markup's edge cases

# Trimmed from DemocracyClub/LGSF lgsf/minutes/tests/fixtures/cmis_calendar_month.html (Birmingham's CMIS)
REAL_CMIS_MONTH = """<table class="rgMasterTable" id="dnn_ctr397_MeetingCalendarPublicPrinter_grdRadMeeting_ctl00">
<tr class="rgRow"><td class="SimpleCalendarDate">Monday, 1 June</td><td></td></tr>
<tr class="rgAltRow"><td class="SimpleCalendarDate">Tuesday, 9 June</td><td>
 <p class="Meeting"><a href="https://birmingham.cmis.uk.com/birmingham/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/15029/Committee/7/SelectedTab/Documents/Default.aspx">10:00 Licensing Sub-Committee B</a></p>
 <p class="Meeting"><a href="https://birmingham.cmis.uk.com/birmingham/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/15030/Committee/7/SelectedTab/Documents/Default.aspx">12:00 Licensing Sub-Committee B</a></p>
</td></tr>
<tr class="rgRow"><td class="SimpleCalendarDate">Tuesday, 30 June</td><td>
 <p class="Meeting"><a href="/birmingham/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/15099/Committee/4/Default.aspx">Planning Committee</a></p>
</td></tr></table>"""


def test_a_real_cmis_month_takes_its_year_from_the_month_asked_for():
    url = "https://birmingham.cmis.uk.com/birmingham/Meetings/tabid/70/ctl/MeetingCalendarPublicNoJava/mid/397/Date/2027-06-01/Default.aspx"
    refs = mm.cmis_calendar(REAL_CMIS_MONTH, url, 2027, 6)
    assert [(r.external_id, r.committee, r.start, r.status) for r in refs] == [
        ("15029", "Licensing Sub-Committee B", "2027-06-09T10:00", None),
        ("15030", "Licensing Sub-Committee B", "2027-06-09T12:00", None),
        ("15099", "Planning Committee", "2027-06-30", None),  # no time printed
    ]
    assert refs[2].url == (
        "https://birmingham.cmis.uk.com/birmingham/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/15099/Committee/4/Default.aspx"
    )


def test_a_december_calendar_showing_january_days_gives_them_the_next_year():
    html = REAL_CMIS_MONTH.replace("Tuesday, 30 June", "Friday, 1 January").replace(
        "Tuesday, 9 June", "Wednesday, 9 December"
    )
    refs = mm.cmis_calendar(html, "https://birmingham.cmis.uk.com/x", 2026, 12)
    assert [r.start for r in refs] == ["2026-12-09T10:00", "2026-12-09T12:00", "2027-01-01"]


# from LGSF's cmis_listview.html
REAL_CMIS_LIST = """<table id="dnn_ctr397_MeetingCalendarPublicList_grdRadMeeting_ctl00"><tbody>
<tr class="rgRow"><td class="DateColumn"><a title="Click to view: Planning Committee - 9 Jul 2026 11:00 : 11:00"
 href="https://birmingham.cmis.uk.com/birmingham/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/15042/Committee/4/SelectedTab/Documents/Default.aspx">9 Jul 2026 11:00 - Planning Committee</a></td><td>Committee Rooms 3 &amp; 4</td></tr>
</tbody></table>"""

# from LGSF's cmis_meeting_summary.html: the Venue holder inside the Status one, both "Value Venue"
REAL_CMIS_SUMMARY = """<html><body><div class="DNNModuleContent ModCMISMeetingsC"><h1>Meeting Details</h1>
<div class="holder"><div class="DNNLabel CommitteeLabel"><div class="dnnLabel"><label><span>Committee:</span></label></div></div>
<div class="Value Committee">Licensing Sub-Committee A</div></div>
<div class="holder"><div class="DNNLabel DateTimeLabel"><div class="dnnLabel"><label><span>Date/Time:</span></label></div></div>
<div class="Value DateTime">3 Aug 2026 - 10:00</div></div>
<div class="holder"><div class="DNNLabel VenueLabel"><div class="dnnLabel"><label><span>Status:</span></label></div></div>
<div class="Value Venue">Scheduled</div>
<div class="holder"><div class="DNNLabel VenueLabel"><div class="dnnLabel"><label><span>Venue:</span></label></div></div>
<div class="Value Venue"><a href="http://birmingham.cmis.uk.com/birmingham/Meetings/tabid/70/ctl/MeetingVenueDetails/mid/397/VenueID/13/Default.aspx">On-line meeting</a></div></div></div>
<ul class="DocumentList CmisDocumentList"><li class="DocumentListItem">
<a class="TitleLink" href="/birmingham/Document.ashx?czJKcaeAi5tUFL1DTL2UE4sOqCLHzE2A">Minutes of the previous meeting</a></li></ul>
</div></body></html>"""


def test_the_real_cmis_list_view_and_summary():
    refs = mm.cmis_calendar(REAL_CMIS_LIST, "https://birmingham.cmis.uk.com/birmingham/Meetings.aspx", 2026, 7)
    assert [(r.external_id, r.committee, r.start) for r in refs] == [
        ("15042", "Planning Committee", "2026-07-09T11:00")
    ]
    url = "https://birmingham.cmis.uk.com/birmingham/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/15218/Committee/6/Default.aspx"
    p = mm.cmis_meeting(REAL_CMIS_SUMMARY, url)
    assert (p.external_id, p.committee, p.start, p.status, p.status_text, p.venue) == (
        "15218",
        "Licensing Sub-Committee A",
        "2026-08-03T10:00",
        "scheduled",  # the previous meeting's minutes are not this meeting's
        "Scheduled",
        "On-line meeting",
    )
    assert p.items == () and p.documents == (
        mm.DocumentRef(
            "Minutes of the previous meeting",
            "https://birmingham.cmis.uk.com/birmingham/Document.ashx?czJKcaeAi5tUFL1DTL2UE4sOqCLHzE2A",
        ),
    )


def test_a_page_that_is_not_a_meeting_is_refused():
    login = "<html><head><title>Login</title></head><body><form action='/birmingham/Login.aspx'></form></body></html>"
    with pytest.raises(ValueError):
        mm.cmis_meeting(login, "https://birmingham.cmis.uk.com/birmingham/Login.aspx")
    with pytest.raises(ValueError):
        mm.moderngov_meeting(login, "https://solihull.moderngov.co.uk/ieListDocuments.aspx?CId=1&MId=2")
    with pytest.raises(ValueError):
        mm.moderngov_meeting(login, "https://solihull.moderngov.co.uk/mgLogin.aspx")


# from LGSF's meetings.xml (a Manchester GetMeetings answer), with a meeting outside the range asked for
REAL_GETMEETINGS = """<?xml version="1.0" encoding="utf-8"?>
<getmeetings><meetingscount> 3</meetingscount><committeescount> 1</committeescount>
<committee><committeeid>144</committeeid><committeetitle>Audit Committee</committeetitle>
<committeemeetingcount> 3</committeemeetingcount><committeemeetings>
<meeting><meetingid>4966</meetingid><meetingdate>13/01/2026</meetingdate><meetingstatus>Cancelled</meetingstatus><meetingtime>10.00 am</meetingtime><iswebcast>False</iswebcast></meeting>
<meeting><meetingid>4967</meetingid><meetingdate>10/02/2026</meetingdate><meetingstatus>Confirmed</meetingstatus><meetingtime>2.30 pm</meetingtime><iswebcast>False</iswebcast></meeting>
<meeting><meetingid>4968</meetingid><meetingdate>24/02/2026</meetingdate><meetingstatus>Confirmed</meetingstatus><meetingtime></meetingtime><iswebcast>False</iswebcast></meeting>
<meeting><meetingid>3100</meetingid><meetingdate>10/02/2016</meetingdate><meetingstatus>Confirmed</meetingstatus><meetingtime>10.00 am</meetingtime></meeting>
</committeemeetings></committee></getmeetings>"""


def test_the_real_web_service_answer_and_its_ignored_date_range():
    url = mm.moderngov_calendar_url("https://democracy.manchester.gov.uk/mgCalendarMonthView.aspx", 2026, 2)
    assert url == (
        "https://democracy.manchester.gov.uk/mgWebService.asmx/GetMeetings?lCommitteeId=0"
        "&sFromDate=01/02/2026&sToDate=28/02/2026"
    )
    refs = mm.moderngov_calendar(REAL_GETMEETINGS, url)
    assert [(r.external_id, r.start, r.status) for r in refs] == [
        ("4967", "2026-02-10T14:30", "Confirmed"),
        ("4968", "2026-02-24", "Confirmed"),  # no time given
    ]
    assert refs[0].url == "https://democracy.manchester.gov.uk/ieListDocuments.aspx?CId=144&MId=4967"
    everything = "https://democracy.manchester.gov.uk/mgWebService.asmx/GetMeetings?lCommitteeId=144"
    assert [r.status for r in mm.moderngov_calendar(REAL_GETMEETINGS, everything)][0] == "Cancelled"


# the shape of a ModernGov meeting page as scrapers of Westminster, Kent and Oxford read it
REAL_MG_PAGE = """<html><head><title>Agenda for Planning Committee on Wednesday, 11th February, 2026, 3.00 pm</title></head>
<body><div id="modgov"><div class="mgHeader"><h1 class="mgMainTitleTxt">Agenda and decisions</h1></div>
<h2 class="mgSubTitleTxt">Planning Committee - Wednesday, 11th February, 2026 3.00 pm</h2>
<p><span class="mgLabel">Venue: </span>Town Hall, St Aldate's, Oxford OX1 1BX</p>
<a href="documents/g6439/Agenda frontsheet 11th-Feb-2026 15.00 Planning Committee.pdf">Agenda frontsheet PDF 132 KB</a>
<table class="mgItemTable">
<tr><td class="mgItemNumberCell"><p class="mgAiTitleTxt">5.</p></td><td>
 <p class="mgAiTitleTxt"><a class="mgAiTitleLnk" href="documents/s90579/Minutes.pdf">Minutes PDF 154 KB</a></p></td></tr>
<tr><td class="mgItemNumberCell"><p class="mgAiTitleTxt">6a</p></td><td>
 <p class="mgAiTitleTxt">Pimlico District HeatingPDF 500 KB</p>
 <ul class="mgActionList"><li><a href="ieDecisionDetails.aspx?AIId=3001">View the decision for item 6a</a></li></ul>
 <div class="mgWordPara">To consider additional expenditure for Pimlico District Heating.</div>
 <p class="mgSubItemTitleTxt">Decision:</p><div class="mgWordPara">Approved.</div></td></tr>
</table></div></body></html>"""


def test_the_real_moderngov_page_shape():
    url = "https://mycouncil.moderngov.co.uk/ieListDocuments.aspx?CId=130&MId=6439&Ver=4"
    p = mm.moderngov_meeting(REAL_MG_PAGE, url)
    assert (p.external_id, p.committee, p.start, p.venue, p.status) == (
        "6439",
        "Planning Committee",
        "2026-02-11T15:00",
        "Town Hall, St Aldate's, Oxford OX1 1BX",
        "scheduled",
    )
    assert [(i.number, i.title, i.text) for i in p.items] == [
        ("5", "Minutes", ""),
        ("6a", "Pimlico District Heating", "To consider additional expenditure for Pimlico District Heating."),
    ]
    assert p.items[0].documents == (
        mm.DocumentRef("Minutes", "https://mycouncil.moderngov.co.uk/documents/s90579/Minutes.pdf"),
    )
    assert p.items[1].documents == ()
    assert p.documents == (
        mm.DocumentRef(
            "Agenda frontsheet",
            "https://mycouncil.moderngov.co.uk/documents/g6439/Agenda%20frontsheet%2011th-Feb-2026%2015.00%20Planning%20Committee.pdf",
        ),
    )
    timeless = REAL_MG_PAGE.replace(" 3.00 pm</h2>", "</h2>")
    assert mm.moderngov_meeting(timeless, url).start == "2026-02-11"
    cancelled = REAL_MG_PAGE.replace("3.00 pm</title>", "3.00 pm - CANCELLED</title>")
    assert (mm.moderngov_meeting(cancelled, url).status, mm.moderngov_meeting(cancelled, url).status_text) == (
        "cancelled",
        "CANCELLED",
    )


@pytest.mark.parametrize(
    ("printed", "year", "iso_time"),
    [
        ("Wednesday, 9 December 2026 10.00 am", None, "2026-12-09T10:00"),
        ("9 Dec 2026 2:00 pm", None, "2026-12-09T14:00"),
        ("Thursday, 10th December, 2026 6.30 p.m.", None, "2026-12-10T18:30"),
        ("3 Aug 2026 - 10:00", None, "2026-08-03T10:00"),
        ("9 Jul 2026 11:00", None, "2026-07-09T11:00"),
        ("Wednesday, 13 March 2024 12 noon", None, "2024-03-13T12:00"),
        ("Tuesday, 1st September, 2026 12.30 pm", None, "2026-09-01T12:30"),
        ("Monday, 8 June 12.00 am", 2026, "2026-06-08T00:00"),
        ("13/01/2026", None, "2026-01-13"),
        ("Monday, 8 June", 2027, "2027-06-08"),
        ("Date to be confirmed", None, None),
    ],
)
def test_dates_as_the_real_sites_print_them(printed, year, iso_time):
    assert mm.parse_when(printed, default_year=year) == iso_time


def test_calendar_urls():
    assert mm.cmis_calendar_url(CMIS_BASE.replace("http://", "https://").replace(".test", ""), 2026, 12) == (
        "https://birmingham.cmis.uk.com/birmingham/Meetings/tabid/70/ctl/MeetingCalendarPublicNoJava/mid/397/Date/2026-12-01/Default.aspx"
    )
    hull = "https://cmis.hullcc.gov.uk/cmis/CalendarofMeetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/11151/Committee/3/Default.aspx"
    assert mm.cmis_calendar_url(hull, 2027, 1) == (
        "https://cmis.hullcc.gov.uk/cmis/CalendarofMeetings/tabid/70/ctl/MeetingCalendarPublicNoJava/mid/397/Date/2027-01-01/Default.aspx"
    )
    assert mm.moderngov_calendar_url(
        "http://ww5.swindon.gov.uk/moderngov/mgCalendarMonthView.aspx?XXR=0", 2026, 12
    ) == (
        "http://ww5.swindon.gov.uk/moderngov/mgWebService.asmx/GetMeetings?lCommitteeId=0&sFromDate=01/12/2026&sToDate=31/12/2026"
    )
    assert mm.moderngov_calendar_url("https://solihull.moderngov.co.uk", 2028, 2).endswith(
        "sFromDate=01/02/2028&sToDate=29/02/2028"
    )


def test_the_dataclasses_are_frozen():
    ref = mm.MeetingRef("u", "Cabinet", None, None, "1")
    with pytest.raises(AttributeError):
        ref.committee = "x"
