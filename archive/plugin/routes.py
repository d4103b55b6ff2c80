"""The plugin's own URL: ``/-/carewatch.css``, the archive's stylesheet (archive/static/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasette.utils.asgi import Response

CSS = Path(__file__).resolve().parent.parent / "static" / "carewatch.css"


async def stylesheet(request: Any) -> Response:
    return Response(
        CSS.read_text(encoding="utf-8"),
        content_type="text/css; charset=utf-8",
        headers={"Cache-Control": "max-age=3600"},
    )


ROUTES = [(r"^/-/carewatch\.css$", stylesheet)]
