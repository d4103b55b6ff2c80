"""Main text, title, author and date: trafilatura for HTML pages, pypdf for PDFs, the feed entry
as the fallback. The feed's own metadata (title, author, date) wins where the page is unclear.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
from datetime import datetime, timezone

import dateparser
import parsel
import trafilatura
from bs4 import BeautifulSoup
from pypdf import PdfReader
from scrapy.exceptions import DropItem

from core.items import Article

log = logging.getLogger(__name__)

# Blocks that sit inside article pages but are not the article: "Similar Articles" teasers,
# newsletter boxes, related links. trafilatura drops most boilerplate by itself; these are the
# ones seen slipping through on the sites we watch.
PRUNE_XPATH = [
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' similar-articles ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' related-posts ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' sharedaddy ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' newsletter ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' most-read ')]",
]


class ExtractionFailed(DropItem):
    """Nothing usable came out of a page: the store records it in the fetch log."""

    record_as_error = True


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
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return dt.date().isoformat() if len(value) <= 10 else dt.replace(tzinfo=timezone.utc).isoformat()
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def _pdf_date(raw: str | None) -> str | None:
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})", raw or "")
    return f"{m[1]}-{m[2]}-{m[3]}" if m else None


def extract_pdf(body: bytes) -> dict:
    reader = PdfReader(io.BytesIO(body))
    pages = [(page.extract_text() or "") for page in reader.pages]
    text = _tidy("\n\n".join(pages))
    meta = reader.metadata or {}
    first_line = next((ln for ln in text.split("\n") if ln.strip()), "")
    return {
        "title": (meta.get("/Title") or "").strip() or first_line[:200],
        "author": (meta.get("/Author") or "").strip() or None,
        "date": _pdf_date(meta.get("/CreationDate")),
        "text": text,
        "pages": len(pages),
    }


def extract_html(html: str, url: str) -> dict:
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        prune_xpath=PRUNE_XPATH,
        date_extraction_params={"extensive_search": True, "original_date": True},
    )
    found = doc.as_dict() if doc is not None else {}
    canonical = None
    m = re.search(r"<link[^>]+rel=[\"']canonical[\"'][^>]*>", html[:200_000], re.I)
    if m:
        h = re.search(r"href=[\"']([^\"']+)", m.group(0))
        canonical = h.group(1) if h else None
    return {
        "title": (found.get("title") or "").strip(),
        "author": (found.get("author") or None),
        "date": found.get("date"),
        "text": _tidy(found.get("text") or ""),
        "canonical": canonical,
    }


def _drop_leading_title(text: str, title: str) -> str:
    """Some pages put the headline inside the article body; the title is stored apart."""
    first, _, rest = text.partition("\n")
    if title and rest and " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
        return rest.lstrip()
    return text


def apply_selectors(html: str, selectors: dict[str, str], found: dict) -> dict:
    """A source's own CSS selectors (config `selectors:`) override what was found automatically."""
    sel = parsel.Selector(text=html)

    def text_of(css: str) -> str:
        return " ".join(" ".join(sel.css(css).xpath("string()").getall()).split())

    out = dict(found)
    if selectors.get("title") and text_of(selectors["title"]):
        out["title"] = text_of(selectors["title"])
    if selectors.get("author") and text_of(selectors["author"]):
        out["author"] = text_of(selectors["author"])
    if selectors.get("date"):
        raw = sel.css(selectors["date"]).attrib.get("datetime") or text_of(selectors["date"])
        parsed = dateparser.parse(raw, settings={"PREFER_DAY_OF_MONTH": "first"}) if raw else None
        if parsed:
            out["date"] = parsed.date().isoformat() if not parsed.hour and not parsed.minute else parsed.isoformat()
    if selectors.get("body"):
        blocks = [" ".join(t.split()) for el in sel.css(selectors["body"])
                  for t in el.xpath(".//p|.//li|.//h2|.//h3|.//blockquote").xpath("string()").getall()]
        body = "\n".join(b for b in blocks if b) or text_of(selectors["body"])
        if body:
            out["text"] = body
    return out


def extract(article: Article) -> Article:
    """Fill title, author, published, text and kind. Raises ExtractionFailed if nothing usable."""
    found: dict = {}
    kind = "html"
    warning = None
    try:
        if is_pdf(article.body):
            kind = "pdf"
            found = extract_pdf(article.body)
        elif article.html:
            found = extract_html(article.html, article.url)
            if article.extra.get("selectors"):
                found = apply_selectors(article.html, article.extra["selectors"], found)
    except Exception as e:  # a broken page or PDF must not lose the feed entry
        warning = f"{type(e).__name__}: {e}"
        log.warning("extraction failed for %s: %s", article.url, warning)
    text = found.get("text") or ""
    if len(text) < 80 and article.feed_summary:
        summary = html_to_text(article.feed_summary)
        if len(summary) > len(text):
            text, kind = summary, "feed-entry"
    # A PDF's own title beats the link text ("Children's services inspection"); for pages the
    # feed's title is the publisher's, and trafilatura's can carry the site name.
    pdf_title = found.get("title") if kind == "pdf" else None
    title = pdf_title or article.feed_title or found.get("title") or ""
    text = _drop_leading_title(text, title)
    if not text and not title:
        raise ExtractionFailed(f"no text could be extracted from {article.url}" + (f" ({warning})" if warning else ""))
    extra = {k: v for k, v in article.extra.items() if k != "selectors"}
    if found.get("canonical"):
        extra["page_canonical"] = found["canonical"]
    if warning:
        extra["warning"] = warning
    return dataclasses.replace(
        article,
        title=html_to_text(title) if "<" in title else title.strip(),
        author=(article.feed_author or found.get("author") or None),
        published=_iso_date(article.feed_published) or _iso_date(found.get("date")),
        text=text,
        kind=kind,
        extra=extra,
        html="",
        body=b"",
    )


class ExtractPipeline:
    def process_item(self, item, spider=None):  # noqa: ANN001
        return extract(item) if isinstance(item, Article) else item
