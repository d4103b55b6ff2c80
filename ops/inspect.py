"""``carewatch inspect``: fetch one page or PDF (or read a file) and run the pipelines on it,
storing nothing. The operator's tool for debugging a source.

The page goes through exactly what a crawl would do to it: the same stages (pipelines.runner),
built from the same configuration (thresholds, tagging rules, the source's ``selectors``,
``include_keywords`` and ``local``), de-duplicated against the archive when there is one (read
only), so ``duplicate_of`` says whether a crawl would store it as a copy."""

from __future__ import annotations

import dataclasses
import os
import urllib.request
from pathlib import Path

from scrapy.exceptions import DropItem

from carewatch.config.schema import Config
from carewatch.core.errors import CarewatchError
from carewatch.core.items import Article, utcnow_iso
from carewatch.pipelines.extract import is_pdf
from carewatch.pipelines.runner import run_stages
from carewatch.store.db import open_db
from carewatch.store.seen import SqliteSeenIndex


def _fetch(config: Config, url: str) -> tuple[str, bytes, str]:
    s = config.settings
    handlers = [urllib.request.ProxyHandler({"http": s.http_proxy, "https": s.http_proxy} if s.http_proxy else {})]
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(url, headers={"User-Agent": s.user_agent})
    try:
        with opener.open(req, timeout=s.download_timeout) as resp:
            body = resp.read(s.max_response_bytes + 1)
            if len(body) > s.max_response_bytes:
                raise CarewatchError(f"{url}: larger than max_response_bytes ({s.max_response_bytes})")
            return resp.geturl(), body, resp.headers.get_content_charset() or ""
    except OSError as e:
        raise CarewatchError(f"{url}: cannot fetch: {e}") from e


def inspect_target(
    config: Config, target: str, source_id: str | None = None, db_path: str | os.PathLike[str] | None = None
) -> dict:
    """The item a crawl would make of the page (as a dict, the page itself left out); ``db_path``:
    the archive to de-duplicate against, if it exists (it is never created or written)."""
    selectors: dict = {}
    if source_id:
        try:
            source = config.source(source_id)
        except KeyError as e:
            raise CarewatchError(f"unknown source {source_id!r}") from e
        if source.selectors:  # as the spider hands a page of this source on
            selectors = {k: v for k, v in source.selectors.model_dump().items() if v}
    if target.startswith(("http://", "https://")):
        url, body, charset = _fetch(config, target)
    else:
        path = Path(target)
        if not path.is_file():
            raise CarewatchError(f"{target}: no such file or URL")
        url, body, charset = path.resolve().as_uri(), path.read_bytes(), ""
    article = Article(
        source_id=source_id or "inspect",
        url=url,
        fetched_at=utcnow_iso(),
        extra={"selectors": selectors} if selectors else {},
    )
    if is_pdf(body):
        article = dataclasses.replace(article, body=body)
    else:
        article = dataclasses.replace(article, html=body.decode(charset or "utf-8", errors="replace"))
    seen = SqliteSeenIndex(open_db(db_path, read_only=True)) if db_path and Path(db_path).is_file() else None
    try:
        result = run_stages(article, config, seen)
    except DropItem as e:
        raise CarewatchError(str(e)) from e
    finally:
        if seen is not None:
            seen.db.close()
    out = dataclasses.asdict(result)
    for key in ("html", "body", "feed_title", "feed_author", "feed_published", "feed_summary"):
        out.pop(key, None)
    return out
