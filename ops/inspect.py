"""``carewatch inspect``: fetch one page or PDF (or read a file) and run the pipelines on it,
storing nothing. The operator's tool for debugging a source.

The page goes through exactly what a crawl would do to it: the same stages (pipelines.runner),
built from the same configuration (thresholds, tagging rules, the source's ``selectors``,
``include_keywords`` and ``local``), de-duplicated against the archive when there is one (read
only), so ``duplicate_of`` says whether a crawl would store it as a copy."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from scrapy.exceptions import DropItem

from carewatch.config.schema import Config
from carewatch.core.errors import CarewatchError
from carewatch.core.items import Article, Fetch, utcnow_iso
from carewatch.ops.crawl import child_env, child_limits, read_log
from carewatch.pipelines.extract import is_pdf
from carewatch.pipelines.runner import run_stages
from carewatch.store.db import open_db
from carewatch.store.seen import SqliteSeenIndex


def _fetch(config: Config, url: str, source_id: str | None) -> Article:
    """The Article a crawl makes of the page at URL, fetched as a crawl fetches it: by the crawl's child
    process with the crawl's downloader (ops.crawl_process.fetch_one: the same settings, address guard,
    redirect-loop and size checks, retries and robots.txt), so a page a crawl would refuse is refused
    with the error text the crawl records in its fetch log."""
    with tempfile.TemporaryDirectory(prefix="carewatch-inspect-") as tmp:
        snapshot, job, out = Path(tmp) / "config.json", Path(tmp) / "job.json", Path(tmp) / "items.pickle"
        log_file = Path(tmp) / "scrapy.log"
        snapshot.write_text(config.model_dump_json(), encoding="utf-8")
        job.write_text(
            json.dumps(
                {
                    "inspect": True,
                    "config": str(snapshot),
                    "url": url,
                    "source_id": source_id,
                    "out": str(out),
                    "log_file": str(log_file),
                }
            ),
            encoding="utf-8",
        )
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "carewatch.ops.crawl_process", str(job)],
                env=child_env(config),
                stdin=subprocess.DEVNULL,
                preexec_fn=child_limits(config.settings.crawl_memory_mb),
                timeout=config.settings.crawl_timeout,
            )
        except subprocess.TimeoutExpired as e:
            limit = config.settings.crawl_timeout
            raise CarewatchError(f"{url}: not fetched within crawl_timeout ({limit:.0f}s)") from e
        if proc.returncode != 0 or not out.exists():
            raise CarewatchError(f"{url}: the fetch process exited with code {proc.returncode}")
        with out.open("rb") as f:
            items = pickle.load(f)  # written by our own child process, just now
        log, _ = read_log(log_file)
    for item in items:
        if isinstance(item, Fetch) and item.status == "error":
            raise CarewatchError(f"{item.url}: {item.error}")
    articles = [item for item in items if isinstance(item, Article)]
    if not articles:
        errors = [r["message"].splitlines()[0] for r in log if r["level"] in ("ERROR", "CRITICAL")]
        raise CarewatchError(f"{url}: the page gave no article" + (f" ({errors[0]})" if errors else ""))
    return articles[0]


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
        article = _fetch(config, target, source_id)
    else:
        path = Path(target)
        if not path.is_file():
            raise CarewatchError(f"{target}: no such file or URL")
        article = Article(
            source_id=source_id or "inspect",
            url=path.resolve().as_uri(),
            fetched_at=utcnow_iso(),
            extra={"selectors": selectors} if selectors else {},
        )
        body = path.read_bytes()
        if is_pdf(body):
            article = dataclasses.replace(article, body=body)
        else:
            article = dataclasses.replace(article, html=body.decode("utf-8", errors="replace"))
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
