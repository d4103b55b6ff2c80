"""Every verb of the `carewatch` command, as a user runs it: its --help, and one real run each on a
real archive (the demo, crawled from the demo site over loopback). The table REAL_RUNS must name
every command the click group has, so a new verb cannot arrive untested."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import click
import pytest

from carewatch.cli.main import cli
from carewatch.demo import pdfs
from carewatch.demo.mailsink import MailSink, free_port
from carewatch.demo.run import write_daemon_config
from tests.conftest import ROOT, carewatch


def leaf_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        out += leaf_commands(command, path) if isinstance(command, click.Group) else [path]
    return out


def groups(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            out += [(*prefix, name), *groups(command, (*prefix, name))]
    return out


@pytest.mark.parametrize("verb", leaf_commands() + groups(), ids=" ".join)
def test_every_verb_has_help(verb):
    result = carewatch(*verb, "--help")
    assert result.returncode == 0, result.stderr
    assert f"Usage: carewatch {' '.join(verb)}" in result.stdout and len(result.stdout) > 80


class Archive:
    """A demo archive (`carewatch demo`), the demo config pointed at the demo site and a mail sink."""

    def __init__(self, tmp: Path, proxy_url: str, sink: MailSink) -> None:
        self.tmp = tmp
        self.db = tmp / "demo.db"
        self.config = write_daemon_config(tmp, proxy_url, sink.port, free_port(), "every 1h")
        first = carewatch("--db", str(self.db), "demo", "--out", str(tmp / "mail"))
        assert first.returncode == 0, first.stderr
        self.demo_output = first.stdout
        rows = json.loads(self.run("search", "trust", "--json").stdout)
        self.article_id = rows[0]["article_id"]

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return carewatch("--config", str(self.config), "--db", str(self.db), *args, timeout=timeout)


@pytest.fixture(scope="module")
def archive(tmp_path_factory, demo_server):
    tmp = tmp_path_factory.mktemp("verbs")
    with MailSink(tmp / "sink") as sink:
        yield Archive(tmp, demo_server.proxy_url, sink)


def _demo(a: Archive) -> None:
    assert "Articles stored:" in a.demo_output and "Digests delivered:   2" in a.demo_output
    # The commands it prints can be pasted as they are (the executable as it was run, not a bare
    # `carewatch` that is not on the PATH of a fresh clone): the health line, run from where the demo ran.
    lines = dict(line.split(":", 1) for line in a.demo_output.splitlines() if line.startswith(("Browse", "Health")))
    browse, health = shlex.split(lines["Browse it"]), shlex.split(lines["Health"])
    assert browse[0] == health[0] != "carewatch" and browse[-1] == "serve"
    pasted = subprocess.run(health, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert pasted.returncode == 1 and "chamberlain-files" in pasted.stdout, pasted.stderr  # failing demo sources


def _crawl(a: Archive) -> None:
    result = a.run("crawl", "chamberlain-files")
    assert result.returncode == 0, result.stderr
    assert "1 source(s):" in result.stdout and "unchanged" in result.stdout


def _inspect(a: Archive) -> None:
    pdf = a.tmp / "report.pdf"
    pdf.write_bytes(pdfs.ofsted_ilacs_2023())
    result = a.run("inspect", str(pdf))
    assert result.returncode == 0, result.stderr
    assert "Inspection of Birmingham City Council" in result.stdout and "topic" in result.stdout


def _alerts_send(a: Archive) -> None:
    result = a.run("alerts", "send", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "alerts send printed nothing"


def _alerts_preview(a: Archive) -> None:
    out = a.tmp / "preview.html"
    result = a.run("alerts", "preview", "organisers", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Nothing new matches" in result.stdout or ("<html" in out.read_text().lower())
    unknown = a.run("alerts", "preview", "nobody")
    assert unknown.returncode == 2 and "organisers" in unknown.stderr


def _alerts_test(a: Archive) -> None:
    result = a.run("alerts", "test", "trust", "--days", "100000")
    assert result.returncode == 0, result.stderr
    assert "article(s) in the last 100000 days match trust" in result.stdout and "matched: trust" in result.stdout


def _alerts_feed(a: Archive) -> None:
    result = a.run("alerts", "feed", "organisers")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("<?xml") and "<feed" in result.stdout


def _alerts_feed_url(a: Archive) -> None:
    result = a.run("alerts", "feed-url", "organisers", "--public-url", "https://example.org/archive/")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"https://example\.org/archive/-/feeds/[A-Za-z0-9_-]{32}\.atom\n", result.stdout)
    feed = a.run("alerts", "feed", "organisers", "--public-url", "https://example.org/archive/")
    assert f'<link href="{result.stdout.strip()}" rel="self"' in feed.stdout  # the served address, not a urn:


def _alerts_list(a: Archive) -> None:
    result = a.run("alerts", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["status"] for r in rows} == {"sent"} and len(rows) == 2


def _dedup_explain(a: Archive) -> None:
    result = a.run("dedup", "explain", a.article_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{a.article_id}: ")


def _tag(a: Archive) -> None:
    result = a.run("tag", "--explain", a.article_id)
    assert result.returncode == 0, result.stderr
    assert "relevance: " in result.stdout
    retag = a.run("tag", "--retag", "--json")
    assert retag.returncode == 0, retag.stderr
    assert json.loads(retag.stdout)["articles"] >= 20


def _search(a: Archive) -> None:
    result = a.run("search", "trust")
    assert result.returncode == 0, result.stderr
    assert "http://" in result.stdout


def _status(a: Archive) -> None:
    result = a.run("status", "--json")
    assert result.returncode == 1, "the demo has failing sources: status exits 1"
    data = json.loads(result.stdout)
    assert "ok" in {s["state"] for s in data["sources"]} and {s["state"] for s in data["sources"]} & {
        "failing",
        "erroring",
    }


def _backup(a: Archive) -> None:
    result = a.run("backup", str(a.tmp / "backup.db"), "--json")
    assert result.returncode == 0, result.stderr
    assert (a.tmp / "backup.db").exists()


def _restore(a: Archive) -> None:
    if not (a.tmp / "backup.db").exists():
        _backup(a)
    target = a.tmp / "restored.db"
    result = carewatch("--config", str(a.config), "--db", str(target), "restore", str(a.tmp / "backup.db"), "--yes")
    assert result.returncode == 0, result.stderr
    assert "Restored" in result.stdout and target.exists()


def _reprocess(a: Archive) -> None:
    result = a.run("reprocess", "--source", "chamberlain-files")
    assert result.returncode == 0, result.stderr
    assert "Reprocessed" in result.stdout


def _evidence(a: Archive) -> None:
    out = a.tmp / "pack"
    result = a.run("evidence", a.article_id, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "manifest.json").exists()


def _config_check(a: Archive) -> None:
    result = a.run("config", "check")
    assert result.returncode == 0, result.stderr
    assert ": ok — " in result.stdout


def _wait_for(url: str, seconds: float = 30) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return urllib.request.urlopen(url, timeout=2).read()
        except urllib.error.HTTPError as e:  # 503 "needs attention" is an answer too
            return e.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _serve(a: Archive) -> None:
    port = free_port()
    exe = Path(sys.executable).with_name("carewatch")
    proc = subprocess.Popen(
        [str(exe), "--db", str(a.db), "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        rows = json.loads(_wait_for(f"http://127.0.0.1:{port}/demo/articles.json?_shape=array&_size=1"))
        assert len(rows) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _run(a: Archive) -> None:
    settings = (a.config / "settings.yaml").read_text()
    port = int(next(line.split(":")[1] for line in settings.splitlines() if line.startswith("health_port")))
    exe = Path(sys.executable).with_name("carewatch")
    proc = subprocess.Popen(
        [str(exe), "--config", str(a.config), "--db", str(a.db), "run"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    try:
        health = json.loads(_wait_for(f"http://127.0.0.1:{port}/health"))
        assert health["status"] == "needs attention" and health["problems"], (
            "status's verdict: the demo has failing sources"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0


def _add(a: Archive, email: str) -> dict:
    result = a.run("subscribers", "add", "--email", email, "--name", "Verb test", "--topic", "ofsted", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _subscribers_add(a: Archive) -> None:
    row = _add(a, "add@example.org")
    assert row["status"] == "active" and row["interests"] == ["topic: ofsted"]


def _awaiting_approval(a: Archive, sid: str) -> str:
    """A confirmed sign-up awaiting approval, as /subscribe leaves one under signup: approval."""
    from carewatch.store.db import open_db
    from carewatch.store.subscriptions import save_subscription

    db = open_db(a.db)
    stamp = "2026-12-01T10:00:00+00:00"
    row = {"subscriber": sid, "email": f"{sid}@example.org", "name": "Waiting", "status": "pending"}
    row.update({"managed_by": "web", "topics": '["ofsted"]', "created": stamp, "updated": stamp})
    save_subscription(db, {**row, "confirmed_at": stamp}, "confirmed", stamp, "192.0.2.1", None)
    db.close()
    return sid


def _subscribers_approve(a: Archive) -> None:
    result = a.run("subscribers", "approve", _awaiting_approval(a, "web-verbtest"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "active"


def _subscribers_export(a: Archive) -> None:
    row = _add(a, "export@example.org")
    result = a.run("subscribers", "export", row["subscriber"])
    assert result.returncode == 0, result.stderr
    (data,) = json.loads(result.stdout)
    assert data["subscription"]["email"] == "export@example.org" and data["history"][0]["event"]


def _subscribers_list(a: Archive) -> None:
    result = a.run("subscribers", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert {"organisers", "ofsted-watch"} <= {r["subscriber"] for r in json.loads(result.stdout)}


def _subscribers_remove(a: Archive) -> None:
    row = _add(a, "remove@example.org")
    result = a.run("subscribers", "remove", row["subscriber"])
    assert result.returncode == 0, result.stderr
    assert "remove@example.org" not in a.run("subscribers", "list").stdout


REAL_RUNS = {
    ("demo",): _demo,
    ("crawl",): _crawl,
    ("inspect",): _inspect,
    ("alerts", "send"): _alerts_send,
    ("alerts", "preview"): _alerts_preview,
    ("alerts", "test"): _alerts_test,
    ("alerts", "feed"): _alerts_feed,
    ("alerts", "feed-url"): _alerts_feed_url,
    ("alerts", "list"): _alerts_list,
    ("dedup", "explain"): _dedup_explain,
    ("tag",): _tag,
    ("search",): _search,
    ("status",): _status,
    ("backup",): _backup,
    ("restore",): _restore,
    ("reprocess",): _reprocess,
    ("evidence",): _evidence,
    ("config", "check"): _config_check,
    ("serve",): _serve,
    ("run",): _run,
    ("subscribers", "add"): _subscribers_add,
    ("subscribers", "approve"): _subscribers_approve,
    ("subscribers", "export"): _subscribers_export,
    ("subscribers", "list"): _subscribers_list,
    ("subscribers", "remove"): _subscribers_remove,
}


def test_every_verb_has_a_real_run():
    assert sorted(REAL_RUNS) == leaf_commands()


@pytest.mark.parametrize("verb", sorted(REAL_RUNS), ids=" ".join)
def test_a_real_run_of(verb, archive):
    REAL_RUNS[verb](archive)


# -- --json: every verb whose output is data, its nested values JSON values --------------------------
def _json_strings(value, path="$"):
    """Where a string holds JSON text of an array or object (JSON encoded inside JSON)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _json_strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _json_strings(v, f"{path}[{i}]")
    elif isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            if isinstance(json.loads(value), list | dict):
                yield f"{path} = {value[:80]}"
        except ValueError:
            pass


def _json_args(a: Archive) -> dict[tuple[str, ...], list[str]]:
    pdf = a.tmp / "report-json.pdf"
    pdf.write_bytes(pdfs.ofsted_ilacs_2023())
    if not (a.tmp / "backup.db").exists():
        _backup(a)
    return {
        ("demo",): ["--db", str(a.tmp / "json-demo.db"), "demo", "--out", str(a.tmp / "json-mail")],
        ("crawl",): ["crawl", "chamberlain-files"],
        ("inspect",): ["inspect", str(pdf)],
        ("alerts", "send"): ["alerts", "send", "--dry-run"],
        ("alerts", "test"): ["alerts", "test", "trust", "--days", "100000"],
        ("alerts", "list"): ["alerts", "list"],
        ("dedup", "explain"): ["dedup", "explain", a.article_id],
        ("tag",): ["tag", "--explain", a.article_id],
        ("search",): ["search", "trust"],
        ("status",): ["status"],
        ("backup",): ["backup", str(a.tmp / "json-backup.db")],
        ("restore",): ["--db", str(a.tmp / "json-restored.db"), "restore", str(a.tmp / "backup.db"), "--yes"],
        ("reprocess",): ["reprocess", "--source", "chamberlain-files"],
        ("evidence",): ["evidence", a.article_id, "--out", str(a.tmp / "json-pack")],
        ("config", "check"): ["config", "check"],
        ("subscribers", "add"): [
            "subscribers",
            "add",
            "--email",
            "json@example.org",
            "--name",
            "J",
            "--topic",
            "ofsted",
        ],
        ("subscribers", "approve"): ["subscribers", "approve", _awaiting_approval(a, "web-jsontest")],
        ("subscribers", "list"): ["subscribers", "list"],
    }


def _takes_json(verb: tuple[str, ...]) -> bool:
    command = cli
    for name in verb:
        command = command.commands[name]
    return any("--json" in p.opts for p in command.params)


def test_every_data_verb_takes_json():
    with_json = [v for v in leaf_commands() if _takes_json(v)]
    assert {("config", "check"), ("dedup", "explain"), ("restore",)} <= set(with_json)
    assert set(with_json) == {
        ("demo",), ("crawl",), ("inspect",), ("alerts", "send"), ("alerts", "test"), ("alerts", "list"),
        ("dedup", "explain"), ("tag",), ("search",), ("status",), ("backup",), ("restore",), ("reprocess",),
        ("evidence",), ("config", "check"), ("subscribers", "add"), ("subscribers", "approve"),
        ("subscribers", "list"),
    }  # fmt: skip


def test_json_output_nests_json_values(archive):
    runs = _json_args(archive)
    assert sorted(runs) == sorted(v for v in leaf_commands() if _takes_json(v))
    outputs = {}
    for verb, args in runs.items():
        result = archive.run(*args, "--json")
        assert result.returncode in (0, 1), (verb, result.stderr)  # status exits 1: the demo has failures
        data = json.loads(result.stdout)
        assert data not in ([], {}) or verb == ("alerts", "send"), verb  # (nothing due on a dry run)
        assert list(_json_strings(data)) == [], verb
        outputs[verb] = data
    # The two the issue saw: a digest's articles and why, a hit's topics, as JSON values.
    digest = outputs[("alerts", "list")][0]
    assert isinstance(digest["articles"], list) and isinstance(digest["why"], dict)
    assert set(digest["why"]) == set(digest["articles"]) and len(digest["articles"]) == digest["article_count"]
    assert all(isinstance(t["topic"], str) for hit in outputs[("search",)] for t in hit["topics"])
    assert outputs[("dedup", "explain")]["first"]["article_id"] == archive.article_id
    restored = outputs[("restore",)]
    assert restored["articles"] > 20 and Path(restored["restored"]) == archive.tmp / "json-restored.db"
    assert "chamberlain-files" in outputs[("config", "check")]["sources"]


def test_global_options_are_accepted_after_the_verb(archive):
    before = carewatch("--config", str(archive.config), "--db", str(archive.db), "status", "--json")
    after = carewatch("status", "--db", str(archive.db), "--config", str(archive.config), "--json")
    assert after.returncode == before.returncode == 1 and after.stderr == before.stderr
    assert json.loads(after.stdout) == json.loads(before.stdout)
    assert sum(s["articles"] for s in json.loads(after.stdout)["sources"]) > 20  # the demo archive, not a new one
    grouped = carewatch("alerts", "list", "--db", str(archive.db), "--config", str(archive.config), "--json")
    assert grouped.returncode == 0 and len(json.loads(grouped.stdout)) == 2
