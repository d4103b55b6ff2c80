"""What the templates ask of the archive: ``cw`` in templates/_table.html (a page of search results
as cards, each with a highlighted snippet of where it matched) and templates/row.html (an article
with everything its page links to, and a citation)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from markupsafe import escape

from carewatch.archive.plugin.meetings import article_page_links
from carewatch.archive.plugin.rendering import START, Links, chips, date, excerpt, json_list, marked, when
from carewatch.archive.plugin.settings import settings
from carewatch.core.items import parse_timestamp
from carewatch.ops.archive import article_page, search_results, story_page


def _after(first: str | None, later: str | None) -> str:
    """How long after the first report this one came: 'same day', '3 hours later', '2 days later'."""
    try:
        gap = parse_timestamp(later or "") - parse_timestamp(first or "")
    except ValueError:
        return ""
    hours = gap.total_seconds() / 3600
    if hours < 1:
        return "within the hour"
    if hours < 24:
        return f"{int(hours)} hour{'s' if int(hours) != 1 else ''} later"
    days = gap.days
    return f"{days} day{'s' if days != 1 else ''} later"


class ArchiveContext:
    """``cw`` in the templates, for one page."""

    def __init__(self, datasette: Any, database: str | None, table: str | None, view_name: str, request: Any):
        config = settings(datasette)
        self.ds, self.request = datasette, request
        self.links = Links(datasette)
        self.is_public = database is not None and database == config.get("public_database")
        self.articles_table = self.is_public and table == "articles" and view_name == "table"
        self.article_row = self.is_public and table == "articles" and view_name == "row"
        self.source_names = (config.get("labels") or {}).get("source_id") or {}
        self._articles: dict[str, dict | None] = {}

    def facet_label(self, name: str) -> str:
        """A facet's plain name (``facet_labels`` in config/datasette.yaml): Source, Topic, ..."""
        return (settings(self.ds).get("facet_labels") or {}).get(name) or name.replace("_", " ").capitalize()

    def selected(self, facet_results: dict) -> list[dict]:
        """The facet values narrowing this page, each with the link that removes it."""
        return [
            {"facet": self.facet_label(f["name"]), "label": v["label"], "remove": v["toggle_url"]}
            for f in facet_results.values()
            for v in f["results"]
            if v.get("selected")
        ]

    def search_args(self) -> list[tuple[str, str]]:
        """The page's other arguments (its filters and facets), kept by a new search."""
        if not self.request:
            return []
        return [
            (key, value)
            for key in self.request.args
            if key not in ("_search", "_next", "_layout")
            for value in self.request.args.getlist(key)
        ]

    def source_name(self, source_id: str | None) -> str:
        return self.source_names.get(source_id or "", source_id or "")

    def _db(self) -> Any:
        return self.ds.get_database(settings(self.ds).get("public_database"))

    async def cards(self, rows: list) -> list[dict]:
        """The articles on this page of search results, in order, each with a highlighted
        snippet of where it matched (or its opening, without a search)."""
        ids = [r["article_id"] for r in rows if "article_id" in r.keys()]
        if not ids:
            return []
        search = self.request.args.get("_search") if self.request else None
        raw = bool(search) and self.request.args.get("_searchmode") == "raw"
        found = await search_results(self._db(), ids, search, raw)
        cards = []
        for article_id in ids:
            card = found.cards.get(article_id)
            if card is None:
                continue
            a = asdict(card)
            hit = found.snippets.get(article_id)
            cards.append(
                {
                    **a,
                    "href": self.links.article(article_id),
                    "title_html": marked(hit.title) if hit and hit.title else escape(a["title"] or "(untitled)"),
                    "snippet_html": (
                        marked(hit.snippet) if hit and START in (hit.snippet or "") else escape(excerpt(a["opening"]))
                    ),
                    "date": date(a["published"]) or f"found {date(a['first_seen'])}",
                    "source_name": self.source_name(a["source_id"]),
                    "source_href": self.links.rows("articles", source_id=a["source_id"]),
                    "topics_html": chips(
                        self.links, json_list(a["topics"]), "topic", "label", "article_topics", "topic"
                    ),
                }
            )
        return cards

    async def story(self, story_id: str) -> dict | None:
        """A story's page: its title (the first article's headline) and its coverage in time
        order, who was first, and how long after the first each of the others came."""
        page = await story_page(self._db(), story_id)
        if page is None:
            return None
        coverage = []
        first = page.articles[0]
        for n, a in enumerate(page.articles):
            published = a.published or a.first_seen
            coverage.append(
                {
                    **asdict(a),
                    "href": self.links.article(a.article_id),
                    "source_name": self.source_name(a.source_id),
                    "source_href": self.links.rows("articles", source_id=a.source_id or ""),
                    "when": when(published),
                    "when_iso": published,
                    "dated_by": "published" if a.published else "first seen",
                    "first": n == 0,
                    "after": _after(first.published or first.first_seen, published) if n else "",
                }
            )
        sources = {a.source_id for a in page.articles}
        return {
            "story_id": story_id,
            "title": page.title or "(untitled)",
            "coverage": coverage,
            "first": coverage[0],
            "outlets": len(sources),
            "table_href": self.links.rows("articles", story_id=story_id, _layout="table"),
        }

    async def article(self, article_id: str) -> dict | None:
        """One article with everything its page links to: versions, copies, story, source,
        raw capture, and a citation."""
        if article_id in self._articles:
            return self._articles[article_id]
        page = await article_page(self._db(), article_id)
        if page is None:
            self._articles[article_id] = None
            return None
        a, capture = asdict(page.article), page.capture
        links, source = self.links, a.get("source_id")
        published = date(a.get("published"))
        permalink = links.article(article_id)
        if self.request:
            permalink = self.ds.absolute_url(self.request, permalink)
        citation = (
            ". ".join(
                bit
                for bit in (
                    (a.get("author") or "").strip(),
                    f"“{(a.get('title') or '').strip()}”",
                    self.source_name(source),
                    published,
                    (a.get("canonical_url") or a.get("url") or ""),
                    f"Archived by carewatch (first seen {date(a.get('first_seen'))}, "
                    f"version {a.get('version') or 1}): {permalink}",
                )
                if bit
            )
            + "."
        )
        result = {
            **a,
            "date": published,
            "first_seen_date": date(a.get("first_seen")),
            "edited_date": date(a.get("edited")),
            "source_name": self.source_name(source),
            "paragraphs": [p.strip() for p in (a.get("text") or "").split("\n") if p.strip()],
            "topics_html": chips(links, json_list(a.get("topics")), "topic", "label", "article_topics", "topic"),
            "entities_html": chips(links, json_list(a.get("entities")), "entity", "name", "article_entities", "entity"),
            "counts": asdict(page.counts),
            "capture": asdict(capture) if capture else None,
            "citation": citation,
            "permalink": permalink,
            "links": {
                "versions": links.rows("statement_versions", article_id=article_id),
                "versions_table": links.rows("article_versions", article_id=article_id),
                "aliases": links.rows(  # copies at other addresses: not the edition it is now at
                    "article_aliases", article_id=article_id, url__not=a.get("canonical_url") or a.get("url") or ""
                ),
                "story": links.story(a.get("story_id")) if a.get("story_id") else None,
                "evidence": links.evidence(article_id),
                "source": links.rows("articles", source_id=source or ""),
                "source_health": links.rows("source_health", source_id=source or ""),
                "captures": links.rows("captures", article_id=article_id),
                "capture": (self.ds.urls.row(links.db, "captures", str(capture.id)) if capture else None),
            },
        }
        self._articles[article_id] = result
        return result

    async def meeting_links(self, article_id: str) -> dict:
        """The article's place in the civic calendar (archive/plugin/meetings.py): the meetings it is
        a paper of, the coverage it got (an official document's), the documents it cites."""
        return await article_page_links(self.ds, article_id)
