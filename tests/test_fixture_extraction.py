"""Extraction on the demo fixture sites: for every source that yields article pages, one or two of
its pages go through ``run_stages`` as the spider would hand them over, and the title, author,
date and body are checked against values read off the fixture by hand.

The expectations are the truth about each page, not what the extractor happens to produce.
Where the extractor gets a field wrong and a source's ``selectors:`` cannot fix it, the field's
test is marked ``xfail(strict=True)`` with the exact fault, so it fails (and must be unmarked) as
soon as the extractor is fixed. The xfail reasons are the extractor's to-do list.

Conventions used in the table:

- ``first``: the article's real first sentence (or a ~60+ character prefix of it). A standfirst
  or lead paragraph printed under the headline is part of the article, so it comes first. For a
  PDF the body is the document's own text without page furniture (running headers, page
  numbers), so it starts with the document's first line.
- ``last``: the article's real last sentence; the body must contain it.
- ``published``: ``YYYY-MM-DD`` where the page (or feed, or link) gives only a day; a full ISO
  instant with offset where it gives a time (compared as instants, so UTC storage is fine).
- Boilerplate: strings of each site's template (``SITE_BOILERPLATE``, keyed by host) plus the
  page's own teasers and date lines (``Case.boilerplate``); the body must contain none of them.
  ``Case.allowed`` lifts a site string for one page where it is that article's own text.
- Bodies and strings are compared with whitespace collapsed (HTML and PDF line breaks carry no
  meaning).
"""

from __future__ import annotations

import functools
import html as html_lib
import io
import json
import re
import time
import warnings
from calendar import timegm
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
import parsel
import pytest
from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
from pypdf import PdfReader

from carewatch.config import load_config
from carewatch.core.items import Article
from carewatch.demo.server import DemoSites
from carewatch.pipelines.runner import run_stages
from tests.conftest import ROOT

FETCHED_AT = "2024-06-20T12:00:00+00:00"


@dataclass(frozen=True)
class Case:
    source: str  # source id in demo/config/sources.yaml
    name: str  # short page name for the test id
    url: str | None  # the URL the spider stores (feed links keep their tracking parameters)
    title: str
    author: str | None
    published: str  # YYYY-MM-DD, or an ISO instant where the page/feed gives a time
    first: str  # prefix of the body: the article's real first sentence
    last: str  # the article's real last sentence (must be in the body)
    boilerplate: tuple[str, ...] = ()  # this page's own non-article strings (on top of the site's)
    allowed: tuple[str, ...] = ()  # site boilerplate strings that are this article's own text here
    link_text: str | None = None  # pdf_links: find the link by its text instead of `url`
    xfail: dict[str, str] = field(default_factory=dict)  # field -> what the extractor gets wrong

    @property
    def id(self) -> str:
        return f"{self.source}-{self.name}"


# -- what no article body may contain, per site (host) --------------------------------------------
SITE_BOILERPLATE: dict[str, tuple[str, ...]] = {
    "www.thechamberlainfiles.com.test": (
        "Skip to content",
        "The Chamberlain Files | Homepage",
        "Politics, policy and power in Birmingham and the West Midlands",
        "🕔",
        "Posted in",
        "Tagged",
        "Share:",
        "Similar Articles",
        "About Author",
        "Robert Hanley has reported on Birmingham politics",
        "Comments are closed",
        "Chamberlain Files Weekly",
        "Sign up for our free weekly summary",
        "powered by MailChimp",
        "Our latest tweets",
        "Our weekly round-up is out",
        "Published by",
        "RJF Public Affairs",
        "Our community",
        "Privacy policy",
        "All rights reserved",
        "Cover Image:",
        "Enhanced by Zemanta",
    ),
    "www.gov.uk.test": (
        "Skip to main content",
        "Cookies on GOV.UK",
        "We use some essential cookies to make this website work",
        "Accept additional cookies",
        "Reject additional cookies",
        "View cookies",
        "Navigation menu",
        "Search GOV.UK",
        "Education, training and skills",
        "Inspections and performance of education providers",
        "News story",
        "From: Ofsted",
        "Get emails about this page",
        "Print this page",
        "Related content",
        "Inspecting local authority children’s services",
        "Explore the topic",
        "Is this page useful?",
        "Report a problem with this page",
        "Births, death, marriages and care",
        "Government activity",
        "Open Government Licence",
        "Crown copyright",
        "Rhestr o Wasanaethau Cymraeg",
    ),
    "reports.ofsted.gov.uk.test": (),  # PDFs: running headers are listed per case
    "www.birmingham.gov.uk.test": (
        "Skip to main content",
        "We use cookies on this site",
        "Accept all cookies",
        "Reject optional cookies",
        "Cookie settings",
        "Search this site",
        "Media enquiries",
        "Journalists should contact the council’s press office",
        "Back to news",
        "Bins and recycling",
        "Council and democracy",
        "Commissioners: intervention and improvement",
        "Jadu Content Management",
        "Council House, Victoria Square, Birmingham B1 1BB",
    ),
    "www.birminghamchildrenstrust.co.uk.test": (
        "Skip to main content",
        "We use cookies on this site",
        "We use necessary cookies",
        "Accept all cookies",
        "Reject optional cookies",
        "Cookie settings",
        "Search this site",
        "Share this page",
        "Share on Facebook",
        "Share on Twitter",
        "Back to all news",
        "About the trust",
        "Our board",
        "Freedom of information",
        "Worried about a child",
        "Fostering and adoption",
        "Complaints and compliments",
        "Community Interest Company",
        "In an emergency call 999",
        "Jadu Content Management",
    ),
    "www.birminghammail.co.uk.test": (
        "We and our partners use cookies",
        "I Accept",
        "Show Purposes",
        "Newsletters",
        "Traffic & Travel",
        "Aston Villa",
        "Buy a Paper",
        "Local Democracy Reporter",
        "(Image: Birmingham Live)",
        "Get the biggest stories from Birmingham direct to your inbox",
        "We use your sign-up to provide content",
        "You can unsubscribe at any time",
        "Join the conversation",
        "Our community guidelines apply",
        "Show comments",
        "Most Read",
        "Live updates as crash closes A38 Bristol Road",
        "Everything you need to know about the new Digbeth tram stop",
        "Birmingham's best Sunday roasts",
        "Bullring shop closes for good",
        "Villa Park expansion plans",
        "How to complain",
        "Corrections and clarifications",
        "a Reach plc subsidiary",
    ),
    "birminghamagainstthecuts.wordpress.com.test": (
        "Fighting the cuts to jobs and services in Birmingham",
        "Skip to content",
        "Leave a comment",
        "Share this:",
        "Like this:",
        "Like Loading",
        "Filed under",
        "Leave a Reply",
        "Search for:",
        "Recent Posts",
        "Defend our Youth Services",
        "Public meeting: No to the privatisation of Children’s social care",
        "Open Planning Meeting",
        "Call for future funding Birmingham’s child protection services",
        "Archives",
        "September 2014",
        "Get involved",
        "Our open planning meetings are held",
        "Log in",
        "Entries RSS",
        "Comments RSS",
        "Blog at WordPress.com",
    ),
    "birminghamsocialistparty.com.test": (
        "Posted on",
        "Back to news",
        "Written by workers for workers.",
        "The media never covers the real struggles of the working class",
        "Join our email list",
        "Sign up",
        "We are a branch of the Socialist Party",
        "Committee for a Workers' International",
        "linkedin",
        "pinterest",
        "instagram",
    ),
    "www.bbc.co.uk.test": (
        "Skip to content",
        "BBC News, West Midlands",
        "iPlayer",
        "Bitesize",
        "Birmingham & Black Country",
        "Terms of Use",
        "About the BBC",
        "Contact the BBC",
        "not responsible for the content of external sites",
    ),
    "www.birminghampost.co.uk.test": (
        "We and our partners use cookies",
        "I Accept",
        "Show Purposes",
        "Newsletters",
        "Commercial Property",
        "Business Editor",
        "(Image: Birmingham Post)",
        "Sign up to the Birmingham Post business newsletter",
        "We use your sign-up to provide content",
        "You can unsubscribe at any time",
        "Most Read",
        "HS2 Curzon Street station: what happens next",
        "Birmingham Airport passenger numbers back above pre-pandemic levels",
        "Jewellery Quarter apartments approved despite objections",
        "a Reach plc subsidiary",
    ),
    "www.communitycare.co.uk.test": (
        "Skip to content",
        "Tags:",
        "Share this:",
        "Related articles",
        "Log in or register to comment",
        "Community Care Inform",
        "Guides, research summaries and practice tools",
        "Check whether your employer subscribes",
        "Most popular",
        "Social work pay: what the 2024 offer means for you",
        "Test your knowledge of the Mental Capacity Act",
        "Ten tips for your first child protection conference",
        "Latest jobs",
        "Browse social work jobs",
        "Part of Mark Allen Group",
        "appeared first on Community Care",
    ),
    "www.cypnow.co.uk.test": (
        "Register Now to Continue Reading",
        "Thank you for visiting Children & Young People Now",
        "Registration is free and takes less than a minute",
        "Free email bulletins",
        "Three free articles a month",
        "Already registered? Sign in",
        "Most read",
        "Ofsted ILACS framework changes explained",
        "Inside a family hub",
        "Why youth work matters more than ever",
        "CYP Now Awards 2024",
        "Entries are now open",
        "MA Education Ltd",
        "Mark Allen Group",
    ),
    "www.theguardian.com.test": (
        "UK edition",
        "Support us",
        "Support the Guardian",
        "We have a small favour to ask",
        "no billionaire owner",
        "please support us with a one-off or monthly contribution",
        "Explore more on these topics",
        "Reuse this content",
        "Most viewed",
        "Amber heat-health alert issued for much of England",
        "General election campaign: latest news",
        "Continue reading",
        "Guardian News & Media Limited",
    ),
    "www.lscpbirmingham.org.uk.test": (),  # PDFs: running headers are listed per case
    "www.whatdotheyknow.com.test": (
        "Make a request",
        "Browse requests",
        "View authorities",
        "Awaiting response from",
        "Link to this",
        "Follow this request",
        "Similar requests",
        "WhatDoTheyKnow is run by mySociety",
    ),
    "www.theyworkforyou.com.test": (
        "Email alerts",
        "Get an email alert whenever",
        "Create an alert",
        "TheyWorkForYou is run by mySociety",
        "Open Parliament Licence",
    ),
    "birmingham.cmis.uk.com.test": (),  # PDFs: running headers are listed per case
    "birminghamunison.co.uk.test": (
        "Skip to content",
        "Birmingham Branch of UNISON – the public service union",
        "About the branch",
        "Posted on",
        "Posted in",
        "Post navigation",
        "Previous Post",
        "Next Post",
        "Search for:",
        "Recent Posts",
        "Categories",
        "Archives",
        "UNISON is the UK’s largest union",
        "Join online",
        "Registered with the Certification Officer",
        "Proudly powered by WordPress",
    ),
}

# -- what the extractor gets wrong today: each becomes an xfail(strict) in its Case (none left) --------
CHAMBERLAIN = "http://www.thechamberlainfiles.com.test"
GOVUK = "http://www.gov.uk.test"
UNISON_RECENT = (
    "Cuts consultation: branch response: June 2024 update",
    "Youth workers say no to closures",
    "Ballot result: fostering members vote for action",
    "Equal pay: members must not pay the price: January 2024 update",
)

# -- the expectations, read off the fixtures by hand ----------------------------------------------
CASES: list[Case] = [
    # The Chamberlain Files: the feed (RSS with dc:creator and pubDate) ...
    Case(
        "chamberlain-files",
        "s114",
        f"{CHAMBERLAIN}/section-114-childrens-services-face-the-squeeze/",
        title="Section 114: children’s services face the squeeze as the spending freeze bites",
        author="Robert Hanley",
        published="2023-09-26T08:30:00+00:00",
        first="Birmingham City Council’s children’s services are facing their toughest financial test in a decade",
        last="Full council is expected to be asked in March to approve the 2024/25 budget alongside an application "
        "to the Government for exceptional financial support and, possibly, permission to raise council tax "
        "above the referendum limit.",
        boilerplate=(
            "Council House, Victoria Square",
            "Street: the region deserves its share of the HS2 savings",
            "Another chief executive, another fresh start?",
            "Games legacy: what next for the Alexander Stadium?",
            "Combined Authority backs trailblazer devolution deal",
            "Metro extension to Digbeth faces further delay",
            "4 Comments",
        ),
    ),
    Case(
        "chamberlain-files",
        "seed004-utm",
        f"{CHAMBERLAIN}/birmingham-councils-failing-childrens-social-care-to-be-placed-in-a-trust/"
        "?utm_source=rss&utm_medium=rss",
        title="Birmingham council’s failing children’s social care to be placed in a trust",
        author="Robert Hanley",
        published="2016-05-24T09:15:00+00:00",
        first="Birmingham city council’s troubled children’s social services are to be taken over by a voluntary trust",
        last="I hope that by moving children’s social care away from the broken culture of Birmingham city council "
        "we can at last begin to make our children and young people safer.",
        boilerplate=(
            "Dawn goes Down Under",
            "Hezza: Give Metro Mayors greater powers",
            "Who can beat the Street?",
            "Mayoral Mayhem? A challenging year begins",
            "Council: Panel stands down",
            "7 Comments",
        ),
    ),
    # ... and its children's services category (a listing: everything comes from the page)
    Case(
        "chamberlain-files-childrens-services",
        "seed003",
        f"{CHAMBERLAIN}/last-chance-saloon-as-birmingham-launches-another-childrens-social-care-plan/",
        title="Last chance saloon as Birmingham launches another children’s social care plan",
        author="Robert Hanley",
        published="2013-12-12T16:05:00+00:00",
        first="Birmingham City Council has taken a further step into the ‘last chance saloon’ with the latest",
        last="“We have an approach of honesty and integrity. We are involved in a major transformation programme. "
        "This is a fundamental break with the past,” Mr Hay added.",
        boilerplate=(
            "Professor Le Grand via Vimeo",
            "Street loses first vote as Mayor",
            "Street makes 4 hat-trick first goal of 2018",
            "Tourist charge shouldn’t depend on the Games",
            "A week? A day is a long time in politics",
            "Council CEO: Baxendale for Birmingham",
            "3 Comments",
        ),
    ),
    Case(
        "chamberlain-files-childrens-services",
        "seed004-no-slash",
        f"{CHAMBERLAIN}/birmingham-councils-failing-childrens-social-care-to-be-placed-in-a-trust",
        title="Birmingham council’s failing children’s social care to be placed in a trust",
        author="Robert Hanley",
        published="2016-05-24T10:15:00+01:00",
        first="Birmingham city council’s troubled children’s social services are to be taken over by a voluntary trust",
        last="I hope that by moving children’s social care away from the broken culture of Birmingham city council "
        "we can at last begin to make our children and young people safer.",
        boilerplate=(
            "Dawn goes Down Under",
            "Hezza: Give Metro Mayors greater powers",
            "Who can beat the Street?",
            "Mayoral Mayhem? A challenging year begins",
            "Council: Panel stands down",
            "7 Comments",
        ),
    ),
    # GOV.UK news pages from the Ofsted Atom feed (no author: "From: Ofsted" is the publisher)
    Case(
        "ofsted-news",
        "judged-good",
        f"{GOVUK}/government/news/birmingham-childrens-services-judged-good-by-ofsted",
        title="Birmingham children’s services judged good by Ofsted",
        author=None,
        published="2023-04-18T00:01:00+01:00",
        first="Ofsted has judged Birmingham City Council’s children’s services, delivered by Birmingham Children’s "
        "Trust, to be good overall",
        last="It inspects services providing education and skills for learners of all ages, and inspects and "
        "regulates services that care for children and young people.",
        boilerplate=("Published 18 April 2023", "Birmingham children’s services: inspection report (PDF)"),
    ),
    Case(
        "ofsted-news",
        "focused-visit",
        f"{GOVUK}/government/news/ofsted-publishes-letter-after-focused-visit-to-birmingham-childrens-services",
        title="Ofsted publishes letter after focused visit to Birmingham children’s services",
        author=None,
        published="2021-12-07T09:30:00+00:00",
        first="Inspectors found that most children in need of help and protection in Birmingham receive a timely "
        "response",
        last="Ofsted is the Office for Standards in Education, Children’s Services and Skills.",
        boilerplate=("Published 7 December 2021", "Focused visit letter: Birmingham (PDF)"),
    ),
    # Ofsted report PDFs (title and author from the PDF, the day from the link text)
    Case(
        "ofsted-reports",
        "ilacs-2023-pdf",
        "http://reports.ofsted.gov.uk.test/v1/file/50214110",
        title="Inspection of Birmingham City Council local authority children’s services",
        author="Ofsted",
        published="2023-04-18",
        first="Birmingham City Council Inspection of Birmingham City Council local authority children’s services "
        "Inspection dates: 20 February to 3 March 2023",
        last="The statement will inform the next inspection or visit.",
        boilerplate=("children’s services 20 February to 3 March 2023",),  # the running header
    ),
    Case(
        "ofsted-reports",
        "focused-visit-2021-pdf",
        "http://reports.ofsted.gov.uk.test/v1/file/50175522",
        title="Focused visit to Birmingham children’s services",
        author="Ofsted",
        published="2021-12-07",
        first="Ofsted Piccadilly Gate Store Street Manchester M1 2WD",
        last="Ofsted will take the findings from this focused visit into account when planning your next "
        "inspection or visit.",
        boilerplate=("Birmingham children’s services 2 and 3 November 2021",),  # the running header
    ),
    # Birmingham City Council news (Jadu): date line "Published: 23 May 2023", no author
    Case(
        "birmingham-council-news",
        "child-l-1571",
        "http://www.birmingham.gov.uk.test/news/article/1571/"
        "statement_on_the_child_safeguarding_practice_review_for_child_l",
        title="Statement on the Child Safeguarding Practice Review for Child L",
        author=None,
        published="2023-05-23",
        first="Birmingham City Council has today responded to the publication of a Child Safeguarding Practice Review",
        last="Read the statement from Birmingham Children’s Trust.",
        boilerplate=("Published: 23 May 2023",),
    ),
    Case(
        "birmingham-council-news",
        "budget-1497",
        "http://www.birmingham.gov.uk.test/news/article/1497/"
        "cabinet_approves_2023_to_2024_budget_for_birmingham_childrens_trust",
        title="Cabinet approves 2023 to 2024 budget for Birmingham Children’s Trust",
        author=None,
        published="2023-03-14",
        first="Birmingham City Council’s cabinet has today approved the budget for Birmingham Children’s Trust for "
        "2023 to 2024",
        last="The cabinet report and its appendices are available on the council’s committee papers website.",
        boilerplate=("Published: 14 March 2023",),
    ),
    # Birmingham Children's Trust news (Jadu): "Published: 2nd May 2023", standfirst inside div.editor
    Case(
        "childrens-trust-news",
        "new-ceo-165",
        "http://www.birminghamchildrenstrust.co.uk.test/news/article/165/"
        "birmingham_childrens_trust_appoints_new_chief_executive",
        title="Birmingham Children’s Trust appoints new chief executive",
        author=None,
        published="2023-05-02",
        first="Birmingham Children’s Trust has appointed Rachel Whitmore as its new chief executive.",
        last="I congratulate Rachel on her appointment. The council and the trust have a strong partnership, and I "
        "look forward to working with her to build on the progress of the last five years.”",
        boilerplate=("Published: 2nd May 2023",),
    ),
    Case(
        "childrens-trust-news",
        "child-l-updated-167",
        "http://www.birminghamchildrenstrust.co.uk.test/news/article/167/"
        "media_statement_child_safeguarding_practice_review_child_l_updated",
        title="Media statement: Child Safeguarding Practice Review – Child L (updated 26 May 2023)",
        author=None,
        published="2023-05-26",
        first="Birmingham Children’s Trust has responded to the publication today of a Child Safeguarding Practice "
        "Review",
        last="Media enquiries should be made to the trust’s communications team.",
        boilerplate=("Published: 26th May 2023",),
    ),
    # Birmingham Live (Reach): p.lead is the standfirst
    Case(
        "birmingham-live",
        "trust-ceo-syndicated",
        "http://www.birminghammail.co.uk.test/news/midlands-news/birmingham-childrens-trust-names-new-2684417",
        title="Birmingham Children's Trust names new chief executive weeks after Ofsted 'good' rating",
        author="Hannah Corbett",
        published="2023-05-02T16:45:00+01:00",
        first="Birmingham Children’s Trust has appointed Rachel Whitmore as its new chief executive.",
        last="I congratulate Rachel on her appointment. The council and the trust have a strong partnership, and I "
        "look forward to working with her to build on the progress of the last five years.”",
        boilerplate=("16:45, 2 MAY 2023",),
    ),
    Case(
        "birmingham-live",
        "send-transport",
        "http://www.birminghammail.co.uk.test/news/midlands-news/send-transport-childrens-services-cuts-families-2911836",
        title="Birmingham families fear SEND transport and children's services cuts in council budget",
        author="Hannah Corbett",
        published="2024-02-20T06:00:00+00:00",
        first="Parents say proposed changes to school transport and short breaks will hit disabled children hardest",
        last="Campaigners from the Birmingham SEND parents’ forum will lobby councillors outside the Council House "
        "before the budget meeting on March 5.",
        boilerplate=("06:00, 20 FEB 2024",),
    ),
    # Birmingham Against The Cuts (WordPress.com): the page's author is empty, the feed's dc:creator is not
    Case(
        "birmingham-against-the-cuts",
        "declaration",
        "http://birminghamagainstthecuts.wordpress.com.test/2014/10/22/"
        "birmingham-declaration-against-privatisation-of-childrens-social-care/",
        title="Birmingham declaration against privatisation of Children’s social care",
        author="bhamagainstcuts",
        published="2014-10-22T19:18:00+00:00",
        first="This declaration has been prepared by West Midlands Social Work Action Network, the Birmingham "
        "Branch of UNISON",
        last="A PDF version of the declaration can be accessed by the following link Birmingham declaration",
        boilerplate=("No to Privatization: our leaflet for the public meeting", "October 22, 2014 · 8:18 pm"),
    ),
    Case(
        "birmingham-against-the-cuts",
        "leaflet",
        "http://birminghamagainstthecuts.wordpress.com.test/2014/10/22/"
        "no-to-privatization-our-leaflet-for-the-public-meeting/",
        title="No to Privatization: our leaflet for the public meeting",
        author="bhamagainstcuts",
        published="2014-10-22T20:05:00+00:00",
        first="Here is the text of the leaflet we will be handing out before the public meeting",
        last="The leaflet is also available as a PDF from the campaign stall. Copies will be available at the meeting.",
        boilerplate=(
            "Birmingham declaration against privatisation of Children’s social care",
            "October 22, 2014 · 9:05 pm",
        ),
    ),
    # Birmingham Socialist Party: "Posted on <time>25/05/2016</time> by Birmingham Socialist Party"
    Case(
        "birmingham-socialist-party",
        "privatisation-2016",
        "http://birminghamsocialistparty.com.test/news/birmingham-city-council-announce-privatisation-of-childrens-services/",
        title="Birmingham City Council announce privatisation of Children's Services",
        author="Birmingham Socialist Party",
        published="2016-05-25",
        first="Birmingham City Council's troubled children's services are to be handed over to an independent "
        "'voluntary' trust",
        last="While extra funding is vital the real solution lies in abolishing poverty which would allow human "
        "relationships to be constructed on a far healthier basis.",
        boilerplate=("25/05/2016",),
    ),
    Case(
        "birmingham-socialist-party",
        "picket-2017",
        "http://birminghamsocialistparty.com.test/news/picket-of-council-budget-meeting-hands-off-youth-services/",
        title="Picket of council budget meeting: hands off youth services!",
        author="Birmingham Socialist Party",
        published="2017-02-28",
        first="Around sixty people joined a lively picket outside the Council House on Tuesday evening",
        last="Join us at the next planning meeting of the youth services campaign and help us build the fight to "
        "keep every centre open.",
        boilerplate=("28/02/2017",),
    ),
    # ... and its sitemap (the page only the sitemap lists; lastmod is a time, the page a day)
    Case(
        "birmingham-socialist-party-sitemap",
        "trust-takeover-2018",
        "http://birminghamsocialistparty.com.test/news/birmingham-childrens-trust-takes-over-what-it-means-for-workers/",
        title="Birmingham Children’s Trust takes over: what it means for workers",
        author="Birmingham Socialist Party",
        published="2018-04-04",
        first="On Monday, Birmingham City Council’s children’s social care services were handed over to "
        "Birmingham Children’s Trust.",
        last="Join the Socialist Party and help build the fight for properly funded public services under "
        "democratic control.",
        boilerplate=("04/04/2018",),
    ),
    # BBC: feed without authors; the byline names one (current and older layout)
    Case(
        "bbc-birmingham",
        "caseloads",
        "http://www.bbc.co.uk.test/news/articles/c9w2x7lq3k4o?at_medium=RSS&at_campaign=rss",
        title="Birmingham social workers' caseloads 'unsafe', union survey says",
        author="Gemma Lowry",
        published="2024-06-11T05:14:22+00:00",
        first="Social workers at Birmingham's children's services trust are carrying caseloads they describe as unsafe",
        last="Children's services in the city were rated good by Ofsted in April 2023, the first time they had "
        "achieved that grade.",
        boilerplate=(
            "Bankrupt council approves deepest cuts in its history",
            "Children's services rated good for first time",
            "Get in touch",
            "Follow BBC Birmingham on",
            "birmingham.newsonline@bbc.co.uk",
            "Election 2024",
            "Coventry & Warwickshire",
            "Share Save",
        ),
    ),
    Case(
        "bbc-birmingham",
        "perry-barr-old-layout",
        "http://www.bbc.co.uk.test/news/uk-england-birmingham-12345678?at_medium=RSS&at_campaign=rss",
        title="Perry Barr: First homes at former Games village go on sale",
        author="Ed Pennington",
        published="2023-05-04T13:02:51+00:00",
        first="The first homes at the former athletes' village built for the 2022 Commonwealth Games in Birmingham "
        "have gone on sale.",
        last="The council said it expected the first residents to move in during the summer.",
        boilerplate=(
            "By Ed Pennington",
            "From the section",
            "Share this story",
            "About sharing",
            "Top Stories",
            "Man charged after Bullring stabbing",
            "Villa Park concert traffic warning",
        ),
    ),
    # Birmingham Post (Reach, same markup as the Mail)
    Case(
        "birmingham-post",
        "commissioners-review",
        "http://www.birminghampost.co.uk.test/news/local-news/commissioners-order-review-birmingham-childrens-29041562",
        title="Commissioners order review of £200m Birmingham Children's Trust contract",
        author="Neil Hargreaves",
        published="2024-04-16T06:00:00+01:00",
        first="Government-appointed commissioners want to know whether the council is getting value for money",
        last="The review, to be carried out by an accountancy firm, is expected to report in the summer.",
        boilerplate=("06:00, 16 APR 2024",),
    ),
    # Community Care (WordPress feed, back-filled through ?paged=N): p.standfirst in the entry header
    Case(
        "community-care",
        "agency-8pc",
        "http://www.communitycare.co.uk.test/2024/05/09/birmingham-childrens-trust-cuts-agency-social-worker-use/",
        title="Birmingham Children’s Trust cuts agency social worker use to 8%",
        author="Jess Okoro",
        published="2024-05-09T13:12:45+00:00",
        first="Trust says investment in its social work academy and a market supplement for experienced staff has "
        "reduced reliance on locums",
        last="Government figures show that agency workers made up 17.6% of the children’s social worker workforce "
        "in England in 2023, the highest level on record.",
        boilerplate=(
            "May 9, 2024",
            "Why Birmingham is a place to grow your social work career",
            "Children’s services overspends reach record high, councils warn",
        ),
    ),
    Case(
        "community-care",
        "s114-2023-page2",
        "http://www.communitycare.co.uk.test/2023/09/07/birmingham-bankruptcy-section-114-childrens-services/",
        title="Birmingham bankruptcy: what the section 114 notice means for children’s services",
        author="Jess Okoro",
        published="2023-09-07T15:05:12+00:00",
        first="The council says services for vulnerable children are protected, but practitioners fear early help",
        last="The Department for Levelling Up, Housing and Communities is expected to appoint commissioners to "
        "oversee the council’s finances.",
        boilerplate=(
            "September 7, 2023",
            "Why Birmingham is a place to grow your social work career",
            "Children’s services overspends reach record high, councils warn",
        ),
    ),
    # Children & Young People Now (listing with `selectors:`); the gated story keeps its own paywall heading
    Case(
        "cypnow-news",
        "residential-homes-gated",
        "http://www.cypnow.co.uk.test/content/news/birmingham-childrens-trust-to-close-two-residential-homes",
        title="Birmingham Children’s Trust to close two residential homes as savings bite",
        author="Nadia Kowalski",
        published="2024-05-22",
        first="Trust says children living in the homes will move to foster care or other placements",
        last="would be helped to move to foster families or to other homes over the summer, with their views taken "
        "into account at every stage.",
        boilerplate=("by Nadia Kowalski 22 May 2024",),
        allowed=("Register Now to Continue Reading",),
    ),
    Case(
        "cypnow-news",
        "commissioner-2015",
        "http://www.cypnow.co.uk.test/cyp/news/1149876/"
        "birmingham-children-s-services-to-be-overseen-by-government-commissioner",
        title="Birmingham children’s services to be overseen by government commissioner",
        author="CYP Now staff",
        published="2015-01-08",
        first="Education secretary appoints commissioner after review finds city council’s children’s services have "
        "failed for too long",
        last="The decision has been criticised by unions, who fear it could be a first step towards outsourcing "
        "children’s social care in the city.",
        boilerplate=("by CYP Now staff 8 January 2015",),
    ),
    # The Guardian: links carry ?CMP=...; the standfirst is a data-gu-name block; the epic sits in the body column
    Case(
        "guardian-children",
        "birmingham-bankruptcy",
        "http://www.theguardian.com.test/society/2024/may/28/"
        "birmingham-vulnerable-children-council-bankruptcy-charities-warn?CMP=Share_iOSApp_Other",
        title="Birmingham’s vulnerable children will pay price for council bankruptcy, charities warn",
        author="Tom Pickard",
        published="2024-05-28T05:00:00+00:00",
        first="Cuts to early help and youth services will store up problems for children’s social care, say charities",
        last="We will keep every decision under review and we will be honest about the impact.”",
        boilerplate=("Midlands correspondent", "Tue 28 May 2024 06.00 BST"),
    ),
    Case(
        "guardian-children",
        "two-child-limit",
        "http://www.theguardian.com.test/society/2024/may/21/"
        "two-child-benefit-limit-children-poverty-study?CMP=Share_iOSApp_Other",
        title="Two-child benefit limit pushing 1.6m children deeper into poverty, study finds",
        author="Helena Marsh",
        published="2024-05-20T23:01:00+00:00",
        first="Researchers say scrapping the policy would be the most cost-effective way to reduce child poverty",
        last="The government said it was committed to helping parents into work, which it described as the best "
        "route out of poverty.",
        boilerplate=("Social affairs correspondent", "Tue 21 May 2024 00.01 BST"),
    ),
    # GOV.UK Search API + Content API (the spider wraps details.body; a withdrawn notice goes first)
    Case(
        "ofsted-govuk-search",
        "send-inspection",
        f"{GOVUK}/government/news/birmingham-local-area-send-inspection-finds-significant-concerns",
        title="Birmingham local area SEND inspection finds significant concerns",
        author=None,
        published="2024-03-05T00:01:00+00:00",
        first="Ofsted and the Care Quality Commission (CQC) have today published the findings of an inspection",
        last="The full report is available on the Ofsted reports website.",
        boilerplate=("Corrected the number of children", "First published."),
    ),
    Case(
        "ofsted-govuk-search",
        "withdrawn-2018",
        f"{GOVUK}/government/news/birmingham-childrens-services-monitoring-visit-letter-published",
        title="Birmingham children’s services: monitoring visit letter published",
        author=None,
        published="2018-03-06T10:15:00+00:00",
        first="This was withdrawn on 2019-01-17: This news story has been withdrawn because it is out of date.",
        last="Read the monitoring visit letter.",
        boilerplate=("First published.",),
    ),
    Case(
        "dfe-govuk-search",
        "trust-2016",
        f"{GOVUK}/government/news/birmingham-childrens-social-care-to-move-to-independent-trust",
        title="Birmingham children’s social care to move to independent trust",
        author=None,
        published="2016-05-24T16:30:00+01:00",
        first="Children’s social care services in Birmingham will be transferred to a new, independent voluntary trust",
        last="This is a fresh start that puts the needs of children first, and I am pleased that the council has "
        "agreed to work with us to make it happen.”",
        boilerplate=("First published.",),
    ),
    # Birmingham Safeguarding Children Partnership learning summaries (PDF)
    Case(
        "bscp-learning-from-reviews",
        "child-a-pdf",
        "http://www.lscpbirmingham.org.uk.test/images/BSCP/Learning_from_reviews/"
        "Child-A-BSCP-2022-23-04-Learning-Summary.pdf",
        title="Child Safeguarding Practice Review: Child A (BSCP 2022-23/04) – Learning Summary",
        author="Birmingham Safeguarding Children Partnership",
        published="2024-03-14",
        first="Birmingham Safeguarding Children Partnership Child Safeguarding Practice Review Child A: Learning "
        "Summary",
        last="How do you find out what support a young parent really has?",
        boilerplate=("Partnership BSCP 2022-23/04 Learning Summary",),  # the running header
    ),
    Case(
        "bscp-learning-from-reviews",
        "child-d-pdf",
        "http://www.lscpbirmingham.org.uk.test/images/BSCP/Learning_from_reviews/"
        "Child-D-BSCP-2021-22-02-Learning-Summary.pdf",
        title="Child Safeguarding Practice Review: Child D (BSCP 2021-22/02) – Learning Summary",
        author="Birmingham Safeguarding Children Partnership",
        published="2022-11-07",
        first="Birmingham Safeguarding Children Partnership Child Safeguarding Practice Review Child D: Learning "
        "Summary",
        last="How do you respond when a parent tells you they are frightened for their child?",
        boilerplate=("Partnership BSCP 2021-22/02 Learning Summary",),  # the running header
    ),
    # WhatDoTheyKnow (follow: false): the article is the Atom entry itself
    Case(
        "wdtk-birmingham-city-council",
        "agency-social-workers",
        "http://www.whatdotheyknow.com.test/request/agency_social_workers_engaged_by_birmingham_childrens_trust"
        "#outgoing-1598123",
        title="Agency social workers engaged by Birmingham Children’s Trust",
        author="Kieran Doyle",
        published="2024-05-30T14:22:10+01:00",
        first="Request sent to Birmingham City Council by Kieran Doyle on 30 May 2024. Dear Birmingham City Council,",
        last="If this information is held by the trust rather than the council, please say so, so that I can "
        "redirect my request.",
    ),
    # TheyWorkForYou: the feed title adds "(12 Mar 2024)" to the page's heading
    Case(
        "twfy-birmingham-childrens-services",
        "trust-finance-wrans",
        "http://www.theyworkforyou.com.test/wrans/?id=2024-03-12.17654.h",
        title="Birmingham Children’s Trust: Finance",
        author=None,
        published="2024-03-12T15:30:00+00:00",
        first="To ask the Secretary of State for Education, what assessment her Department has made of the "
        "potential impact",
        last="the Government has made available an additional £500 million for local authorities to invest in "
        "children’s social care in 2024-25 through the local government finance settlement.",
        boilerplate=(
            "Department for Education written question – answered on 12th March 2024.",
            "UIN 17654, tabled on 5 March 2024",
        ),
    ),
    # CMIS committee papers (PDF behind opaque Document.ashx queries; date from the hidden link text)
    Case(
        "cmis-schools-children-families",
        "agenda-pdf",
        None,
        link_text="Agenda frontsheet",
        title="Agenda frontsheet 13/03/2024 Schools, Children and Families Overview and Scrutiny Committee",
        author="Birmingham City Council",
        published="2024-03-05",
        first="BIRMINGHAM CITY COUNCIL SCHOOLS, CHILDREN AND FAMILIES OVERVIEW AND SCRUTINY COMMITTEE WEDNESDAY, "
        "13 MARCH 2024",
        last="‘In an urgent situation between meetings, the Chair jointly with the relevant Chief Officer has "
        "authority to act on behalf of the Committee’.",
        boilerplate=("Committee 13 March 2024 Agenda",),  # the running header
    ),
    Case(
        "cmis-schools-children-families",
        "trust-report-pdf",
        None,
        link_text="Item 5 - Birmingham Children’s Trust",
        title="Birmingham Children’s Trust: Performance and Budget Update 2023/24",
        author="Birmingham City Council",
        published="2024-03-05",
        first="Birmingham City Council Report to Schools, Children and Families Overview and Scrutiny Committee",
        last="Equality impact assessments have been completed for each savings proposal and are available on request.",
        boilerplate=("Committee 13 March 2024 Item 5",),  # the running header
    ),
    # Birmingham UNISON (generated back-fill site); the second post is on feed page 5
    Case(
        "birmingham-unison",
        "budget-2024",
        "http://birminghamunison.co.uk.test/2024/05/08/budget-2024-25-childrens-services-cuts-will-cost-more-in-the-long-run/",
        title="Budget 2024/25: children’s services cuts will cost more in the long run",
        author="Maureen Quigley",
        published="2024-05-08T16:13:35+00:00",
        first="The council’s budget proposals for 2024/25 include cuts of £8m to services for children and families.",
        last="The branch represents members across the council, the trust, schools and the wider public sector in "
        "Birmingham.",
        boilerplate=("May 8, 2024", *UNISON_RECENT),
    ),
    Case(
        "birmingham-unison",
        "caseload-cap-2018-page5",
        "http://birminghamunison.co.uk.test/2018/12/03/branch-calls-for-caseload-cap-in-the-trust/",
        title="Branch calls for caseload cap in the trust",
        author="Shabana Akhtar",
        published="2018-12-03T10:25:08+00:00",
        first="Members in disabled children’s teams have told the branch that they are holding up to 27 cases each",
        last="Not a member yet? Join UNISON today and make sure you have the protection of the union at work.",
        boilerplate=(
            "December 3, 2018",
            "Inspection: members deserve support, not blame",
            "Waste workers: job losses must be resisted",
            "Budget 2024/25: children’s services cuts will cost more in the long run",
            *UNISON_RECENT,
        ),
    ),
]

SKIPPED_SOURCES = {"birmingham-live-midlands", "birmingham-against-the-cuts-news"}  # broken on purpose
MEETING_SOURCES = {"bcc-meetings", "solihull-meetings"}  # their papers: tests/test_meetings_crawl.py


# -- building the Article the spider would build ---------------------------------------------------
SITES = DemoSites.load()
DEMO_CONFIG = load_config(ROOT / "demo" / "config")


def _norm(text: str) -> str:
    return " ".join((text or "").split())


_clean = _norm  # the spider's whitespace clean-up of feed fields and link texts


def _iso(struct: time.struct_time | None) -> str | None:
    if not struct:
        return None
    return datetime.fromtimestamp(timegm(struct), tz=UTC).isoformat(timespec="seconds")


def _date_from_link_text(text: str) -> str | None:
    m = re.search(r"\b(\d{1,2})\s+([A-Z][a-z]+)\s+(\d{4})\b", text)
    return datetime.strptime(" ".join(m.groups()), "%d %B %Y").date().isoformat() if m else None


def _route(url: str):
    parts = urlsplit(url)
    route = SITES.find(parts.netloc, parts.path + (f"?{parts.query}" if parts.query else ""))
    return route if route is not None and route.status == 200 else None


def _get(url: str):
    route = _route(url)
    assert route is not None, f"no fixture serves {url}"
    return route


def _feed_pages(source) -> list[str]:
    pages = [source.url]
    if source.kind == "wordpress":
        sep = "&" if "?" in source.url else "?"
        pages += [f"{source.url}{sep}paged={n}" for n in range(2, 30)]
    return pages


def _feed_entry(source, url: str) -> dict:
    """The entry dict parse_feed builds for the item linking to `url`."""
    for page in _feed_pages(source):
        route = _route(page)
        if route is None:
            break
        parsed = feedparser.parse(route.body, response_headers={"content-type": route.content_type})
        for entry in parsed.entries:
            if not entry.get("link") or urljoin(page, entry["link"]) != url:
                continue
            content = entry.get("content") or []
            return {
                "title": _clean(entry.get("title")),
                "author": _clean(entry.get("author")) or None,
                "published": _iso(entry.get("published_parsed") or entry.get("updated_parsed")),
                "summary": (content[0].get("value") if content else None) or entry.get("summary"),
                "guid": entry.get("id"),
            }
    raise LookupError(f"{url} is in no feed page of {source.id}")


def _pdf_link(source, case: Case) -> tuple[str, dict]:
    """(url, entry) as parse_listing reads a pdf_links page: the link text gives title and day."""
    page = _get(source.url)
    for a in parsel.Selector(text=page.body.decode("utf-8")).css(source.links):
        href = urljoin(source.url, (a.attrib.get("href") or "").strip())
        text = _clean(" ".join(a.css("::text").getall()))
        if href == case.url or (case.link_text and text.startswith(case.link_text)):
            return href, {"title": text.split(",")[0].strip() or None, "published": _date_from_link_text(text)}
    raise LookupError(f"no link for {case.id} on {source.url}")


def _sitemap_entry(source, url: str) -> dict:
    todo = [source.url]
    while todo:
        sel = parsel.Selector(text=_get(todo.pop(0)).body.decode("utf-8"), type="xml")
        sel.remove_namespaces()
        todo += [loc.strip() for loc in sel.xpath("//sitemapindex/sitemap/loc/text()").getall()]
        for u in sel.xpath("//urlset/url"):
            if u.xpath("loc/text()").get("").strip() == url:
                return {"published": (u.xpath("lastmod/text()").get() or "").strip() or None}
    raise LookupError(f"{url} is in no sitemap of {source.id}")


def _govuk_item(source, url: str) -> tuple[dict, str]:
    """(entry, html) as parse_govuk_search + _govuk_content build them for the result at `url`."""
    page = source.url
    while page:
        route = _route(page)
        if route is None:
            break
        results = json.loads(route.body)["results"]
        for r in results:
            if urljoin(page, r["link"]) != url:
                continue
            data = {"title": r.get("title"), "published": r.get("public_timestamp"), "summary": r.get("description")}
            api = urlunsplit(urlsplit(page)._replace(path="/api/content" + r["link"], query=""))
            item = json.loads(_get(api).body)
            body = (item.get("details") or {}).get("body") or ""
            notice = item.get("withdrawn_notice") or {}
            if notice:
                body = (
                    f"<p>This was withdrawn on {notice.get('withdrawn_at', '')[:10]}: "
                    f"{notice.get('explanation', '')}</p>"
                ) + body
            html = (
                f"<html><head><title>{item.get('title', '')}</title></head>"
                f"<body><article>{body}</article></body></html>"
            )
            entry = {
                "title": item.get("title") or data["title"],
                "published": item.get("first_published_at") or data["published"],
                "summary": item.get("description") or data["summary"],
            }
            return entry, html
        if not results:
            break
        start = int(re.search(r"[?&]start=(\d+)", page)[1])
        count = int(re.search(r"[?&]count=(\d+)", page)[1])
        page = re.sub(r"([?&]start=)\d+", rf"\g<1>{start + count}", page)
    raise LookupError(f"{url} is in no search page of {source.id}")


def build_article(case: Case) -> Article:
    source = DEMO_CONFIG.source(case.source)
    url, entry, page = case.url, {}, {}
    if source.kind in ("feed", "wordpress"):
        entry = _feed_entry(source, url)
    elif source.kind == "pdf_links":
        url, entry = _pdf_link(source, case)
    elif source.kind == "sitemap":
        entry = _sitemap_entry(source, url)
    elif source.kind == "govuk_search":
        entry, html = _govuk_item(source, url)
        page = {"html": html}
    if not page and (source.kind not in ("feed", "wordpress") or source.follow):
        route = _get(url)
        is_pdf = route.body.lstrip().startswith(b"%PDF-")
        page = {
            "html": "" if is_pdf else route.body.decode("utf-8"),
            "body": route.body if is_pdf else b"",
            "content_type": route.content_type,
        }
    selectors = source.selectors.model_dump(exclude_none=True) if source.selectors else {}
    return Article(
        source_id=source.id,
        url=url,
        fetched_at=FETCHED_AT,
        feed_title=entry.get("title") or None,
        feed_author=entry.get("author"),
        feed_published=entry.get("published"),
        feed_summary=entry.get("summary"),
        guid=entry.get("guid"),
        extra={"selectors": selectors} if selectors else {},
        **page,
    )


_BY_ID = {c.id: c for c in CASES}


@functools.cache
def extracted(case_id: str) -> Article:
    return run_stages(build_article(_BY_ID[case_id]), DEMO_CONFIG)


def cases(check: str) -> list:
    """The table as pytest params for one check, with that check's xfail where the table has one."""
    return [
        pytest.param(
            c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail[check])] if check in c.xfail else []
        )
        for c in CASES
    ]


# -- the checks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", cases("title"))
def test_title(case: Case):
    assert extracted(case.id).title == case.title


@pytest.mark.parametrize("case", cases("author"))
def test_author(case: Case):
    assert extracted(case.id).author == case.author


@pytest.mark.parametrize("case", cases("published"))
def test_published(case: Case):
    got = extracted(case.id).published
    assert got, "no date extracted"
    if "T" in case.published:  # the page or feed gives a time: the same instant, with its offset
        assert "T" in got, f"{got!r} has no time; expected the instant {case.published}"
        when = datetime.fromisoformat(got)
        assert when.tzinfo is not None, f"{got!r} has no UTC offset"
        assert when == datetime.fromisoformat(case.published), f"{got!r} is not the instant {case.published}"
    else:
        assert got[:10] == case.published


@pytest.mark.parametrize("case", cases("first"))
def test_body_starts_with_first_sentence(case: Case):
    body = _norm(extracted(case.id).text)
    assert body.startswith(_norm(case.first)), f"body starts: {body[:200]!r}"


@pytest.mark.parametrize("case", cases("last"))
def test_body_contains_last_sentence(case: Case):
    body = _norm(extracted(case.id).text)
    assert _norm(case.last) in body, f"body ends: {body[-300:]!r}"


def _boilerplate(case: Case) -> list[str]:
    host = urlsplit(case.url or DEMO_CONFIG.source(case.source).url).netloc
    return [s for s in (*SITE_BOILERPLATE[host], *case.boilerplate) if s not in case.allowed]


@pytest.mark.parametrize("case", cases("boilerplate"))
def test_body_free_of_boilerplate(case: Case):
    body = _norm(extracted(case.id).text)
    leaked = [s for s in _boilerplate(case) if _norm(s) in body]
    assert not leaked, f"boilerplate in the body: {leaked}"


# -- the table itself ------------------------------------------------------------------------------
def test_every_article_source_has_cases():
    sources = {s.id for s in DEMO_CONFIG.sources} - SKIPPED_SOURCES - MEETING_SOURCES
    assert sources == {c.source for c in CASES}
    hosts = {urlsplit(s.url).netloc for s in DEMO_CONFIG.sources if s.id not in MEETING_SOURCES}
    assert set(SITE_BOILERPLATE) >= hosts - {"feeds.bbci.co.uk.test"}


def _visible_text(body: bytes) -> str:
    if body.lstrip().startswith(b"%PDF-"):
        return _norm(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages))
    with warnings.catch_warnings():  # feeds and JSON are read as text too
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(body.decode("utf-8"), "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return _norm(html_lib.unescape(soup.get_text("")))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_expectations_are_in_the_fixture(case: Case):
    """Guards the table against typos: every expected string is really in the fixture (compared with all
    whitespace removed), so no check is vacuous."""

    def squeeze(text: str) -> str:
        return "".join(text.split())

    article = build_article(case)
    titles = [article.feed_title or ""]
    if article.body:
        material = _visible_text(article.body)
        titles.append(PdfReader(io.BytesIO(article.body)).metadata.title or "")
    elif article.html:
        material = _visible_text(article.html.encode("utf-8"))
    else:
        material = _visible_text((article.feed_summary or "").encode("utf-8"))
    assert squeeze(case.first) in squeeze(material) and squeeze(case.last) in squeeze(material)
    assert any(squeeze(case.title) in squeeze(t) for t in (material, *titles))
    host = urlsplit(article.url).netloc
    site_text = [material] + [_visible_text(r.body) for r in SITES.hosts.get(host, {}).values() if r.body]
    page = _route(article.url.split("#")[0] if case.source.startswith("wdtk") else article.url)
    if page is not None:
        site_text.append(_visible_text(page.body))
    missing = [s for s in _boilerplate(case) if not any(squeeze(s) in squeeze(t) for t in site_text)]
    assert not missing, f"boilerplate strings found in no fixture of {host}: {missing}"


def test_iso_dates_of_selectors_read_as_dateparser_reads_them():
    """A source's date selector's ISO 8601 value is read without dateparser (its cost was most of an
    extraction's): the same datetime, offset and all, and dateparser still reads everything else."""
    import dateparser

    from carewatch.pipelines.extract import _parse_date

    for raw in [
        "2024-05-22",
        "2024-05-22T09:00",
        "2024-05-22T09:00:00",
        "2024-05-22 09:00:00",
        "2024-05-22T09:00:00Z",
        "2024-05-22T00:00:00+01:00",
        "2024-05-22T09:00:00-05:00",
        "2023-12-01T10:15:30.123+00:00",
        "2024-02-30",
        "2024-05-22T09:00:00+0100",
        " 2024-05-22",
        "22 May 2024",
        "🕔24.May 2016",
    ]:
        expected = dateparser.parse(raw, settings={"PREFER_DAY_OF_MONTH": "first"})
        got = _parse_date(raw)
        assert got == expected and (
            got is None or (got.isoformat(), got.utcoffset()) == (expected.isoformat(), expected.utcoffset())
        ), raw
