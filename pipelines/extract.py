"""Main text, title, author and date: trafilatura for HTML pages, pypdf for PDFs, the feed entry
as the fallback. The feed's own metadata (title, author, date) wins where the page is unclear.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
from datetime import datetime
from urllib.parse import urljoin

import dateparser
import ftfy
import lxml.html
import trafilatura
from bs4 import BeautifulSoup
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from pypdf import PdfReader
from scrapy.exceptions import DropItem

from carewatch.config.schema import Config
from carewatch.core.items import Article, SeenIndex, parse_timestamp
from carewatch.pipelines.metadata import clean_authors, page_metadata
from carewatch.pipelines.ofsted import report_fields

_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, default_doctype=False)
# For text already decoded (by Scrapy, from HTTP headers, BOM and meta): ignore the page's own
# charset declaration, which no longer applies to the bytes we hand lxml.
_PARSER_UTF8 = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, default_doctype=False, encoding="utf-8")

log = logging.getLogger(__name__)

# Lines that blogging platforms put inside the post body itself.
_BOILERPLATE_LINE = re.compile(
    r"^(Enhanced by Zemanta|Share this:?|Like this:?|Like Loading\.*|Related|"
    r"Click to share on .*|Posted in .*|Filed under .*|Leave a comment)$",
    re.I,
)
# Blocks that sit inside article pages but are not the article: "Similar Articles" teasers,
# newsletter boxes, related links. trafilatura drops most boilerplate by itself; these are the
# ones seen slipping through on the sites we watch (matched as whole class names).
_PRUNE_CLASSES = {"similar-articles", "related-posts", "sharedaddy", "newsletter", "most-read"}
# One cheap pass (substring tests), then an exact check of the class tokens in Python.
_PRUNE_CANDIDATES = etree.XPath("//*[" + " or ".join(f"contains(@class, '{c}')" for c in _PRUNE_CLASSES) + "]")


def _prune(tree: HtmlElement) -> None:
    for node in _PRUNE_CANDIDATES(tree):
        if _PRUNE_CLASSES & set((node.get("class") or "").split()) and node.getparent() is not None:
            node.drop_tree()


class ExtractionFailed(DropItem):
    """Nothing usable came out of a page: the store records it in the fetch log."""

    record_as_error = True

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level="INFO")  # recorded in the fetch log; no item dump in the log


def is_pdf(body: bytes, content_type: str = "") -> bool:
    """Sniff the bytes: an Ofsted 'PDF' link can serve an HTML page."""
    return body.lstrip()[:5] == b"%PDF-"


def html_to_text(html: str) -> str:
    """Plain text of a fragment of HTML (feed summaries and content), tolerant of broken markup."""
    if not html:
        return ""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    text = soup.get_text("\n")
    return _tidy(text)


def _tidy(text: str) -> str:
    text = text.replace("\r", "").replace("\u00a0", " ")
    lines = [re.sub(r"[ \t]+", " ", ln).strip() for ln in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        dt = parse_timestamp(value)
    except ValueError:
        return None
    return dt.date().isoformat() if len(value.strip()) <= 10 else dt.isoformat(timespec="seconds")


def _pdf_date(raw: str | None) -> str | None:
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})", raw or "")
    return f"{m[1]}-{m[2]}-{m[3]}" if m else None


class PdfProblem(Exception):
    """A PDF that cannot be read: encrypted, or a scan with no text layer."""


_JUNK_TITLE = re.compile(r"^(\d+|untitled|microsoft word - .*|.*\bdraft\b.*|document\d*)$", re.I)


def _pdf_title(meta_title: str, text: str) -> str:
    """The document's own title, unless it is junk ('1', 'Birmingham - draft report'); else its
    opening line(s), up to an Ofsted report's 'Inspection date' line."""
    if meta_title and len(meta_title) > 8 and not _JUNK_TITLE.match(meta_title.strip()):
        return meta_title.strip()
    flat = " ".join(text.split())
    head = re.split(r"\s(?:Inspection dates?:|Date of|Published)", flat[:400])[0]
    head = re.sub(r"^\d+\s+", "", head)  # a page number
    head = re.sub(r"(?<=[a-z])\d$", "", head).strip()  # a footnote mark
    return head[:250] if len(head.split()) >= 3 else (meta_title or head)


def _without_running_heads(pages: list[str]) -> list[str]:
    """Drop the lines a document repeats at the top or bottom of its pages (running headers and
    footers) and bare page numbers."""

    def edges(lines: list[str]) -> list[str]:
        return lines[:3] + lines[-3:]

    split = [[ln.strip() for ln in page.splitlines()] for page in pages]
    counts: dict[str, int] = {}
    for lines in split:
        for ln in set(edges(lines)):
            key = re.sub(r"\d+", "#", ln)
            counts[key] = counts.get(key, 0) + 1
    repeated = {k for k, n in counts.items() if k and n >= max(2, (len(pages) + 1) // 2)}
    out = []
    for lines in split:
        keep = []
        for i, ln in enumerate(lines):
            at_edge = i < 3 or i >= len(lines) - 3
            if at_edge and (
                re.sub(r"\d+", "#", ln) in repeated or re.fullmatch(r"(page\s*)?\d+(\s*of\s*\d+)?", ln, re.I)
            ):
                continue
            keep.append(ln)
        out.append("\n".join(keep))
    return out


def extract_pdf(body: bytes) -> dict:
    reader = PdfReader(io.BytesIO(body))
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                raise PdfProblem("encrypted PDF: it needs a password")
        except PdfProblem:
            raise
        except Exception as e:
            raise PdfProblem(f"encrypted PDF that cannot be opened: {e}") from e
    pages = _without_running_heads([(page.extract_text() or "") for page in reader.pages])
    text = _tidy("\n\n".join(pages))
    if len(text.split()) < 5:
        raise PdfProblem(f"PDF with no text layer ({len(pages)} page(s), probably a scan)")
    meta = reader.metadata or {}
    report = report_fields(text) or {}
    paths = {"text": "pypdf", "title": "pdf", "date": "pdf metadata"}
    if report:
        paths["report"] = "ofsted"
    return {
        "title": _pdf_title(str(meta.get("/Title") or ""), text),
        "authors": (authors := clean_authors([str(meta.get("/Author") or "")])),
        "author": ", ".join(authors) or None,
        "date": _pdf_date(meta.get("/CreationDate")),
        "text": text,
        "pages": len(pages),
        "report": report,
        "paths": paths,
    }


def parse_html(html: str | bytes) -> HtmlElement | None:
    """Parse a page once; every later step shares the tree."""
    parser = _PARSER
    if isinstance(html, str):
        html, parser = html.encode("utf-8", "replace"), _PARSER_UTF8  # lxml refuses str with a declaration
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return None


FULL_BODY_BELOW = 1000  # characters: a fast extraction shorter than this...
FULL_BODY_SHARE = 0.2  # ...and than this share of the page's text is redone with trafilatura's fallbacks
# ...and so is one that holds less than this share of the text of the page's paragraphs outside its
# navigation, header, footer and asides: a fast pass that kept the introduction of a long article
# (just over FULL_BODY_BELOW, issue 22) left most of its <p> text behind. (At 0.5, bench/extraction.py
# lost precision on readability's pages, 0.973 to 0.961: pages whose <p> text is mostly not the article.)
FULL_BODY_PARAGRAPH_SHARE = 0.3
_OUTSIDE_ARTICLE = ("nav", "header", "footer", "aside", "form")


def _paragraph_chars(tree: HtmlElement) -> int:
    """The characters of the page's <p> text outside its navigation, header, footer, asides and forms."""
    total = 0
    for p in tree.iter("p"):
        if any(a.tag in _OUTSIDE_ARTICLE for a in p.iterancestors()):
            continue
        total += len(" ".join(p.text_content().split()))
    return total


def needs_full_extraction(fast_chars: int, page_chars: int, paragraph_chars: int) -> str | None:
    """Why trafilatura's fast pass found too little of the page: "nothing", "little" (of a page
    with much more text) or "part" (of its article paragraphs); None when it found enough."""
    if fast_chars == 0:
        return "nothing"
    if fast_chars < FULL_BODY_BELOW and fast_chars < FULL_BODY_SHARE * page_chars:
        return "little"
    return "part" if fast_chars < FULL_BODY_PARAGRAPH_SHARE * paragraph_chars else None


def _body(tree: HtmlElement, url: str, html: str | bytes | None = None) -> str:
    """trafilatura's main extractor alone first (fast); its slower comparison with readability and
    jusText only where that found suspiciously little of the page (``needs_full_extraction``),
    which is where it pays off (measured on trafilatura's own evaluation set: bench/extraction.py);
    trafilatura's own parse of the page last, when both found nothing."""
    options = {"url": url, "with_metadata": False, "include_comments": False, "include_tables": True}
    body = tree.find(".//body")
    page_chars = len(" ".join((body if body is not None else tree).text_content().split()))
    doc = trafilatura.bare_extraction(tree, fast=True, **options)
    text = _tidy(doc.text or "") if doc is not None else ""
    why = needs_full_extraction(len(text), page_chars, _paragraph_chars(tree))
    if why:
        doc = trafilatura.bare_extraction(tree, **options)
        full = _tidy(doc.text or "") if doc is not None else ""
        # the full pass is trusted over a fast one that found little; over one that found part of
        # the article only when it found more
        text = (full if len(full) > len(text) else text) if why == "part" else (full or text)
    if not text and html is not None:
        # Both passes found nothing on the shared tree; trafilatura's own parse of the page
        # sometimes does (a page whose markup lxml's default tree hides from it: bench/extraction.py
        # found one in 990). Slow, so last.
        doc = trafilatura.bare_extraction(html, **options)
        text = _tidy(doc.text or "") if doc is not None else ""
    return text


def extract_html(html: str | bytes, url: str, selectors: dict[str, str] | None = None) -> dict:
    """Title, authors, date and body of a page, parsed once.

    Layered: the source's own CSS selectors first where the config gives them (a site we know
    needs no general extractor); then structured data for the metadata (pipelines.metadata) and
    trafilatura for the body, on the shared tree and without trafilatura's slow metadata pass;
    htmldate only when nothing gave a date."""
    raw = html if isinstance(html, str) else html.decode("latin-1")
    tree = parse_html(html)
    if tree is None:
        return {"title": "", "author": None, "authors": [], "date": None, "text": "", "canonical": None, "paths": {}}
    meta = page_metadata(tree, url)
    found = {
        "title": meta["title"] or "",
        "authors": meta["authors"],
        "date": meta["date"],
        "text": "",
        "canonical": (tree.xpath('//link[@rel="canonical"]/@href') or [None])[0],
        "paths": dict(meta["paths"]),
    }
    if any(c in raw for c in _PRUNE_CLASSES):  # boilerplate blocks, removed once on the shared tree
        _prune(tree)
    if selectors:
        found = apply_selectors(tree, selectors, found)
    if not found["text"]:
        found["text"] = _body(tree, url, html)
        if found["text"]:
            found["paths"]["text"] = "trafilatura"
    if not found["date"]:
        found["date"] = find_date(tree, url=url, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
        if found["date"]:
            found["paths"]["date"] = "htmldate"
    found["author"] = ", ".join(found["authors"]) or None
    found["links"] = outlinks(tree, url)
    return found


MAX_OUTLINKS = 300  # a news page links a few dozen places; a hostile one is not read further


def outlinks(tree, url: str) -> list[str]:
    """The page's links, absolute and once each, in page order (for the links from press articles to
    the official documents they cite: ops.links)."""
    out: dict[str, None] = {}
    for href in tree.xpath("//a/@href"):
        href = str(href).strip()
        if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
            continue
        try:
            absolute = urljoin(url, href)
        except ValueError:  # "https://[not-an-address]/": a broken link is not a link
            continue
        if absolute.startswith(("http://", "https://")):
            out.setdefault(absolute.split("#", 1)[0], None)
        if len(out) >= MAX_OUTLINKS:
            break
    return list(out)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?")


def _parse_date(raw: str) -> datetime | None:
    """A date as dateparser reads it; an ISO 8601 one (a ``datetime`` attribute, mostly) read by
    ``datetime.fromisoformat``, which gives the same value at a hundredth of dateparser's cost."""
    if _ISO_DATE.fullmatch(raw):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:  # 2024-02-30: dateparser's verdict
            pass
    return dateparser.parse(raw, settings={"PREFER_DAY_OF_MONTH": "first"})


def apply_selectors(tree: HtmlElement, selectors: dict[str, str], found: dict) -> dict:
    """A source's own CSS selectors (config `selectors:`) override what was found automatically."""

    def text_of(css: str) -> str:
        return " ".join(" ".join(el.text_content() for el in tree.cssselect(css)).split())

    out = dict(found)
    paths = dict(found.get("paths") or {})
    if selectors.get("title") and (title := text_of(selectors["title"])):
        out["title"], paths["title"] = title, "selectors"
    if selectors.get("author") and (author := text_of(selectors["author"])):
        out["authors"], paths["authors"] = clean_authors([author]), "selectors"
    if selectors.get("date"):
        els = tree.cssselect(selectors["date"])
        raw = (els[0].get("datetime") if els else None) or text_of(selectors["date"])
        parsed = _parse_date(raw) if raw else None
        if parsed:
            out["date"] = parsed.date().isoformat() if not parsed.hour and not parsed.minute else parsed.isoformat()
            paths["date"] = "selectors"
    if selectors.get("body"):
        blocks = [
            " ".join(b.text_content().split())
            for el in tree.cssselect(selectors["body"])
            for b in el.xpath(
                "self::p|self::li|self::h2|self::h3|self::blockquote|.//p|.//li|.//h2|.//h3|.//blockquote"
            )
        ]
        body = "\n".join(b for b in blocks if b and not _BOILERPLATE_LINE.match(b)) or text_of(selectors["body"])
        if body:
            out["text"], paths["text"] = body, "selectors"
    out["paths"] = paths
    return out


_MOJIBAKE = re.compile("[ÃÂâ][\u0080-\u00bf€™œžŸ‚„…†‡ˆ‰‹Œ‘’“”•–—˜›]")


def repair_mojibake(text: str) -> str:
    """UTF-8 read as Windows-1252 ('Â£', 'â€™') mended by ftfy; text without the telltale
    sequences is left alone (and ftfy's full check is not paid for)."""
    if text and _MOJIBAKE.search(text):
        return ftfy.fix_text(text, uncurl_quotes=False)
    return text


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _drop_leading_title(text: str, title: str) -> str:
    """Some pages put the headline inside the article body; the title is stored apart."""
    first, _, rest = text.partition("\n")
    if title and rest and _same(first, title):
        return rest.lstrip()
    return text


def reconcile_dates(feed: str | None, page: str | None) -> tuple[str | None, str]:
    """The publication date from the feed's and the page's, and which one it is.

    The feed's date is the publisher's own record and wins, unless it has no time of day and the
    page gives one for the same day (then the page is simply more precise)."""
    feed_iso, page_iso = _iso_date(feed), _iso_date(page)
    if feed_iso and page_iso and len(feed_iso) == 10 and len(page_iso) > 10 and page_iso[:10] == feed_iso:
        return page_iso, "page"
    if feed_iso:
        return feed_iso, "feed"
    return page_iso, "page"


def extract(article: Article) -> Article:
    """Fill title, authors, published, text, kind, report fields and the path that produced each.
    Raises ExtractionFailed (recorded in the fetch log) when nothing usable comes out."""
    found: dict = {}
    kind = "html"
    warning = None
    try:
        if is_pdf(article.body):
            kind = "pdf"
            found = extract_pdf(article.body)
        elif article.html:
            found = extract_html(article.html, article.url, article.extra.get("selectors"))
    except PdfProblem as e:
        raise ExtractionFailed(f"{article.url}: {e}") from e
    except Exception as e:  # a broken page or PDF must not lose the feed entry
        warning = f"{type(e).__name__}: {e}"
        log.warning("extraction failed for %s: %s", article.url, warning)
    if article.extra.get("official_document"):  # a meeting's report, agenda pack or minutes
        kind = "document"
    paths = dict(found.get("paths") or {})
    text = found.get("text") or ""
    if len(text) < 80 and article.feed_summary:
        summary = html_to_text(article.feed_summary)
        if len(summary) > len(text):
            text, kind, paths["text"] = summary, "feed-entry", "feed"
    # A PDF's own title beats the link text ("Children's services inspection"); for pages the
    # feed's title is the publisher's, and a page's can carry the site name.
    # A source's own title selector beats the feed too (it was set because the feed's is wrong).
    own_title = found.get("title") if kind == "pdf" or paths.get("title") == "selectors" else None
    title = own_title or article.feed_title or found.get("title") or ""
    if not own_title and article.feed_title:
        paths["title"] = "feed"
    text, title = repair_mojibake(_drop_leading_title(text, title)), repair_mojibake(title)
    if not text and not title:
        raise ExtractionFailed(f"no text could be extracted from {article.url}" + (f" ({warning})" if warning else ""))
    if not text or _same(text, title):  # a headline alone is not an article: never an empty success (issue 22)
        raise ExtractionFailed(
            f"no body text could be extracted from {article.url}: trafilatura's fast and full extractors found "
            f"none under the headline {title[:120]!r}" + (f" ({warning})" if warning else "")
        )
    report = found.get("report") or {}
    published, which = reconcile_dates(report.get("published") or article.feed_published, found.get("date"))
    if which == "feed" and published:
        paths["date"] = "report" if report.get("published") else "feed"
    authors = clean_authors([article.feed_author]) if article.feed_author else list(found.get("authors") or [])
    if article.feed_author and authors:
        paths["authors"] = "feed"
    extra = {k: v for k, v in article.extra.items() if k not in ("selectors", "official_document")}
    if found.get("canonical"):
        extra["page_canonical"] = found["canonical"]
    if warning:
        extra["warning"] = warning
    return dataclasses.replace(
        article,
        outlinks=tuple(found.get("links") or ()),
        title=" ".join((html_to_text(title) if "<" in title else title).split()),  # a headline is one line
        author=", ".join(authors) or None,
        authors=tuple(authors),
        published=published,
        text=text,
        kind=kind,
        report={k: v for k, v in report.items() if k != "published"},
        extraction=paths,
        extra=extra,
        html="",
        body=b"",
    )


class ExtractPipeline:
    @classmethod
    def from_config(cls, config: Config, seen: SeenIndex | None = None) -> ExtractPipeline:
        return cls()

    def process_item(self, item, spider=None):
        return extract(item) if isinstance(item, Article) else item
