"""Render a digest as an email: plain text and HTML (Jinja2, autoescaped), built for phones."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from jinja2 import Environment, PackageLoader

from alerts.rules import Match
from core.items import explain
from config.schema import Config, Subscriber

_env = Environment(
    loader=PackageLoader("alerts", "templates"),
    autoescape=lambda name: bool(name and name.endswith(".html.j2")),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class DigestEntry:
    title: str
    url: str
    source: str
    published: str
    topics: tuple[str, ...]
    why: tuple[str, ...]
    snippet: str
    also_at: tuple[tuple[str, str, str], ...]  # (url, site, what it is: "copy", "edited version")
    edit: str | None = None  # what changed, for an article sent before and since edited
    coverage: tuple[tuple[str, str, str], ...] = ()  # (source, title, url): the story elsewhere


def _date(value: str | None) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).strftime("%-d %B %Y")
    except ValueError:
        return value[:10]


def _snippet(text: str, terms: tuple[str, ...], width: int = 280) -> str:
    """The sentence around the first matched term, else the opening of the text."""
    flat = " ".join((text or "").split())
    for term in terms:
        if not term:
            continue
        m = re.search(re.escape(term), flat, re.IGNORECASE)
        if m:
            stop = flat.rfind(". ", 0, m.start())
            start = stop + 2 if stop >= 0 else 0
            if m.start() - start > width // 2:  # start at a word near the match instead
                start = flat.find(" ", max(0, m.start() - width // 2)) + 1
            piece = flat[start : start + width]
            return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")
    return flat[:width] + ("…" if len(flat) > width else "")


def _also_at(aliases: list[tuple[str, str]], shown: str) -> tuple[tuple[str, str, str], ...]:
    out = []
    for url, reason in aliases:
        if url != shown:
            kind = "edited version" if reason.startswith("edited version") else "copy"
            out.append((url, (urlsplit(url).hostname or url).removeprefix("www."), kind))
    return tuple(out)


def _by_story(matches: list[Match]) -> list[tuple[Match, list[Match]]]:
    """One entry per story: its earliest article leads, the rest are its coverage. Edits stand alone."""
    groups: dict[str, list[Match]] = {}
    for m in matches:
        key = m.article["article_id"] if m.edit else (m.article.get("story_id") or m.article["article_id"])
        groups.setdefault(key, []).append(m)
    out = []
    for group in groups.values():
        group.sort(key=lambda m: (m.article.get("published") or m.article.get("first_seen") or ""))
        out.append((group[0], group[1:]))
    return out


def entries(config: Config, matches: list[Match], aliases: dict[str, list[tuple[str, str]]]) -> list[DigestEntry]:
    names = {s.id: s.name for s in config.sources}
    labels = {tid: t.label for tid, t in config.topics.topics.items()}
    out = []
    for m, coverage in _by_story(matches):
        a = m.article
        tagged = json.loads(a["topics"] or "[]")
        topics = tuple(t["label"] for t in tagged)
        evidence = {t["topic"]: explain((t.get("evidence") or [])[:3]) for t in tagged}
        out.append(
            DigestEntry(
                title=a["title"] or a["canonical_url"],
                url=(url := a["canonical_url"] or a["url"]),
                source=names.get(a["source_id"], a["source_id"]),
                published=_date(a["published"]),
                topics=topics,
                why=tuple(f"{labels[w]} (because: {evidence[w]})" if evidence.get(w) else labels.get(w, w) for w in m.why),
                snippet=_snippet(a["text"], tuple(w for w in m.why if w not in labels)),
                also_at=_also_at(aliases.get(a["article_id"], []), url),
                edit=m.edit[:1200] if m.edit else None,
                coverage=tuple((names.get(c.article["source_id"], c.article["source_id"]), c.article["title"],
                                c.article["canonical_url"] or c.article["url"]) for c in coverage),
            )
        )
    return out


def subject_for(items: list[DigestEntry]) -> str:
    """'carewatch: 3 new — <first title>': the count of stories and the lead one fit a phone's inbox line."""
    first = items[0].title
    if len(first) > 70:
        first = first[:69].rstrip() + "…"
    return f"carewatch: {first}" if len(items) == 1 else f"carewatch: {len(items)} new — {first}"


def render_message(config: Config, sub: Subscriber, items: list[DigestEntry], now: datetime) -> EmailMessage:
    context = {"subscriber": sub, "items": items, "count": len(items), "date": now.strftime("%-d %B %Y"),
               "frequency": sub.frequency}
    msg = EmailMessage()
    msg["Subject"] = subject_for(items)
    msg["From"] = config.settings.smtp.sender
    msg["To"] = sub.email
    msg["Date"] = formatdate(now.timestamp(), localtime=False)
    domain = config.settings.smtp.sender.rsplit("@", 1)[-1].strip(">") or "carewatch.local"
    msg["Message-ID"] = make_msgid("carewatch", domain=domain)
    msg.set_content(_env.get_template("digest.txt.j2").render(**context))
    msg.add_alternative(_env.get_template("digest.html.j2").render(**context), subtype="html")
    return msg
