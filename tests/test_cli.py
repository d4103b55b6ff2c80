"""The `carewatch` command as a user runs it: demo twice, inspect, serve (every verb's --help and a real
run of each: tests/test_cli_verbs.py)."""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from carewatch.config import load_config
from carewatch.demo import pdfs
from carewatch.ops.subscriptions import unsubscribe_view
from tests.conftest import ROOT, carewatch


def test_demo_twice_second_run_stores_and_sends_nothing(tmp_path):
    db = tmp_path / "demo.db"
    first = carewatch("--db", str(db), "demo")
    assert first.returncode == 0, first.stderr
    out = first.stdout
    n_sources = len(load_config(ROOT / "demo" / "config").sources)
    assert re.search(rf"Sources crawled:\s+{n_sources} \(2 failing", out)
    new = int(re.search(r"Articles stored:\s+(\d+) new", out).group(1))
    assert new >= 20
    assert re.search(r"Duplicates dropped:\s+[1-9]", out)
    assert re.search(r"Articles per topic:\s+\w+ [1-9]", out)
    assert re.search(r"Digests delivered:\s+2", out)
    cal = re.search(r"Council meetings:\s+(\d+) \((\d+) agenda items, (\d+) papers; (\d+) links from press", out)
    assert cal and int(cal[1]) >= 10 and int(cal[2]) >= 20 and int(cal[3]) >= 20 and int(cal[4]) >= 1, out
    emls = sorted((tmp_path / "demo-mail").glob("*.eml"))
    assert len(emls) == 2 and str(db) in out
    for eml in emls:  # RFC 8058: the https (here http) link a mail client POSTs to, and the mailto
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        web, mailto = re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])
        assert web.startswith("http://127.0.0.1:8001/unsubscribe/") and mailto.startswith("mailto:"), web
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        view = unsubscribe_view(str(ROOT / "demo" / "config"), str(db), web.rsplit("/", 1)[1])
        assert view is not None and not view.unsubscribed and msg["To"].startswith(view.masked_email[0])
    second = carewatch("--db", str(db), "demo")
    assert second.returncode == 0, second.stderr
    assert re.search(r"Articles stored:\s+0 new, 0 updated", second.stdout)
    assert re.search(r"Digests delivered:\s+0", second.stdout)
    assert len(list((tmp_path / "demo-mail").glob("*.eml"))) == 2


def test_inspect_a_pdf_prints_the_item_without_storing(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdfs.ofsted_ilacs_2023())
    db = tmp_path / "none.db"
    result = carewatch("--db", str(db), "inspect", str(pdf), "--json")
    assert result.returncode == 0, result.stderr
    item = json.loads(result.stdout)
    assert item["kind"] == "pdf" and item["title"].startswith("Inspection of Birmingham City Council")
    assert item["relevant"] is True
    ofsted = next(t for t in item["topics"] if t["topic"] == "ofsted")
    assert any(term == "ofsted" and count >= 1 for term, count, _ in ofsted["evidence"])
    assert {"canonical_url", "author", "published", "text", "relevance"} <= set(item)
    assert not db.exists()


def test_inspect_a_url_through_the_configured_proxy(tmp_path, demo_server):
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "demo" / "config", cfg)
    with (cfg / "settings.yaml").open("a") as f:
        f.write(f"http_proxy: {demo_server.proxy_url}\n")
    url = "http://www.thechamberlainfiles.com.test/birmingham-councils-failing-childrens-social-care-to-be-placed-in-a-trust/?utm_source=rss"
    result = carewatch("--config", str(cfg), "inspect", url, "--source", "chamberlain-files", "--json")
    assert result.returncode == 0, result.stderr
    item = json.loads(result.stdout)
    assert item["canonical_url"] == url.split("?")[0]
    assert item["published"].startswith("2016-05-24") and item["author"]
    bad = carewatch("--config", str(cfg), "inspect", "http://nowhere.test/x")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "nowhere.test" in bad.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_datasette_with_search(tmp_path):
    db = tmp_path / "carewatch.db"
    assert carewatch("--db", str(db), "demo").returncode == 0
    port = _free_port()
    exe = Path(sys.executable).with_name("carewatch")
    proc = subprocess.Popen(
        [str(exe), "--db", str(db), "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        rows = json.load(urllib.request.urlopen(f"{base}/carewatch/articles.json?_search=voluntary+trust&_shape=array"))
        assert any("placed in a trust" in r["title"] for r in rows)
        meta = json.load(urllib.request.urlopen(f"{base}/-/metadata.json"))
        assert meta["title"] == "carewatch archive"
        fetches = json.load(urllib.request.urlopen(f"{base}/carewatch/fetches.json?status=error&_shape=array"))
        assert {r["source_id"] for r in fetches} >= {"birmingham-live-midlands"}
        with pytest.raises(urllib.error.HTTPError):  # read-only: no writes through SQL
            urllib.request.urlopen(f"{base}/carewatch.json?sql=delete+from+articles")
        assert (
            json.load(
                urllib.request.urlopen(f"{base}/carewatch.json?sql=select+count(*)+as+n+from+articles&_shape=array")
            )[0]["n"]
            >= 20
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_inspect_a_page_with_no_body_is_a_clear_error_not_an_empty_success(tmp_path):
    """A page whose article is drawn by JavaScript (its HTML holds the headline and an empty app
    shell): trafilatura's fast and full passes find nothing under the headline, and `inspect` says
    so with exit 1, rather than printing a headline-only "article" (issue 22)."""
    page = tmp_path / "app-shell.html"
    page.write_text(
        "<html><head><title>Trust chief quits | Birmingham News</title></head><body><h1>Trust chief quits</h1>"
        '<div id="app"></div><script>window.__DATA__={"body":"The chief executive resigned"}</script></body></html>'
    )
    result = carewatch("--db", str(tmp_path / "none.db"), "inspect", str(page))
    assert result.returncode == 1 and result.stdout == "", (result.returncode, result.stdout)
    assert "no body text could be extracted" in result.stderr and "'Trust chief quits'" in result.stderr
    # the same page with its article in the HTML is read, body and all
    page.write_text(
        "<html><body><h1>Trust chief quits</h1><article>"
        + "".join(
            f"<p>Paragraph {i}: the chief executive of Birmingham Children's Trust resigned today.</p>"
            for i in range(6)
        )
        + "</article></body></html>"
    )
    result = carewatch("--db", str(tmp_path / "none.db"), "inspect", str(page), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["text"].count("resigned today") == 6


def test_the_full_extractor_is_asked_when_the_fast_one_kept_too_little():
    from carewatch.pipelines.extract import needs_full_extraction

    assert needs_full_extraction(0, 5000, 0) == "nothing"
    assert needs_full_extraction(400, 5000, 300) == "little"  # of a long page
    assert needs_full_extraction(1200, 2000, 6000) == "part"  # an introduction of a long article's paragraphs
    assert needs_full_extraction(1200, 2000, 1500) is None  # most of the paragraphs
    assert needs_full_extraction(600, 1500, 700) is None  # a short page read whole
