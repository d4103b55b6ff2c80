"""Pages that go wrong, served by the demo server for tests (a `handler` route)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

ARTICLE = (
    "<html><head><meta charset='{charset}'><title>{title}</title></head><body><article><h1>{title}</h1>"
    "<p>{body}</p></article></body></html>"
)
TEXT = (
    "Birmingham Children’s Trust said the £9m overspend on children’s social care would be met from "
    "reserves, and that social workers’ caseloads had fallen for the third month running. "
)
# Three different stories, so that de-duplication keeps all three.
STORIES = {
    "good": TEXT + "The chief executive thanked foster carers across the city for opening their homes this winter, "
    "and said recruitment of new carers was ahead of plan for the first time since 2019.",
    "latin1": TEXT + "Councillors on the scrutiny committee asked why agency spending had risen in the north of "
    "the city while vacancies fell elsewhere, and requested a report by the spring.",
    "cp1252": TEXT + "Unison’s branch secretary welcomed the news but warned that weekend duty rotas remained "
    "thin, with two teams relying on locum managers until at least March.",
}


def _pdf(encrypt: bool = False, text: bool = True) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(
        buf, pagesize=A4, invariant=1, encrypt=StandardEncryption("secret", canPrint=0) if encrypt else None
    )
    if text:
        c.drawString(72, 760, "Inspection of Birmingham children's services: a protected report")
    else:  # a scan: a picture of a page, no text layer
        c.rect(72, 400, 450, 380, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def serve(path: str):
    html = "text/html; charset=utf-8"
    if path == "/bad/":
        links = "".join(
            f'<li><a href="/bad/{p}">{p}</a></li>'
            for p in ("good", "huge", "empty", "latin1-declared", "cp1252-as-utf8", "scan.pdf", "locked.pdf")
        )
        return 200, html, f"<html><body><ul class='bad'>{links}</ul></body></html>".encode()
    if path == "/bad/good":
        return 200, html, ARTICLE.format(charset="utf-8", title="A good page", body=STORIES["good"]).encode()
    if path == "/bad/huge":
        return 200, html, b"<html><body>" + b"<p>" + b"x" * (50 * 1024 * 1024) + b"</p></body></html>"
    if path == "/bad/empty":
        return 200, html, b"<html><head><title></title></head><body></body></html>"
    if path == "/bad/latin1-declared":  # UTF-8 bytes that the server calls ISO-8859-1
        page = ARTICLE.format(charset="iso-8859-1", title="Trust overspend met from reserves", body=STORIES["latin1"])
        return 200, "text/html; charset=iso-8859-1", page.encode("utf-8")
    if path == "/bad/cp1252-as-utf8":  # Windows-1252 bytes that the server calls UTF-8
        page = ARTICLE.format(charset="utf-8", title="Caseloads fall at the Trust", body=STORIES["cp1252"])
        return 200, html, page.encode("cp1252")
    if path == "/bad/scan.pdf":
        return 200, "application/pdf", _pdf(text=False)
    if path == "/bad/locked.pdf":
        return 200, "application/pdf", _pdf(encrypt=True)
    return None
