"""How the archive's values read on its pages: diffs as removed and added words, search matches
marked, ISO dates as '18 June 2024' and timestamps as '18 June 2024, 20:19' (Birmingham's clock),
topic ids as their names, topics and entities as chips, and ids as links to the article, its story
and its source (``render_cell``)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from datasette.utils import tilde_encode
from markupsafe import Markup, escape

from carewatch.archive.plugin.settings import settings
from carewatch.core.items import parse_timestamp

START, END = "\x02", "\x03"  # FTS5 highlight markers, replaced by <mark> after escaping


def render_diff(diff: str) -> Markup:
    """article_versions.diff ('- removed words' / '+ added words' lines) as struck-through and
    underlined words."""
    parts = []
    for line in diff.splitlines():
        if line.startswith("- "):
            parts.append(Markup('<del class="cw-del">{}</del>').format(line[2:]))
        elif line.startswith("+ "):
            parts.append(Markup('<ins class="cw-ins">{}</ins>').format(line[2:]))
        elif line.strip():
            parts.append(Markup("<span>{}</span>").format(line))
    return Markup('<div class="cw-diff">{}</div>').format(Markup("<br>").join(parts))


def marked(text: str) -> Markup:
    """Escape text whose FTS5 matches are between START and END, and mark the matches."""
    return Markup(str(escape(text)).replace(START, "<mark>").replace(END, "</mark>"))


def excerpt(text: str | None, words: int = 45) -> str:
    bits = (text or "").split()
    return " ".join(bits[:words]) + (" …" if len(bits) > words else "")


def date(value: str | None) -> str:
    """'2024-06-18T19:19:13+00:00' -> '18 June 2024' (as given, when it is not an ISO date)."""
    if not value:
        return ""
    try:
        d = parse_timestamp(str(value))
    except ValueError:
        return str(value)
    return f"{d.day} {d:%B %Y}"


LONDON = ZoneInfo("Europe/London")
ISO_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


def when(value: str | None) -> str:
    """'2024-06-18T19:19:13+00:00' -> '18 June 2024, 20:19' (Birmingham's clock); a bare date as
    ``date`` gives it; as given, when it is not ISO."""
    if not value or not ISO_TIMESTAMP.match(str(value)):
        return date(value)
    try:
        d = parse_timestamp(str(value)).astimezone(LONDON)
    except ValueError:
        return str(value)
    return f"{d.day} {d:%B %Y, %H:%M}"


def time_html(value: str) -> Markup:
    """A timestamp as people read it, the ISO original in the markup (and on hover)."""
    return Markup('<time datetime="{}" title="{}">{}</time>').format(value, value, when(value))


def json_list(value: Any) -> list:
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return data if isinstance(data, list) else []


class Links:
    """URLs into the public database."""

    def __init__(self, datasette: Any):
        self.ds = datasette
        self.db = settings(datasette).get("public_database")

    def rows(self, table: str, **filters: Any) -> str:
        """A table's page, filtered by column values; a canned query's page, with its parameters
        (Datasette gives a canned query the URL a table of that name would have)."""
        url = self.ds.urls.table(self.db, table)
        return f"{url}?{urlencode(filters)}" if filters else url

    def article(self, article_id: str) -> str:
        return self.ds.urls.row(self.db, "articles", tilde_encode(str(article_id)))

    def story(self, story_id: str) -> str:
        """A story's page (routes.py)."""
        return self.ds.urls.path(f"/-/story/{tilde_encode(str(story_id))}")

    def meeting(self, meeting_id: str) -> str:
        """A meeting's page (routes.py); its id's colon as it is."""
        return self.ds.urls.path(f"/-/meeting/{quote(str(meeting_id), safe=':')}")

    def evidence(self, article_id: str) -> str:
        """An article's evidence pack, the .zip (routes.py)."""
        return self.ds.urls.path(f"/-/evidence/{tilde_encode(str(article_id))}.zip")

    def through(self, table: str, column: str, value: str) -> str:
        return self.rows("articles", _through=json.dumps({"table": table, "column": column, "value": value}))


def chips(links: Links, items: list, key: str, label: str, table: str, column: str) -> Markup:
    """Topics or entities as links to the articles that have them."""
    chip = Markup('<a class="cw-chip" href="{}">{}</a>')
    found = [
        chip.format(links.through(table, column, i[key]), i.get(label) or i[key])
        for i in items
        if isinstance(i, dict) and i.get(key)
    ]
    return Markup(" ").join(found)


def render_cell(value: Any, column: str, table: str | None, database: str, datasette: Any) -> Markup | None:
    config = settings(datasette)
    if database not in (config.get("public_database"), config.get("private_database")) or value in (None, ""):
        return None
    links = Links(datasette)
    names = (config.get("labels") or {}).get("source_id") or {}
    if column == "diff" and table in (None, "article_versions"):
        return render_diff(str(value))
    if column == "source_id" and table in (None, "articles", "article_aliases", "fetches"):
        return Markup('<a href="{}" title="{}">{}</a>').format(
            links.rows("articles", source_id=value), f"All articles from {names.get(value, value)}", value
        )
    if column == "story_id" and table in (None, "articles"):
        return Markup('<a href="{}" title="The story: its coverage in time order">{}</a>').format(
            links.story(value), value
        )
    if column == "article_id" and table is None:  # canned queries: the id leads to the article
        return Markup('<a href="{}">{}</a>').format(links.article(value), value)
    if column == "meeting_id" and table is None:  # canned queries: the id leads to the meeting's page
        return Markup('<a href="{}">{}</a>').format(links.meeting(value), value)
    if column == "text" and table is None:  # canned queries: a long text in a box of its own
        return Markup('<div class="cw-textcell">{}</div>').format(value)
    if column == "topic" and table in (None, "article_topics"):  # the topic's name, its id on hover
        label = ((config.get("labels") or {}).get("topic") or {}).get(str(value))
        return Markup('<span title="{}">{}</span>').format(value, label) if label else None
    if isinstance(value, str) and ISO_TIMESTAMP.match(value):
        return time_html(value)
    if column == "topics" and table == "articles":
        return chips(links, json_list(value), "topic", "label", "article_topics", "topic") or None
    if column == "entities" and table == "articles":
        return chips(links, json_list(value), "entity", "name", "article_entities", "entity") or None
    return None


# Column descriptions (from the metadata) folded away under a summary, so results come first.
FOLD_COLUMN_DESCRIPTIONS = """
document.querySelectorAll("dl.column-descriptions").forEach(function (dl) {
  var details = document.createElement("details"), summary = document.createElement("summary");
  summary.textContent = "What each column means";
  details.className = "cw-columns";
  dl.parentNode.insertBefore(details, dl);
  details.appendChild(summary);
  details.appendChild(dl);
});
"""
