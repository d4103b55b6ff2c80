"""``carewatch inspect``: fetch one page or PDF (or read a file) and run the pipelines on it,
storing nothing. The operator's tool for debugging a source."""

from __future__ import annotations

import dataclasses
import urllib.request
from pathlib import Path

from carewatch.config.schema import Config
from carewatch.core.errors import CarewatchError
from carewatch.core.items import Article, utcnow_iso
from carewatch.pipelines.extract import is_pdf
from carewatch.pipelines.runner import run_stages
from carewatch.pipelines.tag import Tagger


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


def inspect_target(config: Config, target: str, source_id: str | None = None) -> dict:
    if source_id:
        try:
            config.source(source_id)
        except KeyError as e:
            raise CarewatchError(f"unknown source {source_id!r}") from e
    if target.startswith(("http://", "https://")):
        url, body, charset = _fetch(config, target)
    else:
        path = Path(target)
        if not path.is_file():
            raise CarewatchError(f"{target}: no such file or URL")
        url, body, charset = path.resolve().as_uri(), path.read_bytes(), ""
    article = Article(source_id=source_id or "inspect", url=url, fetched_at=utcnow_iso())
    if is_pdf(body):
        article = dataclasses.replace(article, body=body)
    else:
        article = dataclasses.replace(article, html=body.decode(charset or "utf-8", errors="replace"))
    include = config.source(source_id).include_keywords if source_id else ()
    result = run_stages(article, Tagger(config.topics, config.entities), include_keywords=include)
    out = dataclasses.asdict(result)
    for key in ("html", "body", "feed_title", "feed_author", "feed_published", "feed_summary"):
        out.pop(key, None)
    return out
