"""Long work shows progress (issue 21): ``tag --retag`` (and ``reprocess``, ``crawl``) print progress
to standard error, never to standard output, so ``--json`` output still parses. Not on a terminal:
a plain line every ``progress_seconds`` with counts, share and time; on a terminal: a tqdm bar.

The archive is real: pages put through the real pipelines (pipelines.runner) and stored by
store.articles, as a crawl's StorePipeline does.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from carewatch.config import load_config
from carewatch.core.items import Article, utcnow_iso
from carewatch.pipelines.runner import run_stages
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from tests.conftest import ROOT, carewatch

ARTICLES = 60
LINE = re.compile(r"^re-tag: (\d+) of (\d+) articles \((\d+)%\), (\d\d:)?\d\d:\d\d elapsed")


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("progress")
    folder = tmp / "config"
    shutil.copytree(ROOT / "config", folder, ignore=shutil.ignore_patterns("*.py", "__pycache__", "datasette.yaml"))
    with (folder / "settings.yaml").open("a", encoding="utf-8") as f:
        f.write("\nprogress_seconds: 0.01\n")  # a line as often as there is news: every article, nearly
    config = load_config(folder)
    db_path = tmp / "archive.db"
    db = open_db(db_path)
    for i in range(ARTICLES):
        html = (
            f"<html><head><title>Report {i} on children's services</title></head><body><article>"
            f"<h1>Report {i} on children's services</h1>"
            + f"<p>Birmingham Children's Trust published report number {i} on foster care placements, "
            f"with {i * 7 % 97} families affected and a budget line {i * 13 % 89}.</p>" * 6 + "</article></body></html>"
        )
        article = Article(config.sources[0].id, f"https://example.org/news/{i}", utcnow_iso(), html=html)
        save_article(db, run_stages(article, config), config.settings)
    db.close()
    return folder, db_path


def test_retag_off_a_terminal_prints_plain_periodic_lines_and_json_still_parses(archive):
    folder, db_path = archive
    result = carewatch("--config", str(folder), "--db", str(db_path), "tag", "--retag", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["articles"] == ARTICLES  # standard output is the JSON alone
    assert "\r" not in result.stderr  # no bar drawn into a log
    lines = [m for m in map(LINE.match, result.stderr.splitlines()) if m]
    assert len(lines) >= 3, result.stderr  # periodic, not one line at the end
    done = [int(m[1]) for m in lines]
    assert done == sorted(done) and done[-1] == ARTICLES, done
    assert {int(m[2]) for m in lines} == {ARTICLES}
    assert int(lines[-1][3]) == 100
    assert all(LINE.match(line) for line in result.stderr.splitlines()), result.stderr  # nothing else


def test_retag_on_a_terminal_draws_a_bar(archive):
    folder, db_path = archive
    exe = Path(sys.executable).with_name("carewatch")
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # a 100-column terminal
    proc = subprocess.Popen(
        [str(exe), "--config", str(folder), "--db", str(db_path), "tag", "--retag", "--json"],
        stdout=subprocess.PIPE,
        stderr=secondary,
        stdin=subprocess.DEVNULL,
    )
    os.close(secondary)
    out, _ = proc.communicate(timeout=120)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    drawn = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0 and json.loads(out)["articles"] == ARTICLES
    assert "\r" in drawn and f"{ARTICLES}/{ARTICLES}" in drawn and "re-tag" in drawn, drawn
    assert not LINE.search(drawn)  # the bar, not the plain lines
