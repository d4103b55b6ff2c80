"""A generated demo site for back-fill: Birmingham UNISON (WordPress), ``birminghamunison.co.uk.test``.

The branch's news blog has 100 posts, one every five to six weeks or so from June 2024 back to
January 2013. About three in four are about members in Birmingham's children's services
(caseloads, pay, the move to Birmingham Children's Trust, ballots and strikes, Ofsted, budget
cuts); the rest are about other council services (refuse, libraries, home care, equal pay, youth
services, school support staff). Every text is composed from the sentence templates below, so
all names, figures and events are invented.

The posts are made by a deterministic generator: ``random.Random`` with fixed integer seeds, no
clock, no environment. Every page is the same bytes on every call and in every process.

The manifest routes the whole host to :func:`serve_unison` (a ``handler``/``prefix`` route), which
serves what a WordPress site serves:

- ``/feed/`` (and ``/feed``): RSS 2.0 with the newest 10 posts (``pubDate``, ``dc:creator``,
  ``category``, ``description`` excerpt and ``link``; no ``content:encoded``, so a crawler must
  follow the links). ``/feed/?paged=N`` is posts ``10(N-1)`` to ``10N-1``; past the last page
  (N > 10) it answers 404, as WordPress does.
- ``/YYYY/MM/DD/<slug>/`` (with or without the final slash; other query strings ignored): the
  post page. ``article.post``, ``h1.entry-title``, ``time.entry-date[datetime]``,
  ``div.entry-content``; then post navigation, a sidebar (search, Recent Posts with the 5 newest
  posts' titles, categories, archives, a "Join UNISON" box) and the footer, all outside
  ``.entry-content``.
- ``/`` and ``/page/N/``: archive pages of 4 posts each (``h2.entry-title a``, ``time[datetime]``,
  an excerpt), with the "Older posts" link as ``div.nav-previous a.next`` and "Newer posts" as
  ``div.nav-next a``. There are 25 pages; ``/page/26/`` is a 404.

Anything else on the host returns ``None`` (the demo server answers 404; ``/robots.txt`` is the
server's own).

Run ``python -m demo.backfill`` to print a summary of the generated posts.
"""

from __future__ import annotations

import functools
import random
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from urllib.parse import parse_qs, urlsplit

__all__ = ["BASE", "HOST", "Post", "posts", "serve_unison"]

HOST = "birminghamunison.co.uk.test"
BASE = f"http://{HOST}"
N_POSTS = 100
PER_FEED = 10
PER_ARCHIVE = 4
NEWEST = date(2024, 6, 18)
OLDEST = date(2013, 1, 10)
TRUST_START = date(2018, 4, 1)

HTML = "text/html; charset=UTF-8"
RSS = "application/rss+xml; charset=UTF-8"


# --------------------------------------------------------------------------- time


def _last_sunday(year: int, month: int) -> date:
    d = date(year, month + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def _london(utc: datetime) -> datetime:
    """UTC -> Europe/London (GMT/BST by the EU rule; no tz database needed)."""
    start = datetime.combine(_last_sunday(utc.year, 3), datetime.min.time(), UTC) + timedelta(hours=1)
    end = datetime.combine(_last_sunday(utc.year, 10), datetime.min.time(), UTC) + timedelta(hours=1)
    offset = timedelta(hours=1) if start <= utc < end else timedelta(0)
    return utc.astimezone(timezone(offset))


# --------------------------------------------------------------------------- people and places


def _secretary(d: date) -> str:
    return "Pat Connolly" if d < date(2019, 7, 1) else "Maureen Quigley"


def _convenor(d: date) -> str:
    return "Dave Brennan" if d < date(2020, 9, 1) else "Lewis Osei"


SW_STEWARD = "Shabana Akhtar"
OTHER_STEWARDS = {
    "refuse": ("Gary Hinds", "the branch’s steward for waste services"),
    "libraries": ("Jenny Walsh", "convenor for library and cultural services"),
    "homecare": ("Sue Parkes", "the branch’s home care steward"),
    "equalpay": ("Carol Bennett", "the branch’s equal pay lead"),
    "youth": ("Marcus Reid", "a youth worker and UNISON steward"),
    "schools": ("Angela Foster", "the branch’s schools convenor"),
}
VENUES = [
    "the Council House, Committee Room 6",
    "the UNISON office on Broad Street",
    "the Birmingham and Midland Institute",
    "the Quaker Meeting House in Bull Street",
    "Carrs Lane Church Centre",
    "the Priory Rooms",
]
TEAMS = [
    "child protection",
    "assessment",
    "children in care",
    "family support",
    "disabled children’s",
    "care leavers’",
    "Children’s Advice and Support Service",
    "fostering",
    "adoption",
    "early help",
]
AREAS = [
    "Erdington",
    "Northfield",
    "Hodge Hill",
    "Perry Barr",
    "Ladywood",
    "Hall Green",
    "Edgbaston",
    "Yardley",
    "Selly Oak",
    "Sutton Coldfield",
    "Kings Norton",
    "Small Heath",
]

PAY = {
    2013: "1%",
    2014: "2.2%",
    2015: "2.2%",
    2016: "1%",
    2017: "1%",
    2018: "2%",
    2019: "2%",
    2020: "2.75%",
    2021: "1.75%",
    2022: "£1,925",
    2023: "£1,925",
    2024: "£1,290",
}


def _employer(d: date) -> str:
    return "Birmingham City Council" if d < TRUST_START else "Birmingham Children’s Trust"


def _service(d: date) -> str:
    return "the council’s children’s services" if d < TRUST_START else "the trust"


# --------------------------------------------------------------------------- era context

ERAS = [
    (
        date(2013, 1, 1),
        [
            "Children’s services in Birmingham have been judged inadequate since 2009, and members feel they "
            "are carrying the blame for decisions taken far above them.",
            "Ofsted’s verdict on the city’s children’s services still hangs over every team, and the "
            "turnover of senior managers shows no sign of slowing.",
            "The council has announced yet another improvement plan for children’s social care, the fourth "
            "in as many years.",
        ],
    ),
    (
        date(2014, 6, 1),
        [
            "The government’s review of Birmingham’s children’s services has put the future of the whole "
            "service in doubt.",
            "Ministers are openly discussing taking children’s social care out of the council’s hands altogether.",
            "Members have been told little about what the government’s review will mean for their jobs.",
        ],
    ),
    (
        date(2015, 1, 1),
        [
            "With a government commissioner now overseeing children’s services, members want to know who is "
            "really in charge.",
            "The commissioner’s review is due to report this year, and the word ‘trust’ is being used more "
            "and more by senior managers.",
            "Talk of an independent trust for children’s social care has unsettled staff across the city.",
        ],
    ),
    (
        date(2016, 5, 24),
        [
            "Since the announcement that children’s social care will move to a voluntary trust, members have "
            "been asking what it means for their terms and conditions.",
            "The transfer of children’s services to a trust is now planned for 2018, and the branch is "
            "pressing for guarantees on pay, pensions and union recognition.",
            "Staff face the biggest change to their employment in a generation as the council prepares to "
            "hand children’s social care to a trust.",
        ],
    ),
    (
        TRUST_START,
        [
            "Since members transferred to Birmingham Children’s Trust in April 2018, the branch has worked "
            "to make sure that the trust honours every commitment it made.",
            "The trust is now the employer for more than 1,500 UNISON members, and the branch’s recognition "
            "agreement is being tested for the first time.",
            "Members who moved across to the trust under TUPE still have their council terms and conditions, "
            "and the branch intends to keep it that way.",
        ],
    ),
    (
        date(2020, 3, 23),
        [
            "Members have kept children safe throughout the pandemic, visiting families in person when much "
            "of the city was working from home.",
            "The coronavirus pandemic has changed the way social work is done, but it has not reduced the work.",
            "Lockdown has put families under enormous pressure, and referrals are now rising sharply.",
        ],
    ),
    (
        date(2021, 7, 19),
        [
            "Demand for children’s social care in the city is higher than it has ever been, and members are "
            "feeling it.",
            "With Ofsted due to inspect again, members are being asked to do more with the same resources.",
            "The cost of living crisis is hitting members’ own households as well as the families they work with.",
        ],
    ),
    (
        date(2023, 4, 18),
        [
            "Ofsted’s judgement that children’s services in Birmingham are now good was earned by members, "
            "and the branch wants that recognised.",
            "The good Ofsted judgement was built on manageable caseloads and a stable workforce, and members "
            "are determined to protect both.",
            "Members are proud of the Ofsted result, but they know how quickly progress can be lost.",
        ],
    ),
    (
        date(2023, 9, 5),
        [
            "Since the council issued its section 114 notice, every service has been told to find savings, "
            "and the trust is no exception.",
            "The council’s financial crisis is now being felt in every team, with commissioners overseeing "
            "spending decisions.",
            "The equal pay liabilities behind the council’s section 114 notice were the result of decades of "
            "discrimination against low-paid women workers, not of anything members did.",
        ],
    ),
]


def _era(d: date, rng: random.Random) -> str:
    pool = [s for start, s in ERAS if start <= d][-1]
    return rng.choice(pool)


# --------------------------------------------------------------------------- topics


@dataclass(frozen=True)
class Topic:
    key: str
    category: str
    titles: tuple[str, ...]
    leads: tuple[str, ...]
    details: tuple[str, ...]
    quotes: tuple[str, ...]
    demands: tuple[str, ...]
    extras: tuple[str, ...]
    children: bool = True


TOPICS = [
    Topic(
        "caseloads",
        "Children’s Services",
        (
            "Caseloads in {team} teams ‘unsafe’, members tell branch",
            "Survey: {pct}% of children’s social workers work unpaid overtime",
            "Branch calls for caseload cap in {service_short}",
            "{team_cap} social workers say enough is enough on workload",
            "Workload survey results: members speak out",
            "Caseloads: the numbers {employer_short} does not want you to see",
        ),
        (
            "Members in {team} teams have told the branch that they are holding up to {num} cases each, far "
            "above the level that allows safe practice.",
            "A survey of {n_resp} social workers and family support workers in {service} found that {pct}% "
            "regularly work more than ten hours a week unpaid.",
            "The branch has written to senior managers in {service} after members in {area} reported "
            "caseloads of more than {num} children.",
            "Social workers in the {team} teams say their workload has reached a point where they can no "
            "longer see children as often as they should.",
        ),
        (
            "Managers have promised a review of caseload weighting, but members have heard that promise before.",
            "Sickness absence in the {team} teams has risen to {sick}%, and members say stress is the main reason.",
            "Vacant posts are being covered by spreading cases across existing staff rather than by recruitment.",
            "Newly qualified social workers, who are supposed to have protected caseloads, report holding "
            "as many as {nq} cases.",
            "Members report that case notes are being written late at night and at weekends just to keep up.",
        ),
        (
            "Nobody comes into social work for an easy life, but we cannot keep children safe with "
            "caseloads like these.",
            "When a social worker has {num} cases, something has to give, and too often it is the time we "
            "spend with children.",
            "Members are exhausted. They are going home at night worrying about the children they have not "
            "been able to visit.",
            "We want to work with managers to fix this, but we will not stand by while members burn out.",
            "Every time an experienced colleague leaves, their cases land on someone else’s desk. It is a "
            "vicious circle.",
            "Good social work takes time. Caseloads like these take that time away.",
        ),
        (
            "The branch is calling for a maximum caseload of {cap} for social workers, with lower limits "
            "for newly qualified staff.",
            "The branch wants a joint review of workload with {employer}, with the results published to all staff.",
            "We are asking every member to record their hours for the next four weeks so that we can "
            "present the evidence to management.",
            "The branch will raise workload at the next joint consultative committee and has asked for an "
            "independent health and safety audit.",
        ),
        (
            "Members are reminded that they should raise workload concerns in supervision and record them in writing.",
            "If you are worried about your own workload, speak to your steward or contact the branch office "
            "in confidence.",
            "The branch’s workload survey remains open to all members in children’s social care.",
        ),
    ),
    Topic(
        "pay",
        "Pay",
        (
            "Pay offer for {year}: what it means for social care members",
            "Members back claim for social worker regrading",
            "Market supplement: branch demands fairness for all social workers",
            "Pay: {employer_short} must do better, says branch",
            "Consultation on the {year} pay offer opens",
            "Family support workers launch regrading campaign",
        ),
        (
            "The national pay offer of {pay} for {year} has been met with anger by members in children’s social care.",
            "The branch has lodged a claim for the regrading of family support workers, whose jobs have "
            "changed beyond recognition in the past five years.",
            "Members in {service} have voted overwhelmingly to back the branch’s claim for a fair market "
            "supplement for all qualified social workers.",
            "After years of pay restraint, members in children’s services say their pay no longer reflects "
            "the work they do.",
        ),
        (
            "Since 2010, the value of local government pay has fallen by around a quarter in real terms.",
            "Neighbouring authorities are paying experienced social workers up to £{gap} a year more, and "
            "members are leaving to take those jobs.",
            "The market supplement paid to some teams but not others has caused resentment across the service.",
            "Family support workers now carry out assessments and direct work that used to be done by "
            "qualified staff, without any change in grade.",
            "Agency social workers doing the same job are often paid half as much again as permanent staff.",
        ),
        (
            "Members are not asking for special treatment. They are asking to be paid fairly for a "
            "difficult and skilled job.",
            "We keep being told that there is no money, but there is always money for agency staff.",
            "If {employer_short} wants to keep experienced social workers, it has to pay them properly.",
            "Family support workers are the backbone of this service, and it is time their grade reflected that.",
            "A pay offer below inflation is a pay cut, however it is dressed up.",
            "Members have shown that they are prepared to stand together on pay.",
        ),
        (
            "The branch is urging all members to vote in the consultation and to reject the offer.",
            "The branch has asked for job evaluation of all family support worker roles to be completed by "
            "the end of the year.",
            "The branch wants any market supplement to be paid to every qualified social worker, not only "
            "those in hard-to-fill teams.",
            "We have asked {employer} to meet us to negotiate a local pay and retention package.",
        ),
        (
            "Check that your contact details are up to date so that you receive your ballot paper.",
            "Members can find the full details of the offer on the national UNISON website or from their steward.",
            "Stewards will be holding workplace meetings in all the main offices over the next fortnight.",
        ),
    ),
    Topic(
        "trust",
        "Campaigns",
        (
            "No to the privatisation of children’s social care",
            "What the trust means for your job: branch briefing",
            "Trust transfer: branch wins key guarantees",
            "Public meeting: children’s services are not for sale",
            "Transfer to the trust: questions members are asking",
            "Branch responds to trust consultation",
        ),
        (
            "The branch has launched a campaign against any move to take children’s social care out of the "
            "council’s control.",
            "Members packed a meeting at {venue} to hear what the proposed trust will mean for their jobs, "
            "pay and pensions.",
            "After months of negotiations, the branch has secured written guarantees on recognition, "
            "pensions and facility time ahead of the transfer to the trust.",
            "The branch has submitted its response to the consultation on the new arrangements for "
            "children’s services, setting out members’ concerns.",
        ),
        (
            "A trust may be owned by the council to begin with, but there is nothing to stop a future "
            "government opening it up to private providers.",
            "The branch worked with campaigners to draw up a declaration against the privatisation of "
            "children’s social care.",
            "Staff will transfer under TUPE, which protects their existing terms and conditions, but only "
            "for as long as the law allows.",
            "The branch has insisted that members remain in the local government pension scheme after any transfer.",
            "Experience elsewhere shows that changing the structure of a service does not, on its own, improve it.",
        ),
        (
            "Children’s services need stability and investment, not another reorganisation.",
            "Our members did not fail the children of Birmingham. Years of cuts and constant restructuring did.",
            "Whatever the name over the door, our members will keep working for the children of this city, "
            "and we will keep fighting for them.",
            "We have won important guarantees, but we will be watching closely to make sure they are kept.",
            "Nobody has been able to explain how a trust will reduce caseloads or fill vacancies.",
            "This is about who controls a vital public service, and whether it remains accountable to the "
            "people of Birmingham.",
        ),
        (
            "The branch is calling for children’s services to remain a directly provided public service, "
            "properly funded by central government.",
            "The branch will continue to press for a full recognition agreement and for all members to keep "
            "their council terms and conditions.",
            "We are asking members to sign the declaration and to encourage colleagues to join UNISON.",
            "The branch wants the trust to commit to no compulsory redundancies and to maintain facility "
            "time for stewards.",
        ),
        (
            "Members with questions about the transfer should speak to their steward or come to one of the "
            "branch’s drop-in sessions.",
            "A copy of the branch’s full briefing is available from the branch office.",
            "The campaign is supported by Birmingham Against the Cuts and the West Midlands Social Work "
            "Action Network.",
        ),
    ),
    Topic(
        "strikes",
        "Strikes",
        (
            "Ballot result: {team} members vote for action",
            "Social workers vote to strike over {issue}",
            "Action short of a strike begins on {weekday}",
            "Picket lines solid on first day of action",
            "Strike suspended as talks resume",
            "Indicative ballot: have your say",
        ),
        (
            "Members in {service} have voted by {pct}% for industrial action over {issue}, on a turnout of {turnout}%.",
            "Picket lines were solid outside offices in {area} and the city centre as members took action "
            "over {issue}.",
            "Members in the {team} teams will begin action short of a strike on {weekday}, refusing to "
            "cover vacant posts.",
            "Following an indicative ballot, the branch is preparing for a formal ballot of members in "
            "{service} over {issue}.",
        ),
        (
            "Emergency cover has been agreed so that children at risk of harm will continue to be protected "
            "during any action.",
            "Management has refused to negotiate, leaving members with no choice but to ballot.",
            "The ballot met the thresholds set by the Trade Union Act, a sign of how strongly members feel.",
            "Members from other branches and from the trades council joined the picket lines to show their support.",
            "Talks through ACAS broke down after management withdrew its offer at the last minute.",
        ),
        (
            "Nobody wants to take action, least of all social workers, but members have been pushed to the limit.",
            "This dispute could be settled tomorrow if management were prepared to listen.",
            "The support we have had from families and the public has been overwhelming.",
            "Members have shown incredible unity. Management should take note.",
            "We have always said that we will protect children at risk during any action, and we have.",
            "A vote this strong cannot be ignored.",
        ),
        (
            "The branch is calling on {employer} to return to the negotiating table with a serious offer on {issue}.",
            "The branch has written to all councillors asking them to intervene to settle the dispute.",
            "Further action will be announced if there is no progress in talks.",
            "The branch will ballot members again if management does not make an acceptable offer.",
        ),
        (
            "Members taking action can claim strike pay from the branch; forms are available from stewards.",
            "Messages of support can be sent to the branch office.",
            "Picket line rotas are available from your steward.",
        ),
    ),
    Topic(
        "ofsted",
        "Children’s Services",
        (
            "Ofsted: credit where it is due",
            "Ofsted visit: branch advice for members",
            "Ofsted report shows members’ hard work",
            "Inspection: members deserve support, not blame",
            "Ofsted monitoring visit: what members need to know",
        ),
        (
            "Ofsted inspectors are in {service} this week, and the branch has issued advice to members.",
            "The latest Ofsted report on children’s services in Birmingham recognises the commitment of "
            "frontline staff.",
            "Following the publication of Ofsted’s latest letter, the branch has called on senior managers "
            "to listen to members.",
            "Inspectors will be speaking to social workers and looking at case files as part of a "
            "monitoring visit to {service}.",
        ),
        (
            "Members should answer inspectors’ questions honestly and should not feel pressured to present "
            "their work in a particular way.",
            "The report highlights high caseloads and the number of changes of social worker as problems, "
            "something the branch has raised for years.",
            "Inspectors praised the way social workers build relationships with children and families.",
            "Previous inspections have been followed by a wave of restructuring and blame; members do not "
            "want to see that again.",
        ),
        (
            "Inspectors have seen what we see every day: social workers who care deeply about the children "
            "they work with.",
            "If managers want to improve the next Ofsted judgement, they should start by fixing caseloads.",
            "The credit for any improvement belongs to frontline staff who have stuck with the service "
            "through very difficult years.",
            "Members should not be made to carry the can for problems caused by cuts and vacancies.",
        ),
        (
            "The branch is asking managers to make sure that members are given time to prepare and are not "
            "asked to work extra hours during the inspection.",
            "The branch wants the action plan that follows the report to be agreed with the unions.",
            "We will be asking for a meeting with the director to discuss what the report means for workloads.",
        ),
        (
            "Any member who feels unfairly treated during the inspection should contact their steward.",
            "A copy of the report is available on the Ofsted website.",
        ),
    ),
    Topic(
        "cuts",
        "Cuts",
        (
            "Budget {year}: children’s services cuts will cost more in the long run",
            "Early help cuts: members warn of rising risk",
            "Children’s centres: branch joins campaign against closures",
            "Savings plan puts family support at risk",
            "Cuts consultation: branch response",
        ),
        (
            "The council’s budget proposals for {year} include cuts of £{cut}m to services for children and families.",
            "Members in early help and family support teams have warned that proposed cuts will leave more "
            "families without support until they reach crisis point.",
            "The branch has joined parents and campaigners opposing the closure of children’s centres in "
            "{area} and across the city.",
            "The savings plan drawn up by {employer} for {year} would remove {posts} posts from family "
            "support and early help.",
        ),
        (
            "Cuts to early help simply move the cost to child protection and care, where it is far higher.",
            "Central government funding for the council has fallen by hundreds of millions of pounds since 2010.",
            "The proposals also include reductions in business support, which will push more administrative "
            "work on to social workers.",
            "Families in the poorest parts of the city will be hit hardest.",
        ),
        (
            "Every pound taken out of early help today will cost several pounds in children’s social care tomorrow.",
            "Our members see the consequences of these cuts every day, in the families who come to us too late.",
            "We understand the financial pressures, but these cuts are a false economy.",
            "Children and families did not cause this crisis and should not be made to pay for it.",
        ),
        (
            "The branch is calling on councillors to reject the cuts and to demand fair funding from "
            "central government.",
            "The branch will oppose any compulsory redundancies and is asking for every affected member to "
            "be offered redeployment.",
            "We are asking members to respond to the consultation and to attend the lobby of the budget meeting.",
        ),
        (
            "The lobby of the council’s budget meeting will take place outside the Council House from 1pm.",
            "Members affected by the proposals should contact the branch for advice.",
            "The branch’s response to the consultation is available from stewards.",
        ),
    ),
    Topic(
        "agency",
        "Social Work",
        (
            "Agency spending: the cost of not valuing permanent staff",
            "Recruitment and retention: branch sets out its plan",
            "Social worker vacancies hit {vac}%",
            "Newly qualified social workers: support must be real",
            "Why are experienced social workers leaving?",
        ),
        (
            "Figures obtained by the branch show that {service} spent more than £{agency}m on agency social "
            "workers last year.",
            "Around {vac}% of social worker posts in {service} are vacant or filled by agency staff.",
            "The branch has set out a plan to recruit and keep experienced social workers, after another "
            "year of high turnover.",
            "Newly qualified social workers have told the branch that the protected caseloads they were "
            "promised have not materialised.",
        ),
        (
            "Exit interviews show that workload and a lack of flexible working are the main reasons social "
            "workers leave.",
            "Children tell inspectors that changing social worker is one of the hardest things about being in care.",
            "Agency staff are valued colleagues, but a service that depends on them cannot offer children stability.",
            "The social work academy has brought in talented new staff, but too many leave within two years.",
        ),
        (
            "Every experienced social worker who walks out of the door takes years of knowledge with them.",
            "We need to make Birmingham a place where social workers want to build their careers.",
            "The money spent on agency staff would pay for a lot of permanent posts and a lot of support.",
            "Newly qualified staff need time, supervision and a manageable caseload. That is what keeps them.",
        ),
        (
            "The branch is calling for a retention payment for experienced social workers and a clear "
            "career progression scheme.",
            "The branch wants flexible working to be available to every social worker, not only at "
            "managers’ discretion.",
            "We are asking {employer} to publish its agency spending every quarter.",
        ),
        (
            "Members who are thinking of leaving are encouraged to talk to their steward first.",
            "The branch’s full recruitment and retention proposals are available on request.",
        ),
    ),
    Topic(
        "safety",
        "Health and Safety",
        (
            "Lone working: members demand proper safety measures",
            "Violence against social workers must be taken seriously",
            "Stress survey: {pct}% of members report work-related stress",
            "Office moves: health and safety concerns raised",
            "Home visits: branch issues safety guidance",
        ),
        (
            "A survey of members in {service} found that {pct}% had been verbally abused or threatened in "
            "the past year.",
            "The branch has raised concerns about lone working after a member was assaulted during a home "
            "visit in {area}.",
            "Members in {service} report record levels of work-related stress, according to the branch’s "
            "latest survey.",
            "The move of {team} teams to a new office in {area} has left members without safe parking or enough desks.",
        ),
        (
            "Many incidents are never reported because members feel nothing will be done.",
            "The lone-working devices issued to staff are out of date and often do not work.",
            "Stress is the biggest single cause of sickness absence in children’s social care.",
            "Under health and safety law, the employer has a duty to assess and reduce the risks to staff.",
        ),
        (
            "Nobody should go to work worrying about whether they will come home safely.",
            "Members accept that the job has risks, but the employer has a duty to reduce them.",
            "Stress is not a personal failing. It is a sign that the workload is not safe.",
            "We want a culture where every incident is reported and every report is acted on.",
        ),
        (
            "The branch is calling for a full review of lone-working arrangements and for every member to "
            "have a working safety device.",
            "The branch has asked for stress risk assessments to be carried out in every team.",
            "We want incident reports to be reviewed jointly with the union every quarter.",
        ),
        (
            "Report every incident, however minor, and send a copy to your safety representative.",
            "The branch is looking for new health and safety representatives in children’s services; "
            "training is provided.",
        ),
    ),
]

OTHER_TOPICS = [
    Topic(
        "refuse",
        "Council Services",
        (
            "Refuse collection changes: branch raises concerns",
            "Waste workers: job losses must be resisted",
            "Bin collection review: what members need to know",
            "Depot members reject new collection rounds",
        ),
        (
            "The council’s review of refuse collection would remove {posts} posts and change shift patterns "
            "across the city’s depots.",
            "Members at the city’s waste depots have told the branch that changes to collection rounds are "
            "being pushed through without proper consultation.",
            "Crews at the Lifford Lane and Tyseley depots have been told that their working week will "
            "change from next month.",
            "The branch has received a formal notice of proposed changes to the waste collection service, "
            "affecting around {n_staff} members.",
        ),
        (
            "The proposals would end the grade for leading hands, costing some members thousands of pounds a year.",
            "Residents in {area} have already seen missed collections as rounds have been reorganised.",
            "Agency workers are being used to cover permanent vacancies at the depots, some of them for "
            "more than a year.",
            "Members say that the new rounds are longer and that the vehicles are older and less reliable.",
        ),
        (
            "Our members keep this city clean in all weathers. They deserve to be treated with respect.",
            "These changes are about cutting costs, not improving the service.",
            "Nobody has explained how longer rounds with fewer crews will mean fewer missed collections.",
            "Leading hands carry responsibility for safety on every round. Taking away their grade is an insult.",
        ),
        (
            "The branch is calling for the proposals to be withdrawn and for proper negotiations to begin.",
            "The branch will support members in any action they decide to take.",
            "The branch wants every leading hand’s pay protected and an independent review of the new rounds.",
        ),
        (
            "Members at the depots should contact the branch’s waste services steward.",
            "A depot meeting for all shifts will be arranged as soon as possible.",
        ),
        children=False,
    ),
    Topic(
        "libraries",
        "Council Services",
        (
            "Library cuts: branch backs campaign to keep libraries open",
            "Community libraries under threat",
            "Library opening hours: members’ concerns",
            "Library staff face restructure",
        ),
        (
            "The council is proposing to reduce opening hours at community libraries across the city, "
            "including in {area}.",
            "Library staff face redundancy under plans to hand some community libraries to volunteers.",
            "Members in the library service have been told that {posts} posts will be deleted in a "
            "restructure of community libraries.",
            "A consultation on the future of the city’s {n_libs} community libraries closes at the end of the month.",
        ),
        (
            "Libraries are one of the few free, warm, safe public spaces left in many neighbourhoods.",
            "Volunteers do valuable work, but they cannot replace trained library staff.",
            "Many library users come in to get online, to apply for jobs and benefits, or to find help with forms.",
            "The mobile library and the home delivery service for housebound readers are also under review.",
        ),
        (
            "Closing libraries is a short-term saving with a long-term cost for the whole community.",
            "Our members are proud of the service they provide and want to keep providing it.",
            "A library is not just a room full of books. It is a lifeline for people with nowhere else to go.",
            "Library workers have already absorbed years of cuts. There is nothing left to give.",
        ),
        (
            "The branch is calling on the council to keep every community library open with paid staff.",
            "The branch will oppose any compulsory redundancies.",
            "The branch wants a full equality impact assessment published before any decision is taken.",
        ),
        (
            "Library users can sign the campaign petition at their local library.",
            "Members affected by the restructure can get one-to-one advice from the branch.",
        ),
        children=False,
    ),
    Topic(
        "homecare",
        "Council Services",
        (
            "Home care: branch fights for enablement staff",
            "Home care workers’ rotas ‘unworkable’",
            "Home care changes: members vote to reject new terms",
            "Enablement service: members demand proper consultation",
        ),
        (
            "Home care workers in the council’s enablement service face cuts to their hours and changes to "
            "their shift patterns.",
            "Members in the home care enablement service have rejected proposed new rotas that would split "
            "their working day.",
            "The council has proposed to move {posts} home care workers on to new contracts with fewer "
            "guaranteed hours.",
            "Enablement workers in {area} say they have not been consulted on plans to reorganise their service.",
        ),
        (
            "Many of the members affected are low-paid women who have worked for the council for decades.",
            "Older and disabled people in {area} rely on the service to leave hospital and stay in their own homes.",
            "Travel time between visits is not being counted as working time, which members say is unfair.",
            "Members say they are being asked to fit more visits into each shift, leaving less time with each person.",
        ),
        (
            "Our members care for some of the most vulnerable people in the city, and they are being "
            "treated appallingly.",
            "Split shifts would make it impossible for members with caring responsibilities to keep their jobs.",
            "Fifteen-minute visits are not care. Our members know that, and so does everyone who receives them.",
            "The enablement service gets people home from hospital and keeps them there. It should be "
            "expanded, not cut.",
        ),
        (
            "The branch is calling for the proposals to be withdrawn and for proper negotiations to begin.",
            "The branch will support members in any action they decide to take.",
            "The branch wants travel time to be paid and a guaranteed minimum number of hours for every worker.",
        ),
        (
            "Home care members should contact the branch’s home care steward for advice.",
            "A meeting for home care members will be held at a time to suit early and late shifts.",
        ),
        children=False,
    ),
    Topic(
        "equalpay",
        "Equal Pay",
        (
            "Equal pay: members must not pay the price",
            "Equal pay claims: what you need to know",
            "Job evaluation: branch demands transparency",
            "Equal pay settlement: branch briefing",
        ),
        (
            "The council’s latest estimate of its equal pay liability has renewed members’ concerns about "
            "how claims will be settled.",
            "Members who believe they may have an equal pay claim are urged to contact the branch.",
            "The council has announced a review of its job evaluation scheme, the basis of every grade in "
            "the authority.",
            "The branch has held {n_att} one-to-one equal pay advice sessions for members since {prev_month}.",
        ),
        (
            "Equal pay claims arise because women in jobs such as catering, cleaning and care were paid "
            "less than men in comparable jobs.",
            "Settling the claims must not become an excuse for cutting the pay of other members.",
            "Bonus payments that were paid to some largely male groups but not to comparable female groups "
            "are at the heart of the claims.",
            "Claims can be brought up to six years after leaving a job, so former employees may also be affected.",
        ),
        (
            "Women workers in this city were underpaid for years. They are owed that money.",
            "The council’s problems are the result of its own failures, not the claims of low-paid women.",
            "A job evaluation scheme only works if people can see how it works.",
            "Nobody should lose out because the council got its pay system wrong.",
        ),
        (
            "The branch is calling for a fair job evaluation scheme, agreed with the unions.",
            "The branch wants the council to settle outstanding claims quickly and in full.",
            "The branch wants every member to receive a written explanation of how their grade was decided.",
        ),
        (
            "Members can get advice on equal pay from the branch office.",
            "The branch’s equal pay briefing is available from stewards and at the branch office.",
        ),
        children=False,
    ),
    Topic(
        "youth",
        "Council Services",
        (
            "Youth service cuts: young people will pay the price",
            "Youth centres: members join lobby of councillors",
            "Detached youth work under threat",
            "Youth workers say no to closures",
        ),
        (
            "The council’s budget proposals would close youth centres across the city, including in {area}.",
            "Youth workers have joined young people to lobby councillors against cuts to the youth service.",
            "Plans to end the council’s detached youth work programme would leave {area} without any "
            "street-based youth workers.",
            "Youth workers have been told that {posts} posts will go in the next round of savings.",
        ),
        (
            "Detached youth work reaches young people who would never walk into a council office.",
            "The youth service budget has already been cut by more than half since 2010.",
            "Young people from {area} spoke at the lobby about what their youth club means to them.",
            "The youth service also runs the city’s youth council and its programme for young carers.",
        ),
        (
            "Youth workers are often the only trusted adult in a young person’s life.",
            "Closing youth centres will put more pressure on schools, the police and the social workers who "
            "pick up the pieces.",
            "Young people have been let down enough. They deserve somewhere safe to go.",
            "Every youth centre that closes is a door shut on a young person who needed it.",
        ),
        (
            "The branch is calling on the council to protect youth services from further cuts.",
            "The branch wants any youth centre that closes to be offered to a community organisation, not sold.",
            "The branch will oppose compulsory redundancies in the youth service.",
        ),
        (
            "Youth workers can contact the branch for advice about the proposals.",
            "Young people and parents are welcome to join the campaign.",
        ),
        children=False,
    ),
    Topic(
        "schools",
        "Schools",
        (
            "School support staff: pay and hours under attack",
            "Teaching assistants reject changes to contracts",
            "Academy transfers: protect support staff",
            "School cleaners and caterers: branch wins back pay",
        ),
        (
            "Teaching assistants in a number of Birmingham schools have been told that their hours will be cut.",
            "Support staff at schools converting to academies in {area} are seeking guarantees on their "
            "terms and conditions.",
            "The branch has won back pay for {n_staff} school cleaners and catering staff who were wrongly "
            "paid below their grade.",
            "Support staff in {n_schools} schools have been asked to sign new contracts with fewer paid weeks.",
        ),
        (
            "Most school support staff are paid for term time only and earn far less than many people assume.",
            "Support staff transferring to academy trusts are protected by TUPE, but only for their existing terms.",
            "Teaching assistants now do much of the work with pupils who need extra support.",
            "Many support staff also work as midday supervisors, often on a separate contract.",
        ),
        (
            "Teaching assistants are essential to children’s education, especially for children with "
            "special educational needs.",
            "Our members deserve the same respect as every other member of a school’s staff.",
            "Cleaners and cooks keep schools running. They should be paid what they are owed.",
            "An academy conversion should not be a licence to cut support staff pay.",
        ),
        (
            "The branch is calling on head teachers and governors to consult properly with the unions.",
            "The branch wants every school to use the council’s agreed pay scales for support staff.",
            "The branch will support members in any school where contracts are changed without agreement.",
        ),
        (
            "School support staff can contact the branch’s schools convenor for advice.",
            "A meeting for school support staff will be held after school hours.",
        ),
        children=False,
    ),
]

ISSUES = [
    "caseloads",
    "the market supplement",
    "lone working",
    "office closures",
    "the regrading of family support workers",
    "the use of agency staff",
    "changes to flexible working",
]
GENERAL = (
    "Not a member yet? Join UNISON today and make sure you have the protection of the union at work.",
    "The branch represents members across the council, the trust, schools and the wider public sector in Birmingham.",
    "The more members we have, the stronger our voice in negotiations.",
    "Stewards are the backbone of the branch. If you would like to become a steward, training and "
    "support are available.",
)


# --------------------------------------------------------------------------- posts


@dataclass(frozen=True)
class Post:
    index: int  # 0 = newest
    post_id: int
    published: datetime  # Europe/London time with its offset
    slug: str
    title: str
    author: str
    category: str
    paragraphs: tuple[str, ...]
    about_children: bool

    @property
    def path(self) -> str:
        d = self.published
        return f"/{d.year:04d}/{d.month:02d}/{d.day:02d}/{self.slug}/"

    @property
    def url(self) -> str:
        return BASE + self.path

    @property
    def excerpt(self) -> str:
        words = self.paragraphs[0].split()
        return " ".join(words[:55]) + (" [&#8230;]" if len(words) > 55 else "")


def _slugify(title: str) -> str:
    s = title.lower().replace("’", "").replace("'", "").replace("‘", "").replace("£", "")
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s


def _dates() -> list[datetime]:
    """N_POSTS publication times, newest first, spread about evenly with a fixed jitter."""
    rng = random.Random(20130110)
    span = (NEWEST - OLDEST).days
    days: list[date] = []
    for i in range(N_POSTS):
        base = NEWEST - timedelta(days=round(i * span / (N_POSTS - 1)))
        jitter = 0 if i in (0, N_POSTS - 1) else rng.randint(-12, 12)
        d = base - timedelta(days=jitter)
        if days and d >= days[-1]:
            d = days[-1] - timedelta(days=1)
        days.append(d)
    out = []
    for d in days:
        utc = datetime(d.year, d.month, d.day, rng.randint(7, 19), rng.randint(0, 59), rng.randint(0, 59), tzinfo=UTC)
        out.append(_london(utc))
    return out


def _fill(template: str, v: dict[str, str]) -> str:
    text = template.format(**v)
    return text[0].upper() + text[1:]


HOOKS = (
    "The issue was discussed at the branch committee on {hook_date}, where stewards from {area} and "
    "{area2} gave reports.",
    "Stewards in {area2} first raised the problem in {prev_month}, and since then {n_staff} members have "
    "contacted the branch about it.",
    "At a meeting on {hook_date}, {n_att} members from {area} and {area2} agreed to step up the campaign.",
    "Since {prev_month} the branch has raised the matter at {n_mtgs} meetings with management, most "
    "recently on {hook_date}.",
    "More than {n_staff} members have signed the branch’s petition since it was launched in {prev_month}.",
    "Members in {area2} told the branch’s {hook_weekday} drop-in session that the situation has got "
    "worse since {prev_month}.",
)


def _choose_topic(i: int, d: date, other: bool) -> Topic:
    rng = random.Random(500 + i)
    if other:
        return OTHER_TOPICS[rng.randrange(len(OTHER_TOPICS))]
    keys = ["caseloads", "pay", "strikes", "ofsted", "cuts", "agency", "safety"]
    if date(2014, 6, 1) <= d < date(2019, 1, 1):
        keys += ["trust", "trust", "trust"]
    if d >= date(2023, 9, 5):
        keys += ["cuts", "caseloads"]
    key = rng.choice(keys)
    return next(t for t in TOPICS if t.key == key)


def _weekday(d: datetime) -> datetime:
    """The same day, or the Monday after it if it falls at a weekend (meetings are on weekdays)."""
    return d + timedelta(days=(7 - d.weekday()) % 7 if d.weekday() >= 5 else 0)


def _pick(seq: tuple[str, ...], k: int) -> str:
    return seq[k % len(seq)]


def _pick_two(seq: tuple[str, ...], k: int) -> tuple[str, str]:
    """Two different items, rotating so that posts on the same topic rarely share both."""
    n = len(seq)
    first = seq[k % n]
    step = 1 + (k // n) % (n - 1)
    return first, seq[(k + step) % n]


def _make_post(i: int, when: datetime, topic: Topic, k: int, used: set[str]) -> Post:
    """Post number i (0 = newest), the k-th post on its topic."""
    rng = random.Random(1000 + i)
    d = when.date()
    team = rng.choice(TEAMS)
    area, area2 = rng.sample(AREAS, 2)
    prev = (d.replace(day=1) - timedelta(days=1 + 31 * rng.randint(0, 2))).strftime("%B")
    hook_day = _weekday(when - timedelta(days=rng.randint(3, 16)))
    v = {
        "team": team,
        "team_cap": team[0].upper() + team[1:],
        "pct": str(rng.randint(55, 89)),
        "num": str(rng.randint(23, 34)),
        "n_resp": str(rng.randint(140, 460)),
        "sick": str(rng.randint(6, 11)),
        "nq": str(rng.randint(15, 22)),
        "cap": str(rng.choice([15, 16, 18, 20])),
        "gap": f"{rng.randint(2, 6)},{rng.choice(['000', '500'])}",
        "year": f"{d.year}/{(d.year + 1) % 100:02d}" if d.month >= 4 else f"{d.year - 1}/{d.year % 100:02d}",
        "pay": PAY[d.year],
        "area": area,
        "area2": area2,
        "venue": rng.choice(VENUES),
        "employer": _employer(d),
        "employer_short": "the council" if d < TRUST_START else "the trust",
        "service": _service(d),
        "service_short": "children’s services" if d < TRUST_START else "the trust",
        "issue": rng.choice(ISSUES),
        "turnout": str(rng.randint(51, 68)),
        "weekday": rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday"]),
        "cut": str(rng.randint(4, 19)),
        "posts": str(rng.randint(12, 85)),
        "vac": str(rng.randint(18, 34)),
        "agency": f"{rng.randint(5, 14)}.{rng.randint(1, 9)}",
        "n_staff": str(rng.randint(40, 320)),
        "n_att": str(rng.randint(25, 140)),
        "n_mtgs": str(rng.randint(3, 9)),
        "n_libs": str(rng.randint(34, 40)),
        "n_schools": str(rng.randint(6, 23)),
        "prev_month": prev,
        "hook_date": hook_day.strftime("%A %-d %B"),
        "hook_weekday": hook_day.strftime("%A"),
    }
    title = ""
    for j in range(len(topic.titles)):
        cand = _fill(_pick(topic.titles, k + j), v)
        if cand not in used:
            title = cand
            break
    if not title:
        title = f"{_fill(_pick(topic.titles, k), v)}: {when.strftime('%B %Y')} update"
    used.add(title)

    if topic.children:
        speaker, role = _pick(
            (
                (_secretary(d), "Birmingham UNISON branch secretary"),
                (SW_STEWARD, "the branch’s social work steward"),
                (_convenor(d), "UNISON convenor for children’s services"),
            ),
            i,
        )
    else:
        speaker, role = OTHER_STEWARDS[topic.key]
    q1, q2 = _pick_two(topic.quotes, k + i % 2)
    d1, d2 = _pick_two(topic.details, k)
    officer = "" if topic.children else rng.choice(["director", "head of service", "assistant director"])
    context = (
        _era(d, rng)
        if topic.children
        else f"The branch has raised the issue with the council’s {officer} and at the joint consultative committee."
    )
    paragraphs = [
        _fill(_pick(topic.leads, k), v) + " " + _fill(d1, v),
        context + " " + _fill(d2, v),
        f"{speaker}, {role}, said: “{_fill(q1, v)} {_fill(q2, v)}”",
        _fill(_pick(HOOKS, i), v) + " " + _fill(_pick(topic.demands, k + i), v),
    ]
    if rng.random() < 0.5:
        paragraphs.append(_fill(_pick(topic.extras, k), v))
    if rng.random() < 0.75:
        when_meet = _weekday(when + timedelta(days=rng.randint(5, 12)))
        paragraphs.append(
            rng.choice(
                [
                    f"A members’ meeting will be held at {v['venue']} on {when_meet.strftime('%A %-d %B')} at "
                    f"{rng.choice(['12.30pm', '5pm', '5.30pm', '6pm'])}. All members are welcome.",
                    rng.choice(GENERAL),
                ]
            )
        )
    if i % 13 == 5:
        paragraphs.insert(0, "This article first appeared in the Morning Star and is reproduced with permission.")
    paragraphs = paragraphs[:6]
    assert len(set(paragraphs)) == len(paragraphs), paragraphs
    authors = (_secretary(d), "Birmingham UNISON", SW_STEWARD if topic.children else "Birmingham UNISON")
    author = _pick(authors, i * 7 + k)
    return Post(
        index=i,
        post_id=1200 + (N_POSTS - i) * 7 + rng.randint(0, 6),
        published=when,
        slug=_slugify(title),
        title=title,
        author=author,
        category=topic.category,
        paragraphs=tuple(paragraphs),
        about_children=topic.children,
    )


@functools.cache
def posts() -> tuple[Post, ...]:
    """The 100 posts, newest first."""
    others = set(random.Random(1979).sample(range(N_POSTS), 25))
    dates = _dates()
    topics = [_choose_topic(i, when.date(), i in others) for i, when in enumerate(dates)]
    used: set[str] = set()
    seen: dict[str, int] = {}
    made = []
    for i in reversed(range(N_POSTS)):  # oldest first, so that older posts keep their texts if posts are added
        k = seen.get(topics[i].key, 0)
        seen[topics[i].key] = k + 1
        made.append(_make_post(i, dates[i], topics[i], k, used))
    made.reverse()
    slugs = [p.slug for p in made]
    assert len(set(slugs)) == len(slugs), "duplicate slugs"
    return tuple(made)


@functools.cache
def _by_path() -> dict[str, Post]:
    return {p.path: p for p in posts()}


# --------------------------------------------------------------------------- pages


def _e(text: str) -> str:
    return escape(text, quote=False)


def _a(text: str) -> str:
    return escape(text, quote=True)


def _wp_date(d: datetime) -> str:
    return d.strftime("%B %-d, %Y")


_NAV = f"""  <header id="masthead" class="site-header" role="banner">
    <div class="site-branding">
      <p class="site-title"><a href="{BASE}/" rel="home">Birmingham UNISON</a></p>
      <p class="site-description">Birmingham Branch of UNISON &#8211; the public service union</p>
    </div>
    <nav id="site-navigation" class="main-navigation" aria-label="Top Menu">
      <ul id="top-menu" class="menu">
        <li class="menu-item"><a href="{BASE}/">News</a></li>
        <li class="menu-item"><a href="/about-the-branch/">About the branch</a></li>
        <li class="menu-item"><a href="/join-unison/">Join UNISON</a></li>
        <li class="menu-item"><a href="/stewards/">Stewards</a></li>
        <li class="menu-item"><a href="/contact/">Contact</a></li>
      </ul>
    </nav>
  </header>"""

_FOOTER = """  <footer id="colophon" class="site-footer" role="contentinfo">
    <div class="site-info">
      <p>Birmingham UNISON, Broad Street, Birmingham. Registered with the Certification Officer as part of UNISON.</p>
      <a href="/wordpress/" class="imprint">Proudly powered by WordPress</a>
    </div>
  </footer>"""


def _head(title: str, canonical: str, extra: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en-GB" class="no-js no-svg">
<head>
  <meta charset="UTF-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="canonical" href="{canonical}">
  <link rel="alternate" type="application/rss+xml" title="Birmingham UNISON &raquo; Feed" href="{BASE}/feed/">
{extra}  <link rel="stylesheet" id="twentyseventeen-style-css" href="/wp-content/themes/twentyseventeen/style.css?ver=20190507" media="all">
  <meta name="generator" content="WordPress 5.2.3">
</head>"""


def _sidebar() -> str:
    recent = "\n".join(f'          <li><a href="{p.url}">{_e(p.title)}</a></li>' for p in posts()[:5])
    cats = sorted({p.category for p in posts()})
    catlist = "\n".join(
        f'          <li class="cat-item"><a href="/category/{_slugify(c)}/">{_e(c)}</a></li>' for c in cats
    )
    years = sorted({p.published.year for p in posts()}, reverse=True)
    archives = "\n".join(f'          <li><a href="/{y}/">{y}</a></li>' for y in years)
    return f"""    <aside id="secondary" class="widget-area" role="complementary" aria-label="Blog Sidebar">
      <section id="search-2" class="widget widget_search">
        <form role="search" method="get" class="search-form" action="/"><label for="s">Search for:</label><input type="search" id="s" class="search-field" name="s"><button type="submit" class="search-submit">Search</button></form>
      </section>
      <section id="recent-posts-2" class="widget widget_recent_entries">
        <h2 class="widget-title">Recent Posts</h2>
        <ul>
{recent}
        </ul>
      </section>
      <section id="categories-2" class="widget widget_categories">
        <h2 class="widget-title">Categories</h2>
        <ul>
{catlist}
        </ul>
      </section>
      <section id="archives-2" class="widget widget_archive">
        <h2 class="widget-title">Archives</h2>
        <ul>
{archives}
        </ul>
      </section>
      <section id="text-3" class="widget widget_text">
        <h2 class="widget-title">Join UNISON</h2>
        <div class="textwidget"><p>UNISON is the UK&#8217;s largest union, with more than 1.3 million members in public services. Join today and get support at work from your local steward.</p><p><a href="/join-unison/">Join online</a></p></div>
      </section>
    </aside>"""


@functools.cache
def post_page(path: str) -> bytes | None:
    post = _by_path().get(path)
    if post is None:
        return None
    all_posts = posts()
    older = all_posts[post.index + 1] if post.index + 1 < len(all_posts) else None
    newer = all_posts[post.index - 1] if post.index > 0 else None
    iso = post.published.isoformat()
    body = "\n".join(
        f"        <p><em>{_e(p)}</em></p>" if p.startswith("This article first appeared") else f"        <p>{_e(p)}</p>"
        for p in post.paragraphs
    )
    nav = []
    if older:
        nav.append(
            f'<div class="nav-previous"><a href="{older.url}" rel="prev">'
            f'<span class="screen-reader-text">Previous Post</span> {_e(older.title)}</a></div>'
        )
    if newer:
        nav.append(
            f'<div class="nav-next"><a href="{newer.url}" rel="next">'
            f'<span class="screen-reader-text">Next Post</span> {_e(newer.title)}</a></div>'
        )
    author_slug = _slugify(post.author)
    meta = (
        f'  <meta property="og:type" content="article">\n'
        f'  <meta property="og:title" content="{_a(post.title)}">\n'
        f'  <meta property="og:url" content="{post.url}">\n'
        f'  <meta property="og:site_name" content="Birmingham UNISON">\n'
        f'  <meta property="article:published_time" content="{iso}">\n'
        f'  <meta property="article:section" content="{_a(post.category)}">\n'
    )
    html = f"""{_head(f"{_e(post.title)} &#8211; Birmingham UNISON", post.url, meta)}
<body class="post-template-default single single-post postid-{post.post_id} single-format-standard has-sidebar">
<div id="page" class="site">
  <a class="skip-link screen-reader-text" href="#content">Skip to content</a>
{_NAV}
  <div id="content" class="site-content">
    <div id="primary" class="content-area">
      <main id="main" class="site-main" role="main">
    <article id="post-{post.post_id}" class="post-{post.post_id} post type-post status-publish format-standard hentry category-{_slugify(post.category)}">
      <header class="entry-header">
        <div class="entry-meta"><span class="posted-on"><span class="screen-reader-text">Posted on</span> <a href="{post.url}" rel="bookmark"><time class="entry-date published updated" datetime="{iso}">{_wp_date(post.published)}</time></a></span><span class="byline"> by <span class="author vcard"><a class="url fn n" href="/author/{author_slug}/">{_e(post.author)}</a></span></span></div>
        <h1 class="entry-title">{_e(post.title)}</h1>
      </header>
      <div class="entry-content">
{body}
      </div>
      <footer class="entry-footer"><span class="cat-tags-links"><span class="cat-links">Posted in <a href="/category/{_slugify(post.category)}/" rel="category tag">{_e(post.category)}</a></span></span></footer>
    </article>
    <nav class="navigation post-navigation" role="navigation" aria-label="Posts">
      <h2 class="screen-reader-text">Post navigation</h2>
      <div class="nav-links">{"".join(nav)}</div>
    </nav>
      </main>
    </div>
{_sidebar()}
  </div>
{_FOOTER}
</div>
</body>
</html>
"""
    return html.encode("utf-8")


N_ARCHIVE_PAGES = -(-N_POSTS // PER_ARCHIVE)
N_FEED_PAGES = -(-N_POSTS // PER_FEED)


@functools.cache
def archive_page(n: int) -> bytes | None:
    if not 1 <= n <= N_ARCHIVE_PAGES:
        return None
    chunk = posts()[(n - 1) * PER_ARCHIVE : n * PER_ARCHIVE]
    arts = []
    for p in chunk:
        arts.append(f"""    <article id="post-{p.post_id}" class="post-{p.post_id} post type-post status-publish format-standard hentry category-{_slugify(p.category)}">
      <header class="entry-header">
        <div class="entry-meta"><span class="screen-reader-text">Posted on</span> <a href="{p.url}" rel="bookmark"><time class="entry-date published updated" datetime="{p.published.isoformat()}">{_wp_date(p.published)}</time></a></div>
        <h2 class="entry-title"><a href="{p.url}" rel="bookmark">{_e(p.title)}</a></h2>
      </header>
      <div class="entry-summary">
        <p>{p.excerpt}</p>
        <p class="link-more"><a href="{p.url}" class="more-link">Continue reading<span class="screen-reader-text"> &#8220;{_e(p.title)}&#8221;</span></a></p>
      </div>
    </article>""")
    links = []
    if n < N_ARCHIVE_PAGES:
        links.append(f'<div class="nav-previous"><a class="next" href="{BASE}/page/{n + 1}/">Older posts</a></div>')
    if n > 1:
        newer = f"{BASE}/" if n == 2 else f"{BASE}/page/{n - 1}/"
        links.append(f'<div class="nav-next"><a class="prev" href="{newer}">Newer posts</a></div>')
    canonical = f"{BASE}/" if n == 1 else f"{BASE}/page/{n}/"
    title = "Birmingham UNISON &#8211; Birmingham Branch of UNISON" if n == 1 else f"Birmingham UNISON &#8211; Page {n}"
    html = f"""{_head(title, canonical)}
<body class="home blog{"" if n == 1 else " paged paged-" + str(n)} hfeed has-sidebar">
<div id="page" class="site">
  <a class="skip-link screen-reader-text" href="#content">Skip to content</a>
{_NAV}
  <div id="content" class="site-content">
    <div id="primary" class="content-area">
      <main id="main" class="site-main" role="main">
      <header class="page-header"><h2 class="page-title">Posts</h2></header>
{chr(10).join(arts)}
    <nav class="navigation posts-navigation" role="navigation" aria-label="Posts">
      <h2 class="screen-reader-text">Posts navigation</h2>
      <div class="nav-links">{"".join(links)}</div>
    </nav>
      </main>
    </div>
{_sidebar()}
  </div>
{_FOOTER}
</div>
</body>
</html>
"""
    return html.encode("utf-8")


def _rfc822(d: datetime) -> str:
    return format_datetime(d.astimezone(UTC)).replace("-0000", "+0000")


@functools.cache
def feed_page(n: int) -> bytes | None:
    if not 1 <= n <= N_FEED_PAGES:
        return None
    chunk = posts()[(n - 1) * PER_FEED : n * PER_FEED]
    items = []
    for p in chunk:
        items.append(f"""\t<item>
\t\t<title>{_e(p.title)}</title>
\t\t<link>{p.url}</link>
\t\t<comments>{p.url}#respond</comments>
\t\t<dc:creator><![CDATA[{p.author}]]></dc:creator>
\t\t<pubDate>{_rfc822(p.published)}</pubDate>
\t\t<category><![CDATA[{p.category}]]></category>
\t\t<guid isPermaLink="false">{BASE}/?p={p.post_id}</guid>
\t\t<description><![CDATA[{p.excerpt}]]></description>
\t\t<wfw:commentRss>{p.url}feed/</wfw:commentRss>
\t\t<slash:comments>0</slash:comments>
\t</item>""")
    self_url = f"{BASE}/feed/" + ("" if n == 1 else f"?paged={n}")
    xml = f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
\txmlns:content="http://purl.org/rss/1.0/modules/content/"
\txmlns:wfw="http://wellformedweb.org/CommentAPI/"
\txmlns:dc="http://purl.org/dc/elements/1.1/"
\txmlns:atom="http://www.w3.org/2005/Atom"
\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"
\t>

<channel>
\t<title>Birmingham UNISON</title>
\t<atom:link href="{_a(self_url)}" rel="self" type="application/rss+xml" />
\t<link>{BASE}</link>
\t<description>Birmingham Branch of UNISON &#8211; the public service union</description>
\t<lastBuildDate>{_rfc822(posts()[0].published)}</lastBuildDate>
\t<language>en-GB</language>
\t<sy:updatePeriod>hourly</sy:updatePeriod>
\t<sy:updateFrequency>1</sy:updateFrequency>
\t<generator>https://wordpress.org/?v=5.2.3</generator>
{chr(10).join(items)}
</channel>
</rss>
"""
    return xml.encode("utf-8")


_NOT_FOUND = f"""{_head("Page not found &#8211; Birmingham UNISON", BASE + "/")}
<body class="error404 hfeed has-sidebar">
<div id="page" class="site">
{_NAV}
  <div id="content" class="site-content">
    <main id="main" class="site-main" role="main">
      <section class="error-404 not-found">
        <header class="page-header"><h1 class="page-title">Oops! That page can&rsquo;t be found.</h1></header>
        <div class="page-content"><p>It looks like nothing was found at this location. Maybe try a search?</p></div>
      </section>
    </main>
  </div>
{_FOOTER}
</div>
</body>
</html>
""".encode()

_POST_PATH = re.compile(r"^/\d{4}/\d{2}/\d{2}/[a-z0-9-]+/?$")
_PAGE_PATH = re.compile(r"^/page/(\d+)/?$")


def serve_unison(path_and_query: str) -> tuple[int, str, bytes] | None:
    """The demo server's handler for every path on the host (see the module docstring)."""
    parts = urlsplit(path_and_query)
    path, query = parts.path or "/", parse_qs(parts.query)
    if path in ("/feed/", "/feed"):
        raw = (query.get("paged") or ["1"])[0]
        n = int(raw) if raw.isdigit() else 1
        body = feed_page(max(n, 1))
        return (200, RSS, body) if body is not None else (404, HTML, _NOT_FOUND)
    if path == "/":
        return 200, HTML, archive_page(1)
    m = _PAGE_PATH.match(path)
    if m:
        body = archive_page(int(m[1]))
        return (200, HTML, body) if body is not None else (404, HTML, _NOT_FOUND)
    if _POST_PATH.match(path):
        body = post_page(path if path.endswith("/") else path + "/")
        return (200, HTML, body) if body is not None else (404, HTML, _NOT_FOUND)
    return None


def main() -> int:
    ps = posts()
    print(
        f"{len(ps)} posts, {ps[-1].published:%Y-%m-%d} to {ps[0].published:%Y-%m-%d}; "
        f"{sum(p.about_children for p in ps)} about children's services; "
        f"{N_FEED_PAGES} feed pages of {PER_FEED}, {N_ARCHIVE_PAGES} archive pages of {PER_ARCHIVE}"
    )
    for p in ps:
        print(f"{p.published:%Y-%m-%d}  {'C' if p.about_children else '-'}  {len(p.paragraphs)}  {p.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
