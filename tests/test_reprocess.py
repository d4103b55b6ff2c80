"""Raw responses kept as WARC files, and `carewatch reprocess` rebuilding the articles from them:
a real crawl of the demo site, the real WARC files read back with warcio, the real command."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest
from warcio.archiveiterator import ArchiveIterator

from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import demo_config
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db
from tests.conftest import DEMO_CONFIG, ROOT, carewatch

SNAPSHOT = ("title", "text", "published", "authors", "topics", "relevant", "content_hash", "canonical_url")


def _snapshot(db_path):
    db = open_db(db_path)
    try:
        cur = db.execute(f"SELECT article_id, {', '.join(SNAPSHOT)} FROM articles ORDER BY article_id")
        return {r[0]: dict(zip(SNAPSHOT, r[1:])) for r in cur.fetchall()}
    finally:
        db.close()


def _reprocess(db_path, *args: str) -> subprocess.CompletedProcess:
    """`carewatch --config demo/config --db DB reprocess ...`, the installed command; until cli/main.py
    registers the command (cli.add_command(reprocess)), the same group with it added."""
    from carewatch.cli.main import cli

    argv = ["--config", str(DEMO_CONFIG), "--db", str(db_path), "reprocess", *args]
    if "reprocess" in cli.commands:
        return carewatch(*argv)
    code = (
        "from carewatch.cli.main import cli; from carewatch.cli.reprocess import reprocess; "
        "cli.add_command(reprocess); cli()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, demo_server):
    tmp = tmp_path_factory.mktemp("reprocess")
    db_path = tmp / "archive.db"
    with MailSink(tmp / "mail") as sink:
        config = demo_config(demo_server.proxy_url, sink.port)
        report = run_crawl(config, db_path)
    assert report.counts["new"] >= 20
    return SimpleNamespace(
        db_path=db_path, raw_dir=tmp / "archive.db-raw", config=config, rows=_snapshot(db_path), server=demo_server
    )


def _latest_captures(db_path):
    db = open_db(db_path)
    try:
        cur = db.execute(
            "SELECT a.article_id, a.kind, a.source_id, c.* FROM articles a LEFT JOIN captures c "
            "ON c.id = (SELECT max(id) FROM captures WHERE article_id = a.article_id)"
        )
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        db.close()


def test_raw_responses_are_kept_as_warc_files_and_every_article_knows_its_capture(crawled):
    files = sorted(crawled.raw_dir.rglob("*.warc.gz"))
    assert files, f"no WARC file under {crawled.raw_dir}"
    # one file per crawl process and source: <source>/<start>-<pid>.warc.gz
    assert {f.parent.name for f in files} == {s.id for s in crawled.config.sources if s.enabled} - {
        "birmingham-against-the-cuts-news"
    }  # its feed answers 500: error responses are not kept
    captures = _latest_captures(crawled.db_path)
    assert len(captures) == len(crawled.rows)
    kinds = set()
    for c in captures:
        assert c["warc_file"], f"article {c['article_id']} has no capture"
        with open(crawled.raw_dir / c["warc_file"], "rb") as f:
            f.seek(c["offset"])
            blob = f.read(c["length"])  # exactly the response record (its own gzip member)
            f.seek(c["offset"] + c["length"])
            following = {
                r.rec_type: r.rec_headers.get_header("WARC-Concurrent-To") for r, _ in zip(ArchiveIterator(f), range(2))
            }
        records = []
        for rec in ArchiveIterator(io.BytesIO(blob)):
            records.append(
                (
                    rec.rec_type,
                    rec.rec_headers.get_header("WARC-Record-ID"),
                    rec.rec_headers.get_header("WARC-Target-URI"),
                    rec.http_headers.get_statuscode(),
                    rec.raw_stream.read(),
                )
            )
        [(rec_type, record_id, uri, status, payload)] = records
        assert (rec_type, record_id, uri, status) == ("response", c["record_id"], c["url"], "200")
        assert hashlib.sha256(payload).hexdigest() == c["sha256"], c["url"]
        assert following == {"request": c["record_id"], "metadata": c["record_id"]}
        if c["kind"] == "pdf":
            assert payload.startswith(b"%PDF-") and "pdf" in c["content_type"]
        kinds.add(c["kind"])
    assert {"html", "pdf"} <= kinds


def test_reprocess_yields_the_same_rows_without_the_network(crawled):
    requests_before = len(crawled.server.requests)
    result = _reprocess(crawled.db_path)
    assert result.returncode == 0, result.stderr
    assert "0 changed" in result.stdout and f"{len(crawled.rows)} unchanged" in result.stdout, result.stdout
    assert "0 missing capture, 0 failed" in result.stdout
    assert _snapshot(crawled.db_path) == crawled.rows
    assert len(crawled.server.requests) == requests_before  # nothing fetched: the raw responses suffice


def test_reprocess_shows_plain_progress_off_a_terminal_and_json_still_parses(crawled, tmp_path):
    folder = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, folder)
    with (folder / "settings.yaml").open("a", encoding="utf-8") as f:
        f.write("\nprogress_seconds: 0.01\n")  # a line after nearly every article
    result = carewatch("--config", str(folder), "--db", str(crawled.db_path), "reprocess", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["unchanged"] == len(crawled.rows)  # standard output: the JSON alone
    assert "\r" not in result.stderr
    line = re.compile(r"^reprocess: ([\d,]+) of ([\d,]+) articles \((\d+)%\), ")
    lines = [m for m in map(line.match, result.stderr.splitlines()) if m]
    assert len(lines) >= 3, result.stderr  # periodic, not one line at the end
    done = [int(m[1].replace(",", "")) for m in lines]
    assert done == sorted(done) and lines[-1][3] == "100", result.stderr


def test_reprocess_restores_a_tampered_row_from_its_capture(crawled):
    db = open_db(crawled.db_path)
    pdf, page = (
        db.execute("SELECT article_id FROM articles WHERE kind = ? ORDER BY article_id LIMIT 1", [k]).fetchone()[0]
        for k in ("pdf", "html")
    )
    db.execute("UPDATE articles SET text = '' WHERE article_id = ?", [pdf])
    db.execute("UPDATE articles SET published = '1999-01-01', topics = '[]' WHERE article_id = ?", [page])
    db.close()

    result = _reprocess(crawled.db_path, "--json")
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert (counts["changed"], counts["new_versions"], counts["unchanged"]) == (2, 1, len(crawled.rows) - 2)
    assert _snapshot(crawled.db_path) == crawled.rows
    db = open_db(crawled.db_path)
    kept = db.execute("SELECT text FROM article_versions WHERE article_id = ? ORDER BY version DESC", [pdf]).fetchone()
    edited = db.execute("SELECT edited FROM articles WHERE article_id = ?", [pdf]).fetchone()[0]
    db.close()
    assert kept == ("",) and edited is None  # the tampered text kept as a version; no edit alert

    again = _reprocess(crawled.db_path, "--source", "ofsted-reports", "--json")
    counts = json.loads(again.stdout)
    assert counts["articles"] == sum(1 for _ in _source_rows(crawled, "ofsted-reports")) and counts["changed"] == 0


def _source_rows(crawled, source_id):
    db = open_db(crawled.db_path)
    try:
        yield from db.execute("SELECT article_id FROM articles WHERE source_id = ?", [source_id]).fetchall()
    finally:
        db.close()
