"""The plugin's own URLs:

- ``/-/carewatch.css``: the archive's stylesheet (archive/static/);
- ``/-/story/<story_id>``: a story's page, its coverage in time order (templates/carewatch_story.html);
- ``/-/meeting/<meeting_id>``: a council meeting's page, its items with their papers and each
  paper's press coverage, and what changed (templates/carewatch_meeting.html, meetings.py);
- ``/-/evidence/<article_id>.zip``: an article's evidence pack, the .zip `carewatch evidence` writes;
- ``/-/feeds/<token>.atom``: a subscription's Atom feed, behind its token (`carewatch alerts
  feed-url` gives the address); any other token is answered 404, like a page that does not exist;
- ``/subscribe``, ``/confirm/<token>``, ``/manage/<token>``, ``/unsubscribe/<token>`` and
  ``/-/subscribe.js``: the self-service subscription pages (subscribe.py).

The meeting page, the pack and the feed are made by the service layer from the archive opened
read-only (a connection of their own, not the public database's); the pack and the feed also from
the config ``carewatch serve`` was given.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from datasette.utils.asgi import NotFound, Response

from carewatch.archive.plugin import subscribe
from carewatch.archive.plugin.context import ArchiveContext
from carewatch.archive.plugin.meetings import meeting_context, meeting_id_from_path
from carewatch.archive.plugin.settings import settings
from carewatch.core.errors import CarewatchError
from carewatch.ops.alerts import FEED_PATH, served_feed
from carewatch.ops.evidence import evidence_download
from carewatch.ops.meetings import meeting_page

CSS = Path(__file__).resolve().parent.parent / "static" / "carewatch.css"


async def stylesheet(request: Any) -> Response:
    return Response(
        CSS.read_text(encoding="utf-8"),
        content_type="text/css; charset=utf-8",
        headers={"Cache-Control": "max-age=3600"},
    )


def _archive_path(datasette: Any) -> str:
    db = datasette.get_database(settings(datasette).get("public_database"))
    if not db.path:
        raise NotFound("No archive")
    return db.path


async def story(datasette: Any, request: Any) -> Response:
    cw = ArchiveContext(datasette, settings(datasette).get("public_database"), None, "story", request)
    page = await cw.story(request.url_vars["story_id"])
    if page is None:
        raise NotFound("No article belongs to this story")
    return Response.html(
        await datasette.render_template("carewatch_story.html", {"cw": cw, "story": page}, request=request)
    )


async def meeting(datasette: Any, request: Any) -> Response:
    meeting_id = meeting_id_from_path(request.url_vars["meeting_id"])
    page = await asyncio.to_thread(meeting_page, _archive_path(datasette), meeting_id)
    if page is None:
        raise NotFound("No such meeting")
    cw = ArchiveContext(datasette, settings(datasette).get("public_database"), None, "meeting", request)
    return Response.html(
        await datasette.render_template(
            "carewatch_meeting.html", {"cw": cw, "meeting": meeting_context(datasette, page)}, request=request
        )
    )


async def evidence(datasette: Any, request: Any) -> Response:
    config = settings(datasette)
    try:
        name, data = await asyncio.to_thread(
            evidence_download, config.get("config_dir") or "config", _archive_path(datasette), request.url_vars["id"]
        )
    except CarewatchError as e:
        raise NotFound(str(e)) from None
    return Response(
        data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


async def feed(datasette: Any, request: Any) -> Response:
    config, token = settings(datasette), request.url_vars["token"]
    path = FEED_PATH.format(token=token)
    public_url = config.get("public_url")
    if public_url:
        self_url = public_url.rstrip("/") + path
    else:
        self_url = datasette.absolute_url(request, datasette.urls.path(path))
    data = await asyncio.to_thread(
        served_feed, config.get("config_dir") or "config", _archive_path(datasette), token, self_url
    )
    if data is None:
        raise NotFound("No such page")
    return Response(
        data.decode("utf-8"),
        content_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"},
    )


ROUTES = [
    (r"^/-/carewatch\.css$", stylesheet),
    (r"^/-/story/(?P<story_id>[A-Za-z0-9_-]+)$", story),
    (r"^/-/meeting/(?P<meeting_id>[^/]+)$", meeting),
    (r"^/-/evidence/(?P<id>[A-Za-z0-9_-]+)\.zip$", evidence),
    (r"^/-/feeds/(?P<token>[A-Za-z0-9_-]+)\.atom$", feed),
    *subscribe.ROUTES,
]
