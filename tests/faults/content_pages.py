"""Hostile and awkward content for tests/faults/test_content.py, served by the demo server (a
``handler`` route of host ``faults.example.test``): XML entity bombs, external entities (XXE),
wrong and missing charsets, a listing of 100,000 links, and script/style injection.

Every article text is distinct (seeded pseudo-prose), so de-duplication keeps each one.
"""

from __future__ import annotations

import random
from urllib.parse import parse_qs, urlsplit

HOST = "faults.example.test"
BASE = f"http://{HOST}"
MANY_LINKS = 100_000

# The characters that go wrong when a charset is misread: £ (0xA3), ’ (0x92 in Windows-1252), é.
CHARSET_TITLE = "Café budget: the Trust’s £{n}m plan for case {case}"
CHARSET_SENTENCE = "The Trust’s £9m fund for the café in Selly Oak was approved by councillors."

_VOCAB = (
    "council trust budget foster carers social workers agency locum review panel scrutiny committee report "
    "inspection ofsted family support early help placement residential home children young people ward "
    "councillor cabinet member overspend reserves vacancies recruitment retention caseload duty team manager "
    "director audit safeguarding board partnership health police school education court order adoption "
    "leaving care housing transport disability respite short break contract provider commissioning tender "
    "spending forecast deficit savings plan quarter month winter spring summer autumn north south east west "
    "city centre estate library hub office rota shift pay strike union branch secretary chair minutes "
    "meeting agenda item decision appeal complaint ombudsman finding apology letter parent grandparent "
    "kinship guardian advocate independent visitor mentor tutor nurse doctor therapist psychologist"
).split()


def prose(seed: str, sentences: int = 6) -> str:
    """Distinct filler sentences for SEED: no two seeds share many word 3-grams."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        words = [rng.choice(_VOCAB) for _ in range(rng.randint(11, 16))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def _page(title: str, paragraphs: list[str], *, meta: str | None = "utf-8", head: str = "") -> str:
    meta_tag = f'<meta charset="{meta}">' if meta else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head>{meta_tag}<title>{title}</title>{head}</head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


def _rss(
    items: list[tuple[str, str, str]],
    *,
    decl: str = '<?xml version="1.0" encoding="utf-8"?>',
    doctype: str = "",
    title: str = "Fault feed",
) -> str:
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><description>{d}</description>"
        f"<pubDate>Mon, 02 Mar 2026 09:00:00 GMT</pubDate></item>"
        for t, link, d in items
    )
    return (
        f'{decl}\n{doctype}\n<rss version="2.0"><channel><title>{title}</title><link>{BASE}/</link>'
        f"<description>{title}</description>{entries}</channel></rss>"
    )


# -- 1. entity expansion ----------------------------------------------------------------------
def billion_laughs() -> bytes:
    """The classic: 9 levels of ten references each, 10^9 'lol's from under a kilobyte."""
    decls = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    ]
    doctype = "<!DOCTYPE rss [\n" + "\n".join(decls) + "\n]>"
    return _rss(
        [("Laughs &lol9;", f"{BASE}/entities/laughs-1", "&lol9; &lol9;")], doctype=doctype, title="Billion laughs"
    ).encode()


QUADRATIC_VALUE = 20_000  # characters of the one entity...
QUADRATIC_REFS = 20_000  # ...used this many times: 400 million characters from a ~100 KB feed


def quadratic_blowup() -> bytes:
    """One long entity used many times: no nesting (so parsers' nesting limits miss it)."""
    doctype = f'<!DOCTYPE rss [\n<!ENTITY a "{"a" * QUADRATIC_VALUE}">\n]>'
    return _rss(
        [("Quadratic blow-up", f"{BASE}/entities/quadratic-1", "&a;" * QUADRATIC_REFS)],
        doctype=doctype,
        title="Quadratic blow-up",
    ).encode()


# -- 2. external entities ---------------------------------------------------------------------
def xxe_file() -> bytes:
    doctype = '<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>'
    return _rss(
        [
            ("Leaked &xxe; title", f"{BASE}/xxe/file-1", "The password file: &xxe; (end)."),
            ("A plain entry beside it", f"{BASE}/xxe/file-2", "Nothing to see: " + prose("xxe-file-2", 2)),
        ],
        doctype=doctype,
        title="XXE file",
    ).encode()


def xxe_canary(canary: str) -> bytes:
    """An external DTD, an external parameter entity and an external general entity, all pointing
    at the canary server: any of them resolved shows up there as a hit."""
    doctype = (
        f'<!DOCTYPE rss SYSTEM "{canary}/external.dtd" [\n'
        f'<!ENTITY % remote SYSTEM "{canary}/parameter.dtd">\n'
        f"%remote;\n"
        f'<!ENTITY canary SYSTEM "{canary}/general-entity">\n'
        f"]>"
    )
    return _rss(
        [("Canary &canary; title", f"{BASE}/xxe/canary-1", "Fetched: &canary; (end).")],
        doctype=doctype,
        title="XXE canary",
    ).encode()


# -- 3. charsets ------------------------------------------------------------------------------
# name -> (HTTP Content-Type, meta charset or None, how the bytes are made)
CHARSET_PAGES = {
    "utf8-declared-latin1": ("text/html; charset=iso-8859-1", "iso-8859-1", "utf-8"),
    "cp1252-declared-utf8": ("text/html; charset=utf-8", "utf-8", "cp1252"),
    "no-charset-utf8": ("text/html", None, "utf-8"),
    "no-charset-cp1252": ("text/html", None, "cp1252"),
    "bom-utf8-meta-latin1": ("text/html", "iso-8859-1", "utf-8-bom"),
    "bom-utf16-meta-utf8": ("text/html", "utf-8", "utf-16-bom"),
}
# name -> (HTTP Content-Type, XML declaration, bytes)
CHARSET_FEEDS = {
    "feed-utf8-declared-latin1": (
        "application/rss+xml; charset=iso-8859-1",
        '<?xml version="1.0" encoding="iso-8859-1"?>',
        "utf-8",
    ),
    "feed-cp1252-declared-utf8": (
        "application/rss+xml; charset=utf-8",
        '<?xml version="1.0" encoding="utf-8"?>',
        "cp1252",
    ),
    "feed-no-charset-utf8": ("application/rss+xml", "", "utf-8"),
    "feed-no-charset-cp1252": ("application/xml", "", "cp1252"),
    "feed-bom-utf8-declared-latin1": ("application/xml", '<?xml version="1.0" encoding="iso-8859-1"?>', "utf-8-bom"),
}


def _encode(text: str, how: str) -> bytes:
    if how == "utf-8-bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if how == "utf-16-bom":
        return b"\xff\xfe" + text.encode("utf-16-le")
    return text.encode(how)


def charset_title(name: str) -> str:
    return CHARSET_TITLE.format(n=len(name), case=name)


def _charset_page(name: str) -> tuple[int, str, bytes]:
    ctype, meta, how = CHARSET_PAGES[name]
    page = _page(charset_title(name), [CHARSET_SENTENCE + " " + prose(name, 3), prose(name + "-2", 4)], meta=meta)
    return 200, ctype, _encode(page, how)


def _charset_feed(name: str) -> tuple[int, str, bytes]:
    ctype, decl, how = CHARSET_FEEDS[name]
    feed = _rss(
        [(charset_title(name), f"{BASE}/charset/{name}/entry", CHARSET_SENTENCE + " " + prose(name, 5))],
        decl=decl,
        title=f"Charset {name}",
    )
    return 200, ctype, _encode(feed, how)


# -- 4. a listing of 100,000 links ------------------------------------------------------------
def many_links() -> bytes:
    links = "".join(f'<li><a href="/many/a/{i}">Item {i}</a></li>' for i in range(MANY_LINKS))
    return f"<html><head><title>Everything</title></head><body><ul class='many'>{links}</ul></body></html>".encode()


# -- 5. script and style injection ------------------------------------------------------------
MARK = "Kingsmere"  # the word a subscriber's rule matches
# Each payload, written as text on the page (so it is stored as text) and as live markup (which
# extraction must drop).
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "<svg onload=alert(1)>",
    "</title><script>alert(1)</script>",
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">',
)


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def injection_page() -> bytes:
    literal = " ".join(_esc(p) for p in PAYLOADS)
    title = f"{MARK} children’s home: Ofsted {_esc(PAYLOADS[0])} {_esc(PAYLOADS[4])}"
    head = "<script>alert(1)</script><style>body{display:none}</style>"
    paragraphs = [
        f"{MARK} children’s home in Birmingham posted {literal} on its old website, the inspectors found.",
        "Live markup follows. <script>alert(1)</script><img src=x onerror=alert(1)>"
        '<a href="javascript:alert(1)">read the report</a><svg onload=alert(1)></svg>'
        '<span style="background:url(javascript:alert(1))">styled</span> ' + prose("inject-1", 3),
        prose("inject-2", 5),
    ]
    page = _page(title, paragraphs, head=head).replace("<body>", '<body onload="alert(1)">')
    # Live markup in the heading, and the classic </title><script> break-out after the title.
    page = page.replace("</h1>", "<script>alert(1)</script><img src=x onerror=alert(1)></h1>", 1)
    page = page.replace("</title>", "</title><script>alert(1)</script>", 1)
    return page.encode()


def injection_feed() -> bytes:
    literal = _esc(" ".join(_esc(p) for p in PAYLOADS))  # escaped twice: HTML text inside XML
    items = [
        (
            _esc(f"{MARK} foster carers {PAYLOADS[0]} {PAYLOADS[1]}"),
            f"{BASE}/inject/feed-entry",
            _esc(f"<p>{MARK} foster carers in Birmingham saw </p>")
            + literal
            + _esc(
                f"<p>{prose('inject-feed', 4)}</p><script>alert(1)</script>"
                f'<a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)>'
            ),
        )
    ]
    return _rss(items, title="Injection feed").encode()


# -- the route --------------------------------------------------------------------------------
def serve(path: str):
    parts = urlsplit(path)
    p, query = parts.path, parse_qs(parts.query)
    html = "text/html; charset=utf-8"
    rss = "application/rss+xml; charset=utf-8"
    if p == "/entities/billion-laughs.xml":
        return 200, rss, billion_laughs()
    if p == "/entities/quadratic.xml":
        return 200, rss, quadratic_blowup()
    if p == "/xxe/file.xml":
        return 200, rss, xxe_file()
    if p == "/xxe/canary.xml":
        return 200, rss, xxe_canary(query["canary"][0])
    if p == "/charset/":
        links = "".join(f'<li><a href="/charset/{name}">{name}</a></li>' for name in CHARSET_PAGES)
        return 200, html, f"<html><body><ul class='charset'>{links}</ul></body></html>".encode()
    if p.startswith("/charset/") and p.removeprefix("/charset/") in CHARSET_PAGES:
        return _charset_page(p.removeprefix("/charset/"))
    if p.startswith("/charset-feed/") and p.removeprefix("/charset-feed/") in CHARSET_FEEDS:
        return _charset_feed(p.removeprefix("/charset-feed/"))
    if p == "/many/":
        return 200, html, many_links()
    if p.startswith("/many/a/"):
        n = p.rsplit("/", 1)[-1]
        return (
            200,
            html,
            _page(f"Item {n} of the long listing", [prose(f"many-{n}", 4), prose(f"many-{n}b", 4)]).encode(),
        )
    if p == "/inject/":
        return (
            200,
            html,
            b"<html><body><ul class='inject'><li><a href='/inject/story'>story</a></li></ul></body></html>",
        )
    if p == "/inject/story":
        return 200, html, injection_page()
    if p == "/inject/feed.xml":
        return 200, rss, injection_feed()
    return None
