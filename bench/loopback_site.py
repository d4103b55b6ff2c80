"""A loopback site of many article pages for bench/pipeline_speed.py, made from the demo's sources.

The bundled demo site has about 60 article pages, too few for a crawl's start-up to be amortised.
This builds a larger one, in memory, from it:

- The sources: every demo source of kind ``feed``, ``wordpress`` or ``listing`` whose own page is
  a fixture (an RSS or Atom feed, or an HTML listing page) and whose article pages are HTML. The
  generated back-fill site (``demo/backfill.py``, served by a handler) and the sources that fail on
  purpose (a malformed feed, HTTP 500) are left out.
- The article pages: each article page such a source links to is kept, and becomes the template of
  ``copies`` more pages: the same markup (the demo's copy of the real site's page) with the title
  replaced, the paragraphs of its main text (the element with most ``<p>`` children) replaced by
  those of a real article, and every link to the page itself (canonical, ``og:url``, comments)
  pointed at the copy's URL (the template's path with ``-N`` added).
- The sources' own pages: each feed item or listing entry that links to a template is followed by
  one copy per generated page, with the copy's title, link and (for a feed) summary and, where the
  item had one, its ``content:encoded``.
- The texts: real articles read at run time from the shared data folder (``shared/data``, see its
  README; never copied into the repository), English first: the bodies (title and paragraphs) of
  fundus' news-parser tests from English-language publishers, the expected articles of Mozilla
  Readability's test pages, the paragraphs of trafilatura's evaluation pages (about 40% German),
  then fundus' other publishers; each text used once.

Everything is deterministic: the same data folder gives the same site, byte for byte.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from carewatch.config.schema import Config
from carewatch.demo.server import DemoSites, Route

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # /work/shared/data beside the worktree
_UTF8 = lxml.html.HTMLParser(encoding="utf-8")
ENGLISH = {"uk", "us", "au", "ca", "ind", "za"}  # fundus' countries whose publishers write in English
_BLOCKS = ("p", "blockquote", "h2", "h3", "ul", "ol", "figure")  # the main text's own blocks, replaced


@dataclass(frozen=True)
class Text:
    title: str
    blocks: tuple[tuple[str, str], ...]  # (tag, text): "h2" or "p"
    origin: str  # where in the data folder it came from


def _words(s: str) -> int:
    return len(s.split())


_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _norm(s: str | None) -> str:
    """Whitespace collapsed, control characters (which XML cannot carry) dropped."""
    return " ".join((s or "").translate(_CONTROL).split())


def _parse(raw: bytes) -> lxml.html.HtmlElement:
    """A saved page: UTF-8 when it decodes as UTF-8 (lxml would read bytes with no charset declaration
    as Latin-1, turning every curly quote into mojibake), else as lxml detects it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return lxml.html.fromstring(raw)
    return lxml.html.fromstring(text.encode("utf-8"), parser=_UTF8)


def real_texts(data: Path = DATA) -> Iterator[Text]:
    """Real article texts, in a fixed order, each at least 150 words in at least 3 paragraphs."""

    def ok(t: Text) -> bool:
        paras = [b for tag, b in t.blocks if tag == "p"]
        return bool(t.title) and len(paras) >= 3 and sum(map(_words, paras)) >= 150

    fundus = data / "fundus-news-parser-tests"
    index = json.loads((fundus / "INDEX.json").read_text(encoding="utf-8"))

    def from_fundus(english: bool) -> Iterator[Text]:
        for entry in index:
            if (entry["country"] in ENGLISH) != english:
                continue
            doc = json.loads((fundus / entry["expected_json"]).read_text(encoding="utf-8"))[entry["version_key"]]
            body = doc.get("body") or {}
            blocks: list[tuple[str, str]] = [("p", _norm(p)) for p in body.get("summary") or []]
            for section in body.get("sections") or []:
                blocks += [("h2", _norm(h)) for h in section.get("headline") or []]
                blocks += [("p", _norm(p)) for p in section.get("paragraphs") or []]
            t = Text(_norm(doc.get("title")), tuple(b for b in blocks if b[1]), entry["html"])
            if ok(t):
                yield t

    yield from from_fundus(english=True)
    readability = data / "mozilla-readability-test-pages" / "pages"
    for case in sorted(readability.iterdir()):
        expected = case / "expected.html.gz"
        meta = case / "expected-metadata.json"
        if not (expected.exists() and meta.exists()):
            continue
        tree = _parse(gzip.decompress(expected.read_bytes()))
        title = _norm(json.loads(meta.read_text(encoding="utf-8")).get("title"))
        blocks = [("h2" if el.tag != "p" else "p", _norm(el.text_content())) for el in tree.iter("p", "h2", "h3")]
        t = Text(title, tuple(b for b in blocks if b[1]), str(expected.relative_to(data)))
        if ok(t):
            yield t
    evaluation = data / "trafilatura-eval" / "html"
    for page in sorted(evaluation.glob("*.html.gz")):
        try:
            tree = _parse(gzip.decompress(page.read_bytes()))
        except (etree.ParserError, ValueError):
            continue
        h1 = tree.find(".//h1")
        title = _norm(h1.text_content() if h1 is not None else tree.findtext(".//title"))
        paras = [_norm(p.text_content()) for p in tree.iter("p")]
        t = Text(title, tuple(("p", p) for p in paras if _words(p) >= 12), str(page.relative_to(data)))
        if ok(t):
            yield t
    yield from from_fundus(english=False)


def _variant_path(path: str, k: int) -> str:
    slash = path.endswith("/")
    return f"{path.rstrip('/')}-{k}" + ("/" if slash else "")


def _main_text(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    best, most = None, 0
    for el in tree.iter():
        n = sum(1 for c in el if c.tag == "p")
        if n > most:
            best, most = el, n
    return best


@dataclass
class _Template:
    host: str
    route: Route
    paths: set[str]  # every path of the host that serves this page (aliases included)
    title: str


class LoopbackSite:
    """The demo's routes plus the generated pages: ``sites`` (for DemoServer), ``config`` (the demo
    config with only the sources used), ``pages`` (every article page as (url, html)), ``origins``
    (where each generated page's text came from)."""

    def __init__(self, demo: DemoSites, config: Config, copies: int = 14, data: Path = DATA) -> None:
        self.sites = demo
        self.copies = copies
        self.texts = real_texts(data)
        self.templates: dict[int, _Template] = {}  # id(route) -> template
        self.made: dict[tuple[int, int], Route] = {}
        self.made_texts: dict[tuple[int, int], Text] = {}
        self.origins: dict[str, str] = {}
        used = []
        for source in config.sources:
            if not source.enabled or not source.follow or source.include_keywords:
                continue
            if source.kind not in ("feed", "wordpress", "listing"):
                continue
            parts = urlsplit(source.url)
            host = parts.hostname or ""
            pq = parts.path + (f"?{parts.query}" if parts.query else "")
            index = demo.hosts.get(host, {}).get(pq) or demo.hosts.get(host, {}).get(parts.path)
            if index is None or index.status != 200:  # a handler's generated site, or an error on purpose
                continue
            if source.kind == "listing":
                body = self._listing(index.body, source.url, source.links or "a")
            else:
                body = self._feed(index.body, source.url)
            if body is None:
                continue
            new = Route(200, index.content_type, body, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')
            for p, r in list(demo.hosts[host].items()):
                if r is index:
                    demo.hosts[host][p] = new
            used.append(source.id)
        self.config = config.model_copy(
            update={"sources": tuple(s.model_copy(update={"enabled": s.id in used}) for s in config.sources)}
        )
        seen: set[bytes] = set()
        self.pages: list[tuple[str, str]] = []
        for t in self.templates.values():
            for path, route in [(min(t.paths), t.route)] + [
                (_variant_path(min(t.paths), k), self.made[(id(t.route), k)]) for k in range(1, copies + 1)
            ]:
                if route.body not in seen:
                    seen.add(route.body)
                    self.pages.append((f"http://{t.host}{path}", route.body.decode("utf-8")))

    # ------------------------------------------------------------------ article pages

    def _template(self, url: str) -> _Template | None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        route = self.sites.find(host, parts.path or "/")
        if route is None or route.status != 200 or not route.content_type.startswith("text/html"):
            return None
        if id(route) not in self.templates:
            tree = lxml.html.document_fromstring(route.body)
            h1 = tree.find(".//h1")
            if _main_text(tree) is None or h1 is None:
                return None
            paths = {p for p, r in self.sites.hosts[host].items() if r is route}
            self.templates[id(route)] = _Template(host, route, paths, _norm(h1.text_content()))
        return self.templates[id(route)]

    def _copy(self, t: _Template, k: int) -> tuple[Route, Text]:
        """The template's k-th copy (made once), and its text."""
        key = (id(t.route), k)
        if key not in self.made:
            text = next(self.texts)
            tree = lxml.html.document_fromstring(t.route.body)
            for el in tree.iter():
                for attr, value in el.attrib.items():
                    parts = urlsplit(value)
                    if parts.path in t.paths and parts.netloc in ("", t.host) and attr in ("href", "content", "src"):
                        el.set(attr, urlunsplit(parts._replace(path=_variant_path(parts.path, k))))
                    elif t.title and t.title in value:
                        el.set(attr, value.replace(t.title, text.title))
                if isinstance(el.tag, str) and el.text and t.title in _norm(el.text):
                    el.text = _norm(el.text).replace(t.title, text.title)
            main = _main_text(tree)
            assert main is not None
            old = [c for c in main if c.tag in _BLOCKS]
            at = main.index(old[0])
            for c in old:
                c.drop_tree()
            for i, (tag, block) in enumerate(text.blocks):
                el = lxml.html.Element(tag)
                el.text = block
                el.tail = "\n"
                main.insert(at + i, el)
            body = lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="utf-8")
            self.made[key] = Route(200, t.route.content_type, body, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')
            self.made_texts[key] = text
            for p in t.paths:
                self.sites.hosts[t.host][_variant_path(p, k)] = self.made[key]
                self.origins[f"http://{t.host}{_variant_path(p, k)}"] = text.origin
        return self.made[key], self.made_texts[key]

    def _copy_url(self, url: str, k: int) -> str:
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path=_variant_path(parts.path, k)))

    # ------------------------------------------------------------------ the sources' own pages

    def _feed(self, body: bytes, base: str) -> bytes | None:
        try:
            root = etree.fromstring(body, etree.XMLParser(strip_cdata=False, resolve_entities=False))
        except etree.XMLSyntaxError:
            return None
        atom = "{http://www.w3.org/2005/Atom}"
        content_ns = "{http://purl.org/rss/1.0/modules/content/}encoded"
        found = False
        for item in list(root.iter("item", f"{atom}entry")):
            is_atom = item.tag == f"{atom}entry"
            link_el = item.find(f"{atom}link") if is_atom else item.find("link")
            if link_el is None:
                continue
            link = (link_el.get("href") if is_atom else link_el.text) or ""
            t = self._template(urljoin(base, link.strip()))
            if t is None:
                continue
            found = True
            parent, at = item.getparent(), item.getparent().index(item)
            for k in range(1, self.copies + 1):
                _, text = self._copy(t, k)
                new_link = self._copy_url(link.strip(), k)
                clone = copy.deepcopy(item)
                for el in clone.iter():
                    if not isinstance(el.tag, str):
                        continue
                    name = etree.QName(el).localname
                    if el is not clone and el.get("href") == link:
                        el.set("href", new_link)
                    if name in ("title",):
                        el.text = etree.CDATA(text.title) if not is_atom else text.title
                    elif name in ("link", "guid", "id", "comments") and el.text:
                        el.text = el.text.replace(urlsplit(link.strip()).path, urlsplit(new_link).path)
                    elif name in ("description", "summary"):
                        first = next(b for tag, b in text.blocks if tag == "p")
                        el.text = first if is_atom else etree.CDATA(first)
                    elif el.tag == content_ns:
                        el.text = etree.CDATA("\n".join(f"<{tag}>{escape(b)}</{tag}>" for tag, b in text.blocks))
                parent.insert(at + k, clone)
        if not found:
            return None
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def _listing(self, body: bytes, base: str, links: str) -> bytes | None:
        tree = lxml.html.document_fromstring(body)
        found = False
        for a in tree.cssselect(links):
            href = (a.get("href") or "").strip()
            t = self._template(urljoin(base, href)) if href else None
            if t is None:
                continue
            found = True
            item = a
            for _ in range(4):  # the entry: the link's nearest article, li or tr
                if item.getparent() is None or item.tag in ("article", "li", "tr"):
                    break
                item = item.getparent()
            if item.tag not in ("article", "li", "tr"):
                item = a.getparent() if a.getparent() is not None else a
            parent, at = item.getparent(), item.getparent().index(item)
            for k in range(1, self.copies + 1):
                _, text = self._copy(t, k)
                clone = copy.deepcopy(item)
                for link in clone.iter("a"):
                    if (link.get("href") or "").strip() == href:
                        link.set("href", self._copy_url(href, k))
                        for child in list(link):
                            link.remove(child)
                        link.text = text.title
                parent.insert(at + k, clone)
        if not found:
            return None
        return lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="utf-8")
