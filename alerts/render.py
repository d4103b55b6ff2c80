"""Render a digest as an email: plain text and HTML (Jinja2, autoescaped), built for phones."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader

from carewatch.alerts.rules import LONDON, Match
from carewatch.config.schema import Config, Subscriber
from carewatch.core.items import explain

_env = Environment(
    loader=PackageLoader("carewatch.alerts", "templates"),
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
    snippet: tuple[tuple[str, bool], ...]  # (text, is a matched term): highlighted by the templates
    also_at: tuple[tuple[str, str, str], ...]  # (url, site, what it is: "copy", "edited version")
    edit: str | None = None  # what changed, for an article sent before and since edited
    coverage: tuple[tuple[str, str, str], ...] = ()  # (source, title, url): the story elsewhere
    section: str = "Other"  # the topic it is listed under

    @property
    def snippet_text(self) -> str:
        return "".join(t for t, _ in self.snippet)


def _date(value: str | None) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).strftime("%-d %B %Y")
    except ValueError:
        return value[:10]


def _snippet(text: str | None, terms: tuple[str, ...], width: int = 220) -> tuple[tuple[str, bool], ...]:
    """The sentence around the first matched term (else the opening of the text), cut to ``width``,
    as segments with every matched term marked."""
    flat = " ".join((text or "").split())
    pattern = None
    if any(terms):
        alternatives = sorted({re.escape(" ".join(t.split())) for t in terms if t.strip()}, key=len, reverse=True)
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
    m = pattern.search(flat) if pattern else None
    start = 0
    if m:
        stop = flat.rfind(". ", 0, m.start())
        start = stop + 2 if stop >= 0 else 0
        if m.start() - start > width // 2:  # start at a word near the match instead
            start = flat.find(" ", max(0, m.start() - width // 2)) + 1
    piece = flat[start : start + width]
    if start + width < len(flat):  # end on a word
        piece = piece[: piece.rfind(" ")] if " " in piece else piece
    segments: list[tuple[str, bool]] = [("…", False)] if start else []
    at = 0
    for hit in pattern.finditer(piece) if pattern else ():
        segments += [(piece[at : hit.start()], False), (hit.group(0), True)]
        at = hit.end()
    segments.append((piece[at:] + ("…" if start + width < len(flat) else ""), False))
    return tuple(x for x in segments if x[0])


def _rule_label(rule: str, labels: dict[str, str], evidence: dict[str, str]) -> str:
    """A rule as the reader sees it: "Funding, budgets and cuts (because: 'cuts' ×3)" for topic:funding."""
    if rule.startswith("topic:") and rule[6:] in labels:
        tid = rule[6:]
        return f"{labels[tid]} (because: {evidence[tid]})" if evidence.get(tid) else labels[tid]
    return rule


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
        key = m.article.article_id if m.edit else (m.article.story_id or m.article.article_id)
        groups.setdefault(key, []).append(m)
    out = []
    for group in groups.values():
        group.sort(key=lambda m: m.article.published or m.article.first_seen or "")
        out.append((group[0], group[1:]))
    return out


def entries(
    config: Config, matches: list[Match], aliases: dict[str, list[tuple[str, str]]], sub: Subscriber | None = None
) -> list[DigestEntry]:
    """One entry per story, listed under a topic section: the first of the subscriber's topics the
    article has, else its strongest topic. Sections in the subscriber's order, then by size."""
    names = {s.id: s.name for s in config.sources}
    labels = {tid: t.label for tid, t in config.topics.topics.items()}
    wanted = [r[6:] for r in (sub.all_rules() if sub else ()) if r.startswith("topic:")]
    out = []
    for m, coverage in _by_story(matches):
        a = m.article
        tagged = json.loads(a.topics or "[]")
        topics = tuple(t["label"] for t in tagged)
        evidence = {t["topic"]: explain((t.get("evidence") or [])[:3]) for t in tagged}
        ids = [t["topic"] for t in tagged]
        section_id = next((t for t in wanted if t in ids), ids[0] if ids else None)
        terms = m.terms or tuple(w for w in m.why if not w.startswith("topic:"))
        out.append(
            DigestEntry(
                title=a.title or a.canonical_url,
                url=(url := a.canonical_url or a.url),
                source=names.get(a.source_id, a.source_id),
                published=_date(a.published),
                topics=topics,
                why=tuple(_rule_label(w, labels, evidence) for w in m.why),
                snippet=_snippet(a.text, terms),
                also_at=_also_at(aliases.get(a.article_id, []), url),
                edit=m.edit[:1200] if m.edit else None,
                coverage=tuple(
                    (
                        names.get(c.article.source_id, c.article.source_id),
                        c.article.title,
                        c.article.canonical_url or c.article.url,
                    )
                    for c in coverage
                ),
                section="Edited statements" if m.edit else (labels.get(section_id, "Other") if section_id else "Other"),
            )
        )
    order = {labels[t]: i for i, t in enumerate(wanted) if t in labels}
    size = {}
    for e in out:
        size[e.section] = size.get(e.section, 0) + 1
    out.sort(
        key=lambda e: (e.section != "Edited statements", order.get(e.section, len(order)), -size[e.section], e.section)
    )
    return out


def sections(items: list[DigestEntry]) -> list[tuple[str, list[DigestEntry]]]:
    out: list[tuple[str, list[DigestEntry]]] = []
    for e in items:
        if not out or out[-1][0] != e.section:
            out.append((e.section, []))
        out[-1][1].append(e)
    return out


def subject_for(items: list[DigestEntry]) -> str:
    """'carewatch: 3 new (Ofsted 2, Funding 1) — <first title>': what is inside, fitting a phone's inbox line."""
    first = " ".join(items[0].title.split())  # one line: a header cannot hold a line break
    if len(first) > 60:
        first = first[:59].rstrip() + "…"
    if len(items) == 1:
        return f"carewatch: {first}"
    counts = ", ".join(f"{name.split(',')[0].split(' and ')[0]} {len(group)}" for name, group in sections(items)[:3])
    return f"carewatch: {len(items)} new ({counts}) — {first}"


def _interests(config: Config, sub: Subscriber) -> list[str]:
    """The subscriber's rules as a reader says them: topics by name first, then the other rules."""
    labels = {tid: t.label for tid, t in config.topics.topics.items()}
    rules = sub.all_rules()
    topics = [labels.get(r[6:], r[6:]) for r in rules if r.startswith("topic:") and " " not in r]
    return topics + [r for r in rules if not (r.startswith("topic:") and " " not in r)]


def _address(sender: str) -> str:
    return sender.rsplit("<", 1)[-1].strip(" >") if "<" in sender else sender.strip()


def render_message(
    config: Config, sub: Subscriber, items: list[DigestEntry], now: datetime, message_id: str | None = None
) -> EmailMessage:
    """The digest as an email (plain text and HTML). ``message_id`` is fixed when the digest is queued,
    so a digest sent twice after a crash carries the same Message-ID."""
    sender = _address(config.settings.smtp.sender)
    unsubscribe = f"mailto:{sender}?subject=unsubscribe%20{sub.id}"
    context = {
        "subscriber": sub,
        "items": items,
        "sections": sections(items),
        "count": len(items),
        "date": now.astimezone(LONDON).strftime("%-d %B %Y"),
        "frequency": sub.frequency,
        "rules": _interests(config, sub),
        "unsubscribe": unsubscribe,
    }
    msg = EmailMessage()
    msg["Subject"] = subject_for(items)
    msg["From"] = config.settings.smtp.sender
    msg["To"] = sub.email or ""
    msg["Date"] = formatdate(now.timestamp(), localtime=False)
    domain = sender.rsplit("@", 1)[-1] or "carewatch.local"
    msg["Message-ID"] = message_id or make_msgid("carewatch", domain=domain)
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Id"] = f"carewatch {sub.id} <{sub.id}.carewatch.{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render_text(context))
    msg.add_alternative(_env.get_template("digest.html.j2").render(**context), subtype="html")
    return msg


def render_text(context: dict) -> str:
    return _env.get_template("digest.txt.j2").render(**context)
