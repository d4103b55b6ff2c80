"""`carewatch evidence`: a citable pack about one article, from an archive built by crawling the
demo site for real: a statement edited in place (two versions, a word diff), its raw captures read
back from the real WARC files, and the page later answering 410 Gone."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import zipfile
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from carewatch.cli.evidence import evidence
from carewatch.core.items import Fetch
from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import demo_config
from carewatch.demo.server import DemoServer, Route
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db
from carewatch.store.evidence import _removal
from carewatch.store.fetches import record_fetch
from tests.conftest import DEMO_CONFIG

COUNCIL = "www.birmingham.gov.uk.test"
STATEMENT = "/news/article/1571/statement_on_the_child_safeguarding_practice_review_for_child_l"
ADDED = (
    "The council has apologised to Child L\u2019s family and will publish an action plan within six weeks, "
    "with progress reported to the scrutiny committee every quarter."
)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The demo site crawled, the council's statement edited in place and crawled again, then a
    later fetch of it answered 410 Gone."""
    tmp = tmp_path_factory.mktemp("evidence")
    db_path = tmp / "archive.db"
    with DemoServer() as server, MailSink(tmp / "mail") as sink:
        config = demo_config(server.proxy_url, sink.port)
        assert run_crawl(config, db_path).counts["new"] >= 20
        route = server.sites.find(COUNCIL, STATEMENT)
        edited = route.body.replace(
            b'<div class="editor">', b'<div class="editor"><p>' + ADDED.encode("utf-8") + b"</p>", 1
        )
        assert edited != route.body
        server.sites.hosts[COUNCIL][STATEMENT] = Route(200, route.content_type, edited, '"edited-1"')
        assert run_crawl(config, db_path).counts.get("updated") == 1
    db = open_db(db_path)
    article_id, url, source_id = db.execute(
        "SELECT article_id, url, source_id FROM articles WHERE url_key LIKE ?", [f"%{STATEMENT}"]
    ).fetchone()
    gone_at = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    record_fetch(
        db,
        Fetch(source_id, url, gone_at, "error", role="article", http_status=410, error_kind="http", error="HTTP 410"),
    )
    confirmed = (datetime.now(UTC) + timedelta(hours=2)).isoformat(timespec="seconds")
    record_fetch(
        db,
        Fetch(source_id, url, confirmed, "error", role="article", http_status=410, error_kind="http", error="HTTP 410"),
    )
    captures = [
        dict(zip(("id", "url", "warc_file", "offset", "length", "sha256", "record_id"), r))
        for r in db.execute(
            "SELECT id, url, warc_file, offset, length, sha256, record_id FROM captures "
            "WHERE article_id = ? ORDER BY id",
            [article_id],
        ).fetchall()
    ]
    db.close()
    return SimpleNamespace(
        db_path=db_path,
        raw_dir=tmp / "archive.db-raw",
        tmp=tmp,
        article_id=article_id,
        url=url,
        gone_at=gone_at,
        confirmed=confirmed,
        captures=captures,
    )


def _run(db_path, *args: str):
    from carewatch.cli.main import cli

    if "evidence" not in cli.commands:  # until cli/main.py registers it
        cli.add_command(evidence)
    return CliRunner().invoke(cli, ["--config", str(DEMO_CONFIG), "--db", str(db_path), "evidence", *args])


def _check_manifest(files: dict[str, bytes]) -> dict:
    """Every file but the manifest is listed in it with its sha256 and size, and nothing else is."""
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for path, data in files.items():
        if path != "manifest.json":
            assert listed[path]["sha256"] == _sha(data) and listed[path]["bytes"] == len(data), path
    return manifest


def _folder(path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def test_pack_has_every_version_its_diff_the_verified_captures_and_the_removal(archive):
    out = archive.tmp / "pack"
    result = _run(archive.db_path, archive.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"-> {out}" in result.output and "2 raw capture(s) (2 verified" in result.output
    files = _folder(out)
    manifest = _check_manifest(files)
    assert manifest["article"]["article_id"] == archive.article_id
    assert manifest["article"]["first_seen"] and manifest["source"]["id"] == "birmingham-council-news"

    # two texts: the one first crawled, kept with the diff to the edited one, which is current
    kept, current = manifest["versions"]
    assert (kept["label"], kept["current"], current["label"], current["current"]) == ("kept 1", False, "current", True)
    assert kept["seen_from"] == manifest["article"]["first_seen"] and kept["replaced_at"] == current["seen_from"]
    assert 0 < kept["changed"] < 0.5 and kept["next"] == "current"
    first_text = files[kept["file"]].decode("utf-8")
    current_text = files[current["file"]].decode("utf-8")
    assert ADDED not in first_text and ADDED in current_text
    assert "+ The council has apologised to Child L" in files[kept["diff_file"]].decode("utf-8")
    readme = files["README.md"].decode("utf-8")
    assert "{+The council has apologised to Child L" in readme and manifest["article"]["title"] in readme
    assert ADDED in readme  # every version's text is in the summary
    assert "<ins>The council has apologised" in files["summary.html"].decode("utf-8")

    # the raw captures: one per crawl that stored a text, read back from the WARC files
    assert [c["captures_id"] for c in manifest["captures"]] == [c["id"] for c in archive.captures]
    for entry, row in zip(manifest["captures"], archive.captures):
        assert entry["verified"] and entry["matches_captures_table"] and entry["matches_warc_payload_digest"]
        payload = files[entry["files"]["payload"]]
        assert _sha(payload) == row["sha256"] == entry["sha256_recorded"] == entry["sha256_payload"]
        assert entry["files"]["payload"].endswith(".html") and b"<html" in payload.lower()
        with open(archive.raw_dir / row["warc_file"], "rb") as f:  # byte for byte the record in the WARC file
            f.seek(row["offset"])
            assert files[entry["files"]["warc"]].startswith(f.read(row["length"]))
        records = [
            (
                r.rec_type,
                r.rec_headers.get_header("WARC-Record-ID"),
                r.rec_headers.get_header("WARC-Concurrent-To"),
                r.raw_stream.read(),
            )
            for r in ArchiveIterator(io.BytesIO(files[entry["files"]["warc"]]))
        ]
        assert [r[0] for r in records] == ["response", "request", "metadata"]
        assert records[0][1] == row["record_id"] and records[0][3] == payload
        assert records[1][2] == records[2][2] == row["record_id"]
        assert entry["request_metadata"]["source_id"] == "birmingham-council-news"
        assert files[entry["files"]["headers"]].startswith(b"HTTP/1.1 200")
    assert ADDED.encode("utf-8") not in files[manifest["captures"][0]["files"]["payload"]]
    assert ADDED.encode("utf-8") in files[manifest["captures"][1]["files"]["payload"]]

    # taken down: the first 410 after it was last seen online, confirmed once since
    removal = manifest["removal"]
    assert removal["removed"]
    [own] = [r for r in removal["urls"] if r["state"] == "removed"]
    assert (own["gone_at"], own["gone_status"], own["confirmations"], own["last_checked"]) == (
        archive.gone_at,
        410,
        1,
        archive.confirmed,
    )
    assert own["last_seen_online"] and own["last_seen_online"] < archive.gone_at
    assert f"answered HTTP 410 at {archive.gone_at}" in readme and "taken down" in result.output
    fetched = json.loads(files["fetches.json"])
    assert [f["http_status"] for f in fetched][-2:] == [410, 410]
    assert any(f["status"] == "ok" for f in fetched)  # the crawls' own fetches of the page


def test_zip_pack_of_an_article_found_by_a_copy_url_with_no_sign_of_removal(archive):
    db = open_db(archive.db_path)
    alias_url, article_id = db.execute(
        "SELECT url, article_id FROM article_aliases WHERE article_id != ? AND reason = 'same text' "
        "ORDER BY url LIMIT 1",
        [archive.article_id],
    ).fetchone()
    n_captures = db.execute("SELECT count(*) FROM captures WHERE article_id = ?", [article_id]).fetchone()[0]
    db.close()
    out = archive.tmp / "copy.zip"
    result = _run(archive.db_path, alias_url, "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["article_id"] == article_id and not info["removed"]
    assert info["zip_sha256"] == _sha(out.read_bytes()) and info["verified"] == info["captures"] == n_captures >= 1
    with zipfile.ZipFile(out) as z:
        files = {n.split("/", 1)[1]: z.read(n) for n in z.namelist()}
        assert {n.split("/", 1)[0] for n in z.namelist()} == {"copy"}
    manifest = _check_manifest(files)
    assert info["manifest_sha256"] == _sha(files["manifest.json"])
    assert manifest["alias_note"] and alias_url in manifest["alias_note"]
    assert alias_url in [u["url"] for u in manifest["urls"] if u["role"] == "alias"]
    assert manifest["removal"]["summary"].startswith("No sign of removal")
    assert "No sign of removal" in files["README.md"].decode("utf-8")
    assert [v["label"] for v in manifest["versions"]][-1] == "current"

    again = _run(archive.db_path, alias_url, "--out", str(out))  # never overwritten unasked
    assert again.exit_code == 1 and "exists" in again.output
    assert _run(archive.db_path, alias_url, "--out", str(out), "--force").exit_code == 0


def test_a_capture_that_does_not_match_its_recorded_sha256_is_reported_and_fails(archive):
    copy = archive.tmp / "tampered.db"
    src = sqlite3.connect(archive.db_path)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.execute("UPDATE captures SET sha256 = ? WHERE id = ?", ["0" * 64, archive.captures[0]["id"]])
    dst.commit()
    dst.close()
    shutil.copytree(archive.raw_dir, archive.tmp / "tampered.db-raw")
    out = archive.tmp / "tampered-pack"
    result = _run(copy, archive.article_id, "--out", str(out))
    assert result.exit_code == 1
    assert "1 verified" in result.output and "is not the " + "0" * 64 in result.output
    manifest = _check_manifest(_folder(out))
    assert [c["verified"] for c in manifest["captures"]] == [False, True]
    assert "NOT VERIFIED" in (out / "README.md").read_text(encoding="utf-8")


def test_unknown_article_is_a_clean_error(archive):
    result = _run(archive.db_path, "http://nowhere.test/x", "--out", str(archive.tmp / "none"))
    assert result.exit_code == 1 and "no stored article" in result.output and "Traceback" not in result.output
    assert not (archive.tmp / "none").exists()


def test_removal_is_the_first_gone_fetch_after_the_page_was_last_seen_online():
    def f(started, status, http):
        return {"url_key": "x.test/a", "started": started, "status": status, "http_status": http, "error_kind": None}

    ok1, gone1, ok2, gone2, gone3 = (
        f("2024-01-01T10:00:00+00:00", "ok", 200),
        f("2024-01-02T10:00:00+00:00", "error", 404),
        f("2024-01-03T10:00:00+00:00", "ok", 200),
        f("2024-01-04T10:00:00+00:00", "error", 410),
        f("2024-01-05T10:00:00+00:00", "error", 410),
    )
    r = _removal("http://x.test/a", "x.test/a", [ok1, gone1, ok2, gone2, gone3], ["2024-01-01T09:00:00Z"])
    assert (r.state, r.gone_at, r.gone_status, r.confirmations, r.last_seen_online) == (
        "removed",
        gone2["started"],
        410,
        1,
        ok2["started"],
    )
    r = _removal("http://x.test/a", "x.test/a", [ok1, gone1, ok2], [])
    assert (r.state, r.gone_at, r.last_seen_online) == ("restored", gone1["started"], ok2["started"])
    # a capture seen after the 404 counts as online too (the fetch log may have been pruned)
    r = _removal("http://x.test/a", "x.test/a", [gone1], ["2024-01-02T11:00:00Z"])
    assert r.state == "restored"
    r = _removal("http://x.test/a", "x.test/a", [ok1], [])
    assert r.state == "no sign of removal" and "no sign of removal" in r.sentence()
    assert _removal("http://x.test/a", "x.test/a", [], []).state == "never fetched"
