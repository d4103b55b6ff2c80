"""The shape of every config file, as pydantic models. Unknown keys are errors (typos)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from carewatch.config.messages import clock_time, css_problem, schedule_problem


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+\S*", value or ""):
        spaces = " without spaces (write a space as %20)" if re.match(r"^https?://\S", value or "") else ""
        raise ValueError(f"must be an http:// or https:// URL{spaces}")
    return value


class Smtp(_Model):
    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    username: str | None = None
    password: str | None = Field(None, description="not allowed: set the environment variable named by password_env")
    password_env: str = Field("CAREWATCH_SMTP_PASSWORD", description="environment variable holding the SMTP password")
    starttls: bool = False
    ssl: bool = False
    sender: str = "carewatch <carewatch@localhost>"
    timeout: float = Field(30, gt=0)

    @field_validator("password")
    @classmethod
    def _no_secret_in_yaml(cls, v: str | None) -> None:
        if v:
            raise ValueError(
                "passwords are never read from YAML: put it in the environment variable named by "
                "password_env (CAREWATCH_SMTP_PASSWORD unless set)"
            )
        return None


class Operator(_Model):
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")
    channels: tuple[str, ...] = ()
    source_failing_hours: float = Field(24, gt=0, description="a source failing this long is reported")
    digest_stuck_hours: float = Field(6, gt=0, description="a digest undelivered this long is reported")


# What a headline reports, for telling one event from another on one subject (store.stories): two
# reports of one event use the same event words ("effectively bankrupt", "declares bankruptcy");
# "Ofsted rates the Trust inadequate" and "the Trust's chief executive resigns" use different ones.
# The beat's recurring events, in the query language; settings.yaml's story_events replaces them.
# A subject is not an event: "bin strike" or a child's death is in every headline of its story, so
# the events are the steps (an offer rejected, talks collapsing, a verdict, a sentence).
STORY_EVENTS: dict[str, str] = {
    "inspection": "Ofsted OR inspection* OR inspector* OR rated OR rating OR ratings OR judged OR judgement OR "
    '"requires improvement" OR "monitoring visit" OR "focused visit"',
    "leadership": 'appoint* OR resign* OR quit OR quits OR "steps down" OR "stepped down" OR "step down" OR sacked '
    'OR ousted OR "new chief" OR "new boss" OR "new director" OR "new leader" OR "to lead" OR "to head"',
    "trial": '"court hears" OR "court heard" OR trial OR jury OR "told the court" OR denies OR denied',
    # "to be sentenced" and "face life sentences" are said on the day of the verdict
    "verdict": 'guilty OR convicted OR cleared OR acquitted OR verdict OR "to be sentenced" OR "will be sentenced"',
    "sentence": '(jailed OR sentenced OR "jail term" OR "jail terms" OR "years in jail" OR "years in prison" OR '
    '"minimum term" OR "serve at least" OR "serve a minimum" OR "locked up" OR "years for" OR "gets life" OR '
    '"jailed for life" OR "life imprisonment" OR "life in prison") AND NOT ("to be sentenced" OR "will be sentenced")',
    "sentence_review": '"unduly lenient" OR "too lenient" OR "to be reviewed" OR "Court of Appeal" OR referred',
    "case_review": '"case review" OR "practice review" OR "review finds" OR "review found" OR "missed opportunities" '
    "OR inquest",
    "section_114": '"section 114" OR s114 OR bankrupt OR bankruptcy',
    "intervention": 'commissioner* OR intervention OR intervene OR takeover OR "take over" OR "taken over" OR '
    '"takes control" OR "take control" OR "government control"',
    "strike_called": 'walkout OR walkouts OR "industrial action" OR "to strike" OR "strike dates" OR "all-out strike" '
    'OR "vote to strike" OR "voted to strike" OR ballot OR balloted',
    "offer_rejected": '(reject OR rejects OR rejected OR rejection OR "turned down" OR "voted down") NEAR/4 '
    "(offer OR deal OR proposal OR proposals)",
    "offer_accepted": '(accept OR accepts OR accepted OR agreed OR agree) NEAR/4 (offer OR deal) OR "called off" OR '
    '"calls off" OR suspended',
    "talks_collapse": 'talks NEAR/4 (collapse OR collapsed OR "break down" OR "broke down" OR "broken down" OR failed)',
    "major_incident": '"major incident"',
    "pay_deal": '"equal pay" NEAR/4 (deal OR agreement OR settle* OR settlement OR offer)',
    "budget": 'budget OR cuts OR savings OR "council tax"',
    "trust_transfer": '"independent trust" OR "to a trust" OR "into a trust" OR "voluntary trust" OR "new trust"',
}
# Steps of one sequence, earliest first: a headline naming several reports the latest ("pair guilty
# of cruelty jailed for 30 years" is the sentencing, not the verdict), and a consequence is the event
# of a headline that names its cause ("councillor resigns over Ofsted rating" is the resignation).
STORY_EVENT_SEQUENCES: tuple[tuple[str, ...], ...] = (
    ("trial", "verdict", "sentence", "sentence_review"),
    ("inspection", "leadership"),
    ("inspection", "intervention"),
    ("section_114", "intervention"),
)


class Settings(_Model):
    database: str = "carewatch.db"
    user_agent: str = "carewatch/0.1 (+https://github.com/carewatch; mailto:carewatch@example.org)"
    http_proxy: str | None = None
    download_delay: float = Field(5.0, ge=0)
    concurrent_requests_per_domain: int = Field(1, ge=1, le=16)
    download_timeout: float = Field(30.0, gt=0)
    retry_times: int = Field(2, ge=0, le=10)
    retry_backoff: float = Field(2.0, ge=0, description="seconds before the first retry; doubled each time")
    max_response_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_links_per_page: int = Field(
        500,
        ge=1,
        description="new links followed from one page of a source (feed, "
        "listing, sitemap, search results); more are left for later crawls, with a "
        "warning in the fetch log",
    )
    obey_robots: bool = True
    autothrottle: bool = True
    crawl_timeout: float = Field(1800.0, gt=0, description="seconds a whole crawl may take")
    near_duplicate_similarity: float = Field(
        0.6, gt=0, le=1, description="Jaccard similarity of word 3-shingles at which a text is a near copy of another"
    )
    near_duplicate_overlap: float = Field(
        0.8, gt=0, le=1, description="...or the share of the shorter text's 3-shingles found in the longer"
    )
    near_duplicate_sentences: float = Field(
        0.6,
        gt=0,
        le=1,
        description="...or the share of the shorter text's words in sentences found again, lightly edited, in the "
        "other (a copy reworded a little in every sentence keeps few shingles but most of its sentences)",
    )
    revisit_days: int = Field(
        2,
        ge=0,
        description="pages first seen this many days ago or less are asked "
        "again (conditionally) on every crawl, to catch edits; 0: never",
    )
    edit_alert_share: float = Field(
        0.05, gt=0, le=1, description="share of words changed that makes an edit of an article alertable"
    )
    story_window_days: int = Field(3, ge=0, description="coverage of one story is published within this many days")
    story_similarity: float = Field(
        0.12,
        gt=0,
        le=1,
        description="similarity (IDF-weighted cosine of the "
        "names, figures and words of headline and opening) that makes two articles one story "
        "(bench/real_pairs.py: above every different event on one subject of its tuned part)",
    )
    story_events: dict[str, Query] = Field(
        default_factory=lambda: dict(STORY_EVENTS),
        description="what a headline reports (id: query): two articles reporting different ones are at most related "
        "below story_certain_similarity; sharing one, they are one story from story_related_similarity",
    )
    story_event_sequences: tuple[tuple[str, ...], ...] = Field(
        STORY_EVENT_SEQUENCES,
        description="steps of one sequence of events (story_events ids, earliest first): a headline naming "
        "several reports the latest",
    )
    story_certain_similarity: float = Field(
        0.2,
        gt=0,
        le=1,
        description="from this similarity two articles are one story whatever their headlines' event words",
    )
    story_similarity_per_day: float = Field(
        0.12,
        ge=0,
        le=1,
        description="added to story_similarity and story_certain_similarity for each calendar day between two "
        "articles beyond the first: coverage of one event comes out the same day or the next; a later step "
        "of the same case (the sentencing after the verdict) days later, in the same names",
    )

    @model_validator(mode="after")
    def _sequences_name_events(self) -> Settings:
        for sequence in self.story_event_sequences:
            unknown = [e for e in sequence if e not in self.story_events]
            if unknown:
                raise ValueError(
                    f"story_event_sequences names {', '.join(map(repr, unknown))}, not in story_events "
                    f"(the events are: {', '.join(sorted(self.story_events))})"
                )
        return self

    story_related_similarity: float = Field(
        0.085,
        gt=0,
        le=1,
        description="from this similarity up to story_similarity, two articles are related, not one story: "
        "digests show both, each naming the other",
    )
    failing_after: int = Field(3, ge=1, description="failed crawls in a row before a source is 'failing'")
    retry_failing_max_hours: float = Field(
        24, gt=0, description="cap of the backoff between retries of a failing source"
    )
    crawl_interval_minutes: int = Field(60, ge=5, description="the daemon crawls every source this often")
    block_private_addresses: bool = Field(
        True,
        description="refuse to fetch from loopback, private, link-local "
        "and other non-public addresses (also after a redirect) and from "
        "schemes other than http(s); the demo and tests turn it off",
    )
    schedule_jitter_seconds: float = Field(30, ge=0, description="random delay added to each scheduled crawl")
    alerts_check_seconds: float = Field(60, gt=0, description="how often the daemon looks for due digests")
    max_parallel_crawls: int = Field(2, ge=1, description="crawls (child processes) the daemon runs at once")
    crawl_memory_mb: int = Field(4096, ge=256, description="address-space limit of a crawl's child process")
    health_port: int | None = Field(
        8765,
        ge=0,
        le=65535,
        description="the daemon's health endpoint on 127.0.0.1 (GET /health); 0 picks a free port, null turns it off",
    )
    log_file: str | None = Field(None, description="JSON-lines log (rotated); default: standard error only")
    progress_seconds: float = Field(
        30,
        gt=0,
        description="long commands (crawl, tag --retag, reprocess) not run on a terminal print a "
        "progress line this often (on a terminal: a progress bar)",
    )
    log_max_mb: float = Field(10, gt=0)
    log_backups: int = Field(5, ge=0)
    fetch_retention_days: int = Field(
        180, ge=1, description="fetch log rows older than this are deleted daily (the latest of each source is kept)"
    )
    operator: Operator | None = Field(
        None, description="who hears when a source has failed for a day or digests are stuck"
    )
    raw_dir: str | None = Field(
        None,
        description="where raw responses are kept as WARC files, so any article can be "
        "re-extracted later (carewatch reprocess); default: beside the database, <db>-raw/",
    )
    backup_keep: int = Field(
        14, ge=1, description="carewatch backup DIR keeps this many dated backups there, deleting older ones"
    )
    alert_max_age_days: int = Field(30, ge=1, description="never alert articles first seen longer ago")
    digest_max_entries: int = Field(
        50,
        ge=1,
        description="stories listed in one digest; the rest are counted ('and N more in the archive') and "
        "linked to the archive, never sent in a later digest",
    )
    digest_max_links: int = Field(
        10,
        ge=0,
        description="'Also covered by' and 'Also at' links under one story; the rest are counted and linked "
        "to the story in the archive",
    )
    digest_max_bytes: int = Field(
        100_000,
        ge=20_000,
        description="the largest a digest email may be (Gmail hides what is past about 102 KB, footer and "
        "unsubscribe link included): stories are dropped from the end, counted as 'more in the archive', "
        "until it fits",
    )
    archive_url: str | None = Field(
        None,
        description="the archive's articles table as published by 'carewatch serve' (e.g. "
        "https://example.org/archive/carewatch/articles): digests link what they leave out to it; "
        "default: counted, not linked",
    )
    public_url: str | None = Field(
        None,
        description="where 'carewatch serve' is published (e.g. https://example.org/archive/): the sign-up, "
        "manage and unsubscribe links of emails are made from it; without it digests carry only the "
        "mailto unsubscribe",
    )
    signup: Literal["open", "approval", "closed"] = Field(
        "closed",
        description="the /subscribe page: open (a confirmed address gets digests), approval (the operator "
        "approves each confirmed sign-up: carewatch subscribers approve ID) or closed",
    )
    signup_limit_per_address: int = Field(
        3, ge=1, description="sign-up emails one address may be sent in 24 hours (more are not sent)"
    )
    signup_limit_per_client: int = Field(
        10, ge=1, description="sign-ups one client (IP address) may make in an hour (more are refused)"
    )
    smtp: Smtp = Smtp()

    @field_validator("http_proxy")
    @classmethod
    def _proxy(cls, v: str | None) -> str | None:
        return v if v is None else _http_url(v)

    @field_validator("archive_url", "public_url")
    @classmethod
    def _archive_url(cls, v: str | None) -> str | None:
        return v if v is None else _http_url(v)


_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> int:
    """'90m', '12h', '14d', '2w' -> seconds."""
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError("must be a duration such as 90m, 12h, 14d or 2w")
    return int(m[1]) * _UNITS[m[2]]


class Selectors(_Model):
    """Per-site CSS selectors that override automatic extraction (each optional)."""

    title: str | None = None
    date: str | None = None
    author: str | None = None
    body: str | None = None

    @field_validator("title", "date", "author", "body")
    @classmethod
    def _css(cls, v: str | None) -> str | None:
        if v is not None and (problem := css_problem(v, pseudo_elements=False)):  # read by lxml (pipelines.extract)
            raise ValueError(problem)
        return v


class Source(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    kind: Literal["feed", "wordpress", "listing", "pdf_links", "sitemap", "govuk_search", "cmis", "moderngov"] = Field(
        description="feed: RSS/Atom; wordpress: a WordPress feed, back-filled through ?paged=N; "
        "listing: an HTML page of article links; pdf_links: a page of links to PDFs; "
        "sitemap: a sitemap or sitemap index; govuk_search: the GOV.UK Search API, each result "
        "read through the Content API; cmis, moderngov: a council's meetings (the calendar, each "
        "meeting's agenda and its documents) on CMIS or ModernGov, url the site's base"
    )
    url: str
    links: str | None = Field(None, description="CSS selector of article links (listing, pdf_links)")
    next_page: str | None = Field(None, description="CSS selector of the next (older) page link, for back-fill")
    selectors: Selectors | None = None
    follow: bool = Field(True, description="feed: fetch each entry's page for the full text")
    include_keywords: tuple[str, ...] = Field((), description="keep only items mentioning one of these")
    local: bool = Field(
        False,
        description="the source publishes only about Birmingham: its articles count as naming "
        "the place (relevance) even when they do not say 'Birmingham'",
    )
    url_pattern: str | None = Field(None, description="keep only article URLs matching this regular expression")
    cadence: str = Field("30d", description="how often this source normally publishes; longer silence is flagged")
    enabled: bool = True
    schedule: str | None = Field(
        None,
        description="when the daemon crawls it: 'every 15m' (s, m, h, d) or a cron line "
        "('0 7 * * 1-5', Europe/London); default: every crawl_interval_minutes",
    )
    notes: str | None = None
    official: bool = Field(
        False,
        description="it publishes official documents or statements (Ofsted, the council, the Trust): its "
        "relevant items are 'not yet covered' in digests until a press article is linked to them "
        "(cmis and moderngov sources are)",
    )
    # cmis and moderngov sources
    committees: tuple[str, ...] = Field(
        (),
        description="cmis, moderngov: the committees to follow, by name as the calendar shows them "
        "(a name matches when each of its words is in the committee's: 'Cabinet', 'Corporate Parenting'); "
        "empty: every committee",
    )
    months_ahead: int = Field(3, ge=0, le=12, description="cmis, moderngov: calendar months read ahead")
    months_back: int = Field(1, ge=0, le=24, description="cmis, moderngov: calendar months read back (back-fill)")
    authority: str | None = Field(
        None, description="cmis, moderngov: the council, as digests and links name it (default: the source's name)"
    )

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _http_url(v)

    @field_validator("cadence")
    @classmethod
    def _cadence(cls, v: str) -> str:
        duration_seconds(v)
        return v

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str | None) -> str | None:
        if v is not None and (problem := schedule_problem(v)):
            raise ValueError(problem)
        return v

    @field_validator("links", "next_page")
    @classmethod
    def _css(cls, v: str | None) -> str | None:
        if v is not None and (problem := css_problem(v)):  # read by Scrapy (parsel): ::text, ::attr() too
            raise ValueError(problem)
        return v

    @field_validator("url_pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"not a valid regular expression: {e}") from e
        return v

    def interval_seconds(self, settings: Settings) -> int | None:
        """Seconds between its scheduled crawls: its ``every …`` schedule, else
        ``crawl_interval_minutes``; None for a cron line (the daemon's trigger and the retry backoff
        of a failing source both start from it)."""
        if self.schedule and not self.schedule.startswith("every "):
            return None
        return duration_seconds(self.schedule[6:]) if self.schedule else settings.crawl_interval_minutes * 60

    @model_validator(mode="after")
    def _links_needed(self) -> Source:
        if self.kind in ("listing", "pdf_links") and not self.links:
            raise ValueError(f"a {self.kind} source needs 'links': the CSS selector of its article links")
        return self


class Sources(_Model):
    sources: tuple[Source, ...]  # ids unique: checked by config/load.py, which can name the duplicate's line


def _query(value: str) -> str:
    from carewatch.core.query import parse  # a config-time check of the rule language

    parse(value)
    return value


Query = Annotated[str, AfterValidator(_query)]  # a query, checked where it is written (errors name its index)


class Evidence(_Model):
    """One weighted query: each hit counts ``weight`` (twice in the headline), at most ``cap`` hits."""

    query: Query
    name: str | None = Field(None, description="how the evidence names a rule (the query itself if not given)")
    weight: float = Field(1.0, description="points per hit")
    cap: int = Field(3, ge=1, description="hits counted at most")


def _evidence_list(value: object) -> object:
    """A list entry may be a bare query string (weight 1) or {query, weight, cap}."""
    if isinstance(value, (list, tuple)):
        return [{"query": v} if isinstance(v, str) else v for v in value]
    return value


class Topic(_Model):
    label: str
    description: str | None = None
    terms: tuple[Evidence, ...] = Field(
        (), description='words, word stems (stem*) and "phrases": each hit adds its weight (1 unless given)'
    )
    rules: tuple[Evidence, ...] = Field(
        (), description="boolean rules (AND, OR, NOT, brackets, NEAR/n, topic:ID): each that holds adds its weight once"
    )
    not_counting: tuple[Query, ...] = Field(
        (), description='phrases whose words are not evidence (e.g. "Birmingham Children\'s Hospital")'
    )
    exclude: tuple[Query, ...] = Field((), description="rules that, when they hold, veto the topic")
    min_score: float = Field(3.0, gt=0, description="evidence needed before the topic is given")

    _lists = field_validator("terms", "rules", mode="before")(_evidence_list)

    @model_validator(mode="after")
    def _something(self) -> Topic:
        if not self.terms and not self.rules:
            raise ValueError("a topic needs 'terms' or 'rules'")
        return self


class ReaderAddressed(_Model):
    """A page that speaks to its reader (``words``, as often as ``per_thousand`` of its words) and
    holds none of ``unless`` (reported speech, a campaign's call) is a service or marketing page: a
    fostering agency's, a hospital's safeguarding page, a school's policy. News reports what
    somebody said; a campaign asks its reader to act."""

    words: Query = Field("you OR your OR yours OR yourself", description="the words that address the reader")
    per_thousand: float = Field(10.0, gt=0, description="how many of them per 1,000 words make a page addressed")
    unless: tuple[Query, ...] = Field((), description="what makes an addressed page news or a campaign after all")


class Relevance(_Model):
    """Is the article about Birmingham's children's social care at all? Scored like a topic: the place
    must be named (outside the ``not_places`` phrases) more than other places, and the subject evidence
    must reach ``min_score``."""

    places: tuple[Query, ...] = Field(("birmingham",), description="the place: one must be named")
    not_places: tuple[Query, ...] = Field(
        (), description='phrases naming the place that are not it ("Birmingham, Alabama")'
    )
    other_places: tuple[Query, ...] = Field(
        (), description="other places: when named more often than ours, not relevant"
    )
    subjects: tuple[Evidence, ...] = Field(
        (Evidence(query='"children\'s services"'), Evidence(query='"children\'s social care"')),
        description="subject evidence, weighted like topic terms",
    )
    rules: tuple[Evidence, ...] = ()
    not_counting: tuple[Query, ...] = Field((), description="phrases whose words are not subject evidence")
    exclude: tuple[Query, ...] = Field((), description="rules that, when they hold, make an article irrelevant")
    addressed_to_reader: ReaderAddressed | None = Field(
        None, description="service and marketing pages, told by how they address their reader: irrelevant"
    )
    min_score: float = Field(3.0, gt=0)
    local_entities: tuple[str, ...] = Field(
        (),
        description="entities.yaml ids that are the place's own (its council, its children's trust, their "
        "leaders): each named counts as naming the place, anywhere in the article",
    )
    opening_words: int = Field(
        60,
        ge=0,
        description="a single mention of the place counts only within the headline "
        "and this many words (or from a local source)",
    )

    _lists = field_validator("subjects", "rules", mode="before")(_evidence_list)


class Topics(_Model):
    topics: dict[str, Topic]
    relevance: Relevance = Relevance()


class DatedAlias(_Model):
    query: str
    start: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    end: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class Entity(_Model):
    """A person or organisation: its aliases are queries; a dated alias holds only between its dates."""

    name: str
    kind: Literal["person", "organisation", "role"] = "organisation"
    aliases: tuple[str | DatedAlias, ...] = Field(min_length=1)

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, v: tuple) -> tuple:
        for a in v:
            _query(a if isinstance(a, str) else a.query)
        return v


class Entities(_Model):
    entities: dict[str, Entity] = {}


DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Subscriber(_Model):
    """Who gets digests, how often, through which channels, and for what."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$", description="digests by email (the smtp settings)")
    channels: tuple[str, ...] = Field(
        (),
        description="other channels as apprise URLs (slack://, tgram://, matrix://, "
        "discord://, json:// webhooks, ...); write secrets as ${ENV_VAR}",
    )
    frequency: Literal["immediate", "daily", "weekly"] = "daily"
    at: Annotated[str, AfterValidator(clock_time)] = Field(
        "08:00", description="daily/weekly: the time (24-hour HH:MM), Europe/London"
    )
    day: Literal[DAYS] = Field("monday", description="weekly: the day")  # type: ignore[valid-type]
    rules: tuple[Query, ...] = Field(
        (),
        description='queries (words, "phrases", AND/OR/NOT, brackets, prefix*, NEAR/n, '
        "topic:, source:, entity:); an article matching any one is selected",
    )
    keywords: tuple[str, ...] = Field((), description="shorthand: each is a word or phrase rule")
    topics: tuple[str, ...] = Field((), description="shorthand: each is a topic:ID rule")
    sources: tuple[str, ...] = Field((), description="only articles from these sources (all when empty)")
    include_irrelevant: bool = Field(False, description="also articles judged not about Birmingham's children's care")
    coming_up_days: int = Field(
        7,
        ge=0,
        le=60,
        description="'Coming up': agenda items on children's social care of meetings in the next N days (0: none)",
    )
    not_covered_days: int = Field(
        3,
        ge=0,
        le=60,
        description="'Not yet covered': official documents no press article has covered N days after they "
        "appeared (0: none)",
    )

    @field_validator("channels")
    @classmethod
    def _apprise_urls(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for url in v:
            if not re.match(r"^[a-z][a-z0-9+.-]*://", url):
                raise ValueError(f"{url!r} is not a channel URL (apprise form, e.g. slack://..., json://host/path)")
        return v

    @model_validator(mode="after")
    def _some_rule(self) -> Subscriber:
        if not self.rules and not self.keywords and not self.topics:
            raise ValueError("a subscriber needs 'rules', 'keywords' or 'topics'")
        if not self.email and not self.channels:
            raise ValueError("a subscriber needs an 'email' or 'channels'")
        return self

    def all_rules(self) -> tuple[str, ...]:
        """Every rule as a query: the rules, then keywords as phrases, then topics."""

        def phrase(k: str) -> str:
            k = k.strip()
            return k if (" " not in k and '"' not in k) else '"' + k.replace('"', "") + '"'

        return self.rules + tuple(phrase(k) for k in self.keywords) + tuple(f"topic:{t}" for t in self.topics)


class Alerts(_Model):
    subscribers: tuple[Subscriber, ...] = ()


def query_names(topics: Topics, sources: tuple[Source, ...], entities: Entities) -> dict[str, frozenset[str]]:
    """The names a query's ``topic:``/``source:``/``entity:`` may use: topics.yaml's topics,
    sources.yaml's ids, entities.yaml's ids (checked by core.query.check_names)."""
    return {
        "topic": frozenset(topics.topics),
        "source": frozenset(s.id for s in sources),
        "entity": frozenset(entities.entities),
    }


class Config(_Model):
    directory: str
    settings: Settings
    sources: tuple[Source, ...]
    topics: Topics
    alerts: Alerts
    entities: Entities = Entities()

    def query_names(self) -> dict[str, frozenset[str]]:
        """The topics, sources and entities a query may name (``query_names``)."""
        return query_names(self.topics, self.sources, self.entities)

    def official_sources(self) -> tuple[str, ...]:
        """The sources of official documents and statements ('not yet covered' until press coverage is
        linked to them): those marked ``official``, and every meetings source."""
        return tuple(s.id for s in self.sources if s.official or s.kind in ("cmis", "moderngov"))

    def source(self, source_id: str) -> Source:
        for s in self.sources:
            if s.id == source_id:
                return s
        raise KeyError(source_id)
