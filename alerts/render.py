"""Render a digest as an email: plain text and HTML (Jinja2, autoescaped), built for phones.

A digest must arrive whole: Gmail clips a message past about 102 KB, hiding the footer and its
unsubscribe link, and a first run after a back-fill can match a thousand articles. So a digest
lists at most ``digest_max_entries`` stories and ``digest_max_links`` other links under each, and
is cut (stories dropped from the end) until it is at most ``digest_max_bytes``; what is left out
is counted and linked to the archive (``archive_url``). The count is the same everywhere: the
subject, the heading, ``deliveries.article_count`` and what ``carewatch demo`` and ``alerts send``
print are all the articles the digest holds, each story counted with its coverage."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader

from carewatch.alerts.calendar import Calendar
from carewatch.alerts.email import MAIL_POLICY, set_subject
from carewatch.alerts.rules import LONDON, Match
from carewatch.alerts.subscribers import DigestLinks
from carewatch.config.schema import Config, Subscriber
from carewatch.core.items import explain
from carewatch.store.meetings import Citation
from carewatch.store.stories import RelatedArticle

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
    articles: int = 1  # the digest's articles it stands for: its own and the story's other coverage
    more_links: int = 0  # coverage and "also at" links left out (digest_max_links)
    story_url: str | None = None  # the story in the archive, where the links left out are
    first_seen: str = ""  # when the earliest of its articles was first seen
    cites: tuple[tuple[str, str], ...] = ()  # (label, url): the official documents it covers ("Cabinet, 14 Nov: …")
    related: tuple[tuple[str, str, str], ...] = ()  # (source, title, url): on its subject, not its story

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


def _cut(text: str, width: int) -> str:
    """One line of at most ``width`` characters (a title is a line; a runaway one must not fill a digest)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def archive_link(archive_url: str | None, **query: str) -> str | None:
    """A page of the archive's articles table (Datasette's own filters), or None when the archive's
    address is not configured."""
    return f"{archive_url}{'&' if '?' in archive_url else '?'}{urlencode(query)}" if archive_url else None


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


def _citation(c: Citation) -> tuple[str, str]:
    """'Cabinet, 14 Nov: Birmingham Children's Trust contract review' and the document's address."""
    when = c.meeting_start or c.published
    day = _date(when)[:-5] if when else ""  # "14 Nov 2026" -> "14 Nov"
    where = ", ".join(p for p in (c.committee, day) if p)
    return (f"{where}: {_cut(c.title or 'a document', 120)}" if where else _cut(c.title or "a document", 120)), c.url


def entries(
    config: Config,
    matches: list[Match],
    aliases: dict[str, list[tuple[str, str]]],
    sub: Subscriber | None = None,
    citations: dict[str, list[Citation]] | None = None,
    related: dict[str, list[RelatedArticle]] | None = None,
) -> list[DigestEntry]:
    """One entry per story, listed under a topic section: the first of the subscriber's topics the
    article has, else its strongest topic. Sections in the subscriber's order, then by size.
    ``citations``: the official documents each article covers (store.meetings.citations_of);
    ``related``: the articles on its subject but not its story (store.stories.related_of)."""
    names = {s.id: s.name for s in config.sources}
    labels = {tid: t.label for tid, t in config.topics.topics.items()}
    wanted = [r[6:] for r in (sub.all_rules() if sub else ()) if r.startswith("topic:")]
    cap = config.settings.digest_max_links
    out = []
    for m, coverage in _by_story(matches):
        a = m.article
        tagged = json.loads(a.topics or "[]")
        topics = tuple(t["label"] for t in tagged)
        evidence = {t["topic"]: explain((t.get("evidence") or [])[:3]) for t in tagged}
        ids = [t["topic"] for t in tagged]
        section_id = next((t for t in wanted if t in ids), ids[0] if ids else None)
        terms = m.terms or tuple(w for w in m.why if not w.startswith("topic:"))
        url = a.canonical_url or a.url
        covered = [
            (
                names.get(c.article.source_id, c.article.source_id),
                _cut(c.article.title or "", 150),
                c.article.canonical_url or c.article.url,
            )
            for c in coverage
        ]
        also = _also_at(aliases.get(a.article_id, []), url)
        kept_coverage = covered[:cap]
        kept_also = also[: cap - len(kept_coverage)]
        out.append(
            DigestEntry(
                title=_cut(a.title or a.canonical_url or a.url, 300),
                url=url,
                source=names.get(a.source_id, a.source_id),
                published=_date(a.published),
                topics=topics,
                why=tuple(_rule_label(w, labels, evidence) for w in m.why),
                snippet=_snippet(a.text, terms),
                also_at=tuple(kept_also),
                edit=m.edit[:1200] if m.edit else None,
                coverage=tuple(kept_coverage),
                section="Edited statements" if m.edit else (labels.get(section_id, "Other") if section_id else "Other"),
                articles=1 + len(coverage),
                more_links=len(covered) + len(also) - len(kept_coverage) - len(kept_also),
                story_url=archive_link(config.settings.archive_url, story_id=a.story_id) if a.story_id else None,
                first_seen=min(x.article.first_seen or "" for x in (m, *coverage)),
                cites=tuple(dict.fromkeys(_citation(c) for c in (citations or {}).get(a.article_id, [])))[:cap],
                related=tuple(
                    (names.get(r.source_id, r.source_id), _cut(r.title or "", 150), r.url)
                    for r in (related or {}).get(a.article_id, [])
                    if r.related_id not in {c.article.article_id for c in coverage}
                )[:cap],
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


def article_count(items: list[DigestEntry]) -> int:
    """The articles a digest holds: every story with its coverage (the digest's one count)."""
    return sum(e.articles for e in items)


def subject_for(items: list[DigestEntry], calendar: Calendar | None = None) -> str:
    """'carewatch: 3 new (Ofsted 2, Funding 1) — <first title>': how many articles, by section, and
    the first story, fitting a phone's inbox line. A digest of the calendar alone: 'carewatch:
    coming up — <the first item>' or 'carewatch: not yet covered — <the first document>'."""
    if not items:
        if calendar and calendar.coming_up:
            first_item = calendar.coming_up[0]
            return f"carewatch: coming up — {_cut(first_item.committee + ', ' + first_item.when, 60)}"
        first_doc = calendar.not_covered[0].title if calendar and calendar.not_covered else "nothing new"
        return f"carewatch: not yet covered — {_cut(first_doc, 60)}"
    first = _cut(items[0].title, 60)  # one line: a header cannot hold a line break
    total = article_count(items)
    if total == 1:
        return f"carewatch: {first}"
    counts = ", ".join(
        f"{name.split(',')[0].split(' and ')[0]} {article_count(group):,}" for name, group in sections(items)[:3]
    )
    return f"carewatch: {total:,} new ({counts}) — {first}"


def _interests(config: Config, sub: Subscriber) -> list[str]:
    """The subscriber's rules as a reader says them: topics by name first, then the other rules."""
    labels = {tid: t.label for tid, t in config.topics.topics.items()}
    rules = sub.all_rules()
    topics = [labels.get(r[6:], r[6:]) for r in rules if r.startswith("topic:") and " " not in r]
    return topics + [r for r in rules if not (r.startswith("topic:") and " " not in r)]


def _address(sender: str) -> str:
    return sender.rsplit("<", 1)[-1].strip(" >") if "<" in sender else sender.strip()


def render_message(
    config: Config,
    sub: Subscriber,
    items: list[DigestEntry],
    now: datetime,
    message_id: str | None = None,
    links: DigestLinks | None = None,
    calendar: Calendar | None = None,
) -> EmailMessage:
    """The digest as an email (plain text and HTML). ``message_id`` is fixed when the digest is queued,
    so a digest sent twice after a crash carries the same Message-ID. At most ``digest_max_entries``
    stories are listed, fewer when that is needed to keep the message within ``digest_max_bytes``;
    the subject, the summary at the top and the count are of all of ``items``. ``links``: the
    subscriber's manage and one-click unsubscribe links (alerts.subscribers.digest_links), in the
    footer and in ``List-Unsubscribe`` (with the mailto) and ``List-Unsubscribe-Post`` (RFC 8058).
    ``calendar``: its "Coming up" and "Not yet covered" sections (alerts.calendar), after the stories."""
    settings = config.settings
    message_id = message_id or make_msgid("carewatch", domain=_domain(config))
    shown = min(len(items), settings.digest_max_entries)
    while True:
        msg = _message(config, sub, items, shown, now, message_id, links, calendar)
        size = len(msg.as_bytes())
        if size <= settings.digest_max_bytes or shown <= 1:
            return msg
        shown = max(1, min(shown - 1, shown * settings.digest_max_bytes // size))


def _domain(config: Config) -> str:
    return _address(config.settings.smtp.sender).rsplit("@", 1)[-1] or "carewatch.local"


def _message(
    config: Config,
    sub: Subscriber,
    items: list[DigestEntry],
    shown: int,
    now: datetime,
    message_id: str,
    links: DigestLinks | None = None,
    calendar: Calendar | None = None,
) -> EmailMessage:
    """The digest with its first ``shown`` stories listed and the rest counted and linked."""
    sender = _address(config.settings.smtp.sender)
    unsubscribe = f"mailto:{sender}?subject=unsubscribe%20{sub.id}"
    listed, rest = items[:shown], items[shown:]
    listed_sections = sections(listed)
    anchors = {name: f"s{i}" for i, (name, _) in enumerate(sections(items))}
    summary = [
        (name, article_count(group), anchors[name] if any(n == name for n, _ in listed_sections) else None)
        for name, group in sections(items)
    ]
    context = {
        "subscriber": sub,
        "items": listed,
        "sections": [(name, group, anchors[name]) for name, group in listed_sections],
        "summary": summary,
        "count": article_count(items),
        "stories": len(items),
        "more_stories": len(rest),
        "more_articles": article_count(rest),
        "coming_up": calendar.coming_up if calendar else (),
        "not_covered": calendar.not_covered if calendar else (),
        "more_url": archive_link(config.settings.archive_url, first_seen__gte=min(e.first_seen for e in rest))
        if rest
        else None,
        "date": now.astimezone(LONDON).strftime("%-d %B %Y"),
        "frequency": sub.frequency,
        "rules": _interests(config, sub),
        "unsubscribe": unsubscribe,
        "manage_url": links.manage if links else None,
        "unsubscribe_url": links.unsubscribe if links else None,
    }
    msg = EmailMessage(policy=MAIL_POLICY)
    set_subject(msg, subject_for(items, calendar))
    msg["From"] = config.settings.smtp.sender
    msg["To"] = sub.email or ""
    msg["Date"] = formatdate(now.timestamp(), localtime=False)
    domain = _domain(config)
    msg["Message-ID"] = message_id
    if links:
        msg["List-Unsubscribe"] = f"<{links.unsubscribe}>, <{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    else:
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Id"] = f"carewatch {sub.id} <{sub.id}.carewatch.{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render_text(context))
    msg.add_alternative(_env.get_template("digest.html.j2").render(**context), subtype="html")
    return msg


def render_text(context: dict) -> str:
    return _env.get_template("digest.txt.j2").render(**context)
