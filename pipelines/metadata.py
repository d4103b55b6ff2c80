"""Title, authors and publication date from a parsed page, cheapest and most reliable source first:
JSON-LD, then meta tags, then ``<time>``, then the site's own visible date formats, then the URL.
htmldate (trafilatura's date finder) is the last resort, run only when all of these are silent.

Hand-written on top of lxml because the general extractors do this work on every page, slowly,
and mostly to day precision; publishers' structured data usually gives the exact instant and the
author list directly, and our own sites' visible formats (the Chamberlain Files' ``🕔12.Dec 2013``,
the Trust's ``Published: 8th Jun 2018``) are known.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from lxml.html import HtmlElement

from carewatch.core.items import parse_timestamp

_DATE_META = (
    "article:published_time",
    "og:published_time",
    "published_time",
    "datepublished",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.created",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "govuk:first-published-at",
    "article.published",
    "cxenseparse:recs:publishtime",
)
_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl", "twitter:creator")
_VISIBLE_TEXT = ".//text()[not(ancestor::script) and not(ancestor::style)]"  # a heading's words, not its scripts
_TITLE_META = ("og:title", "twitter:title", "parsely-title", "sailthru.title")
_ARTICLE_TYPES = {
    "newsarticle",
    "article",
    "blogposting",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "report",
    "webpage",
    "liveblogposting",
    "socialmediaposting",
}

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MON = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
# Visible date formats of the sites we watch, each with how to read it.
_VISIBLE = [
    (re.compile(r"\U0001F554\s*(\d{1,2})\.(" + _MON + r")[a-z]*\s+(\d{4})"), "%d %b %Y"),  # 🕔24.May 2016
    (re.compile(r"Published:?\s*(\d{1,2})(?:st|nd|rd|th)?\s+(" + _MON + r")[a-z]*\s+(\d{4})"), "%d %b %Y"),
    (re.compile(r"Published\s+(\d{1,2})\s+(" + _MONTHS + r")\s+(\d{4})"), "%d %B %Y"),  # GOV.UK
    (
        re.compile(r"\b(" + _MONTHS + r")\s+(\d{1,2}),\s+(\d{4})\s*·\s*(\d{1,2}:\d{2}\s*[ap]m)", re.I),
        "%B %d %Y %I:%M %p",
    ),  # WordPress.com: October 22, 2014 · 8:18 pm
    (re.compile(r"\bBy\s.{0,40}?\bon\s+(\d{2})/(\d{2})/(\d{4})"), "%d %m %Y"),  # By X on 23/05/2014
]
# A plain-text byline: "Posted on 25 May 2016 by Birmingham Socialist Party in Privatisation".
_POSTED_BY = re.compile(r"\bPosted (?:on [\w ,/.-]{3,30}? )?by ([A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,4})")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{1,2}|[a-z]{3})/(\d{1,2})/")
_BYLINE_NOISE = re.compile(r"^(by|written by|words by|posted by)\s+", re.I)
_NOT_AUTHORS = {
    "staff reporter",
    "staff",
    "admin",
    "editor",
    "reporter",
    "news desk",
    "newsdesk",
    "press office",
    "press release",
    "web team",
    "bbc news",
}


def _norm_date(value: str | None) -> str | None:
    """An ISO date, or a timestamp in UTC, or None if it does not parse."""
    if not value:
        return None
    value = value.strip()
    try:
        dt = parse_timestamp(value)
    except ValueError:
        m = re.match(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?\s*([+-]\d{2}:?\d{2}|Z)?", value)
        if not m:
            m2 = re.match(r"(\d{4}-\d{2}-\d{2})$|(\d{4})(\d{2})(\d{2})$", value)
            if not m2:
                return None
            return m2.group(1) or f"{m2.group(2)}-{m2.group(3)}-{m2.group(4)}"
        try:
            dt = parse_timestamp(f"{m[1]}T{m[2]}{m[3] or ''}")
        except ValueError:
            return None
    if len(value) <= 10:
        return dt.date().isoformat()
    return dt.isoformat()


def _jsonld_objects(tree: HtmlElement) -> list[dict]:
    out: list[dict] = []
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.append(item["@graph"])
                types = item.get("@type")
                types = types if isinstance(types, list) else [types]
                if any(isinstance(t, str) and t.lower() in _ARTICLE_TYPES for t in types):
                    out.append(item)
    # An article beats a bare WebPage.
    out.sort(key=lambda o: str(o.get("@type")).lower() in ("webpage", "['webpage']"))
    return out


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def clean_authors(names: list[str]) -> list[str]:
    out: list[str] = []
    for raw in names:
        for name in re.split(r"\s*(?:,|\band\b|&|\|)\s*", raw) if len(raw) > 40 or " and " in raw else [raw]:
            name = _BYLINE_NOISE.sub("", " ".join(name.split())).strip(" ,;:-")
            if not name or name.lower() in _NOT_AUTHORS or name.startswith(("http://", "https://", "@")):
                continue
            if len(name) > 60 or any(ch.isdigit() for ch in name):
                continue
            if name.lower() not in (n.lower() for n in out):
                out.append(name)
    return out


def _meta(tree: HtmlElement) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for el in tree.xpath("//meta[@content]"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key:
            found.setdefault(key, []).append(el.get("content").strip())
    return found


def _site_suffix(title: str) -> str:
    parts = re.split(r"\s+[|–—-]\s+", title)
    return max(parts, key=len) if len(parts) > 1 else title


def _page_text(tree: HtmlElement) -> str:
    body = tree.find(".//body")
    return (body if body is not None else tree).text_content()[:30000]


def _visible_date(text: str) -> str | None:
    for pattern, fmt in _VISIBLE:
        if m := pattern.search(text):
            try:
                dt = datetime.strptime(" ".join(m.groups()).replace("Sept", "Sep"), fmt)
            except ValueError:
                continue
            return dt.isoformat() if dt.hour or dt.minute else dt.date().isoformat()
    return None


def _url_date(url: str) -> str | None:
    if m := _URL_DATE.search(url or ""):
        month = m[2] if m[2].isdigit() else str(datetime.strptime(m[2], "%b").month)
        try:
            return datetime(int(m[1]), int(month), int(m[3])).date().isoformat()
        except ValueError:
            return None
    return None


def page_metadata(tree: HtmlElement, url: str) -> dict:
    """title, authors, date (ISO, offset kept where given) and where each came from."""
    meta = _meta(tree)
    objects = _jsonld_objects(tree)
    out: dict = {"title": None, "authors": [], "date": None, "paths": {}}
    page_text: str | None = None  # the page's visible text, made at most once, only if needed

    for obj in objects:
        if not out["title"] and isinstance(obj.get("headline"), str):
            out["title"], out["paths"]["title"] = " ".join(obj["headline"].split()), "json-ld"
        if not out["authors"] and (names := clean_authors(_names(obj.get("author")))):
            out["authors"], out["paths"]["authors"] = names, "json-ld"
        if not out["date"] and (d := _norm_date(str(obj.get("datePublished") or obj.get("dateCreated") or ""))):
            out["date"], out["paths"]["date"] = d, "json-ld"
    if not out["title"]:
        for key in _TITLE_META:
            if meta.get(key) and meta[key][0]:
                out["title"], out["paths"]["title"] = " ".join(meta[key][0].split()), f"meta {key}"
                break
    if not out["title"]:
        h1 = [" ".join(t.split()) for t in ("".join(h.xpath(_VISIBLE_TEXT)) for h in tree.xpath("//h1")) if t.strip()]
        title_tag = " ".join(" ".join(tree.xpath("//title/text()")).split())
        if len(h1) == 1:
            out["title"], out["paths"]["title"] = h1[0], "h1"
        elif title_tag:
            out["title"], out["paths"]["title"] = _site_suffix(title_tag), "title tag"
    if not out["authors"]:
        for key in _AUTHOR_META:
            if meta.get(key) and (names := clean_authors(meta[key])):
                out["authors"], out["paths"]["authors"] = names, f"meta {key}"
                break
    if not out["authors"]:
        byline = tree.xpath('//*[@rel="author"]|//*[contains(@class,"byline")]//a|//*[@itemprop="author"]')
        names = clean_authors([" ".join(el.text_content().split()) for el in byline[:4]])
        if names:
            out["authors"], out["paths"]["authors"] = names, "byline"
    if not out["authors"]:
        text = page_text = _page_text(tree)
        if (m := _POSTED_BY.search(text)) and (names := clean_authors([m.group(1)])):
            out["authors"], out["paths"]["authors"] = names, "byline text"
    if not out["date"]:
        for key in _DATE_META:
            if meta.get(key) and (d := _norm_date(meta[key][0])):
                out["date"], out["paths"]["date"] = d, f"meta {key}"
                break
    if not out["date"]:
        times = tree.xpath("(//article//time[@datetime]|//main//time[@datetime]|//time[@datetime])/@datetime")
        if times and (d := _norm_date(times[0])):
            out["date"], out["paths"]["date"] = d, "time element"
    if not out["date"] and (d := _visible_date(page_text if page_text is not None else _page_text(tree))):
        out["date"], out["paths"]["date"] = d, "visible date"
    if not out["date"] and (d := _url_date(url)):
        out["date"], out["paths"]["date"] = d, "url"
    return out
