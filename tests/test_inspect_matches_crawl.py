"""`carewatch inspect` makes of a page exactly what a crawl makes of it: the same stages, built from
the same settings. Shown on a page where the built-in near-duplicate thresholds and the configured
ones disagree: the Children's Trust's re-issued statement (similarity 0.86, overlap 0.98 with the
statement it updates) is an "edited version" under the defaults (0.6 / 0.8), and an article of its
own under the settings.yaml here (0.9 / 0.99). Inspect and crawl agree under each; had inspect
used the defaults while crawl used settings.yaml (the old defect), they would not."""

from __future__ import annotations

import json
import shutil
import sqlite3

from carewatch.config import load_config
from carewatch.config.schema import Settings
from carewatch.core.urls import url_key
from carewatch.demo.server import DemoServer, Route
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db
from tests.conftest import ROOT, carewatch

TRUST = "www.birminghamchildrenstrust.co.uk.test"
REISSUE = "/news/article/167/media_statement_child_safeguarding_practice_review_child_l_updated"
SOURCE = "childrens-trust-news"


def _config_dir(tmp_path, name: str, proxy_url: str, thresholds: dict[str, float]):
    cfg = tmp_path / name
    shutil.copytree(ROOT / "demo" / "config", cfg)
    with (cfg / "settings.yaml").open("a") as f:
        f.write(f"http_proxy: {proxy_url}\n" + "".join(f"{k}: {v}\n" for k, v in thresholds.items()))
    return cfg


def _inspect(cfg, db_path) -> dict:
    result = carewatch(
        "--config", str(cfg), "--db", str(db_path), "inspect", f"http://{TRUST}{REISSUE}", "--source", SOURCE, "--json"
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _stored(db_path) -> tuple[dict | None, str | None]:
    """The re-issue as the crawl stored it: (its own article row, or None), (the alias reason, or None)."""
    db = open_db(db_path)
    try:
        key = url_key(f"http://{TRUST}{REISSUE}")
        row = db.execute("SELECT content_hash, relevant, topics FROM articles WHERE url_key = ?", [key]).fetchone()
        alias = db.execute("SELECT reason FROM article_aliases WHERE url_key = ?", [key]).fetchone()
        article = (
            {"content_hash": row[0], "relevant": bool(row[1]), "topics": sorted(t["topic"] for t in json.loads(row[2]))}
            if row
            else None
        )
        return article, alias[0] if alias else None
    finally:
        db.close()


def test_inspect_uses_the_crawls_thresholds_where_the_defaults_disagree(tmp_path):
    defaults = Settings()
    configured = {"near_duplicate_similarity": 0.9, "near_duplicate_overlap": 0.99}
    assert (defaults.near_duplicate_similarity, defaults.near_duplicate_overlap) == (0.6, 0.8)
    with DemoServer() as server:
        cfg = _config_dir(tmp_path, "configured", server.proxy_url, configured)
        cfg_default = _config_dir(tmp_path, "default", server.proxy_url, {})
        config = load_config(cfg)
        assert config.settings.near_duplicate_similarity == 0.9

        # The archive holds the original statement, not yet its re-issue (not there yet: 404); then the
        # re-issue is published and the news listing changes.
        route, listing = server.sites.find(TRUST, REISSUE), server.sites.find(TRUST, "/news")
        server.sites.hosts[TRUST][REISSUE] = Route(404, "text/html", b"<html><body>not yet</body></html>", "")
        before = tmp_path / "before.db"
        run_crawl(config, before, [SOURCE])
        server.sites.hosts[TRUST][REISSUE] = route
        server.sites.hosts[TRUST]["/news"] = Route(listing.status, listing.content_type, listing.body, '"changed"')
        assert _stored(before) == (None, None)
        with sqlite3.connect(before) as db:  # the original is stored
            assert db.execute("SELECT count(*) FROM articles WHERE url LIKE '%/article/166/%'").fetchone()[0] == 1
        db_path, db_default = tmp_path / "configured.db", tmp_path / "default.db"
        for copy in (db_path, db_default):
            with sqlite3.connect(before) as src, sqlite3.connect(copy) as dst:
                src.backup(dst)

        item = _inspect(cfg, db_path)
        item_default = _inspect(cfg_default, db_default)
        # The page lies between the two: the thresholds alone decide.
        assert item["duplicate_of"] is None, item["duplicate_reason"]
        assert (item_default["duplicate_reason"] or "").startswith("edited version"), item_default["duplicate_reason"]

        run_crawl(config, db_path, [SOURCE])
        run_crawl(load_config(cfg_default), db_default, [SOURCE])

    article, alias = _stored(db_path)  # configured: an article of its own, as inspect said
    assert alias is None and article == {
        "content_hash": item["content_hash"],
        "relevant": item["relevant"],
        "topics": sorted(t["topic"] for t in item["topics"]),
    }
    article_default, alias_default = _stored(db_default)  # defaults: an edited version, as inspect said
    assert article_default is None and alias_default == item_default["duplicate_reason"]
    # Inspect with the defaults against crawl with settings.yaml would have disagreed.
    assert (item_default["duplicate_of"] is None) != (alias is None)
