"""`carewatch run` as a real process against the demo site, with short schedules: sources fetched on
their schedules without overlapping, digests sent, SIGHUP reloading (and rejecting) config, SIGTERM
stopping cleanly; and kill -9 in the middle of a crawl, then a restart, losing and doubling nothing."""

import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from carewatch.demo.mailsink import MailSink, free_port
from carewatch.demo.run import demo_config, enable_sources, write_daemon_config
from carewatch.ops.crawl import run_crawl
from tests.daemon_process import start_daemon as _start
from tests.daemon_process import stop_daemon as _stop
from tests.daemon_process import wait_for as _wait

FAST = ["chamberlain-files", "community-care", "birmingham-council-news"]
LATER = "childrens-trust-news"


def _runs(db: Path) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return conn.execute("SELECT job, started, finished, status, detail FROM job_runs ORDER BY id").fetchall()
        except sqlite3.OperationalError:
            return []


def _finished(db: Path, job: str) -> list[tuple]:
    return [r for r in _runs(db) if r[0] == job and r[2]]


def _log(tmp: Path) -> list[dict]:
    path = tmp / "carewatch.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.timeout(360)
def test_daemon_runs_schedules_reloads_and_stops_cleanly(tmp_path, demo_server):
    with MailSink(tmp_path / "mail") as sink:
        health_port = free_port()
        cfg = write_daemon_config(tmp_path, demo_server.proxy_url, sink.port, health_port, "every 6s", FAST)
        db = tmp_path / "archive.db"
        proc = _start(cfg, db)
        try:
            # each source crawled at least twice, on its schedule
            _wait(lambda: all(len(_finished(db, f"crawl:{s}")) >= 2 for s in FAST), 120, "two crawls of each", proc)
            for s in FAST:
                # on its schedule: every 6 s on a fixed grid (a run delayed while both crawl slots were
                # busy is not followed by an extra one), so never more runs than the grid has slots
                starts = [datetime.fromisoformat(r[1]) for r in _finished(db, f"crawl:{s}")]
                span = (starts[-1] - starts[0]).total_seconds()
                assert len(starts) - 1 <= span / 6 + 1, (s, span, len(starts))
            # digests on their schedule (immediate subscriber): the organisers got one
            _wait(lambda: len(sink.messages) >= 1, 30, "a digest", proc)
            # the health endpoint answers
            with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/health", timeout=10) as r:
                health = json.loads(r.read())
            assert set(FAST) <= set(health["sources"]) and "crawl:chamberlain-files" in health["next_runs"]
            # SIGHUP with a changed config: a new source joins
            enable_sources(cfg, FAST + [LATER], "every 6s")
            proc.send_signal(signal.SIGHUP)
            _wait(lambda: _finished(db, f"crawl:{LATER}"), 60, "the source added by the reload", proc)
            # SIGHUP with a broken config: rejected, the old one keeps running
            good = (cfg / "sources.yaml").read_text()
            (cfg / "sources.yaml").write_text(good.replace("kind: feed", "kind: fead", 1))
            proc.send_signal(signal.SIGHUP)
            _wait(lambda: any(e["event"] == "config rejected" for e in _log(tmp_path)), 30, "the rejection", proc)
            rejected = next(e for e in _log(tmp_path) if e["event"] == "config rejected")
            assert "sources.yaml:" in rejected["error"] and "kind" in rejected["error"]
            before = len(_finished(db, "crawl:chamberlain-files"))
            _wait(lambda: len(_finished(db, "crawl:chamberlain-files")) > before, 90, "crawling on", proc)
        finally:
            out = _stop(proc)
        assert proc.returncode == 0, out
        events = [e["event"] for e in _log(tmp_path)]
        assert "daemon started" in events and events[-1] == "daemon stopped"
        assert {"fetch", "stored", "crawl", "delivery", "config reloaded"} <= set(events)
        # no overlap: each source's runs follow one another
        for s in FAST + [LATER]:
            runs = [r for r in _runs(db) if r[0] == f"crawl:{s}"]
            for a, b in zip(runs, runs[1:]):
                assert a[2] and a[2] <= b[1], (s, a, b)
            assert all(r[3] in ("ok", "stopped") for r in runs), (
                [r for r in runs if r[3] not in ("ok", "stopped")],
                out[-4000:],
            )
        # nothing lost or doubled: every article once, every digest delivered once
        with sqlite3.connect(db) as conn:
            keys = [r[0] for r in conn.execute("SELECT url_key FROM articles")]
            assert len(keys) == len(set(keys)) > 0
            assert {r[0] for r in conn.execute("SELECT status FROM deliveries")} == {"sent"}
            sent = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        assert len(sink.messages) == sent
        ids = [m["Message-ID"] for m in sink.messages]
        assert len(ids) == len(set(ids))


@pytest.mark.timeout(240)
def test_kill_9_mid_crawl_then_restart_loses_and_doubles_nothing(tmp_path, demo_server):
    # the reference: what one clean crawl of these sources stores
    reference = tmp_path / "reference.db"
    with MailSink(tmp_path / "mail0") as sink0:
        run_crawl(demo_config(demo_server.proxy_url, sink0.port).model_copy(), reference, FAST + [LATER])
    with sqlite3.connect(reference) as conn:
        expected = {r[0] for r in conn.execute("SELECT url_key FROM articles")}
    assert expected
    with MailSink(tmp_path / "mail") as sink:
        cfg = write_daemon_config(tmp_path, demo_server.proxy_url, sink.port, 0, "every 8s", FAST + [LATER])
        db = tmp_path / "archive.db"
        proc = _start(cfg, db)
        # wait until a crawl is under way and has stored something, then kill -9 the daemon
        children = _wait(lambda: _stored(db) > 0 and _children(proc.pid), 90, "a crawl in progress", proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        time.sleep(1.0)  # its crawl children die with it (PR_SET_PDEATHSIG)
        orphans = [pid for pid in children if _alive(pid)]
        partial = _stored(db)
        # restart: every source crawled again, then stop
        proc = _start(cfg, db)
        try:
            since = len(_runs(db))
            _wait(
                lambda: all(any(r[0] == f"crawl:{s}" and r[2] for r in _runs(db)[since:]) for s in FAST + [LATER]),
                120,
                "a crawl of every source after the restart",
                proc,
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
    with sqlite3.connect(db) as conn:
        keys = [r[0] for r in conn.execute("SELECT url_key FROM articles")]
        aliases = {r[0] for r in conn.execute("SELECT url_key FROM article_aliases")}
    assert len(keys) == len(set(keys)), "a duplicate row"
    assert expected <= set(keys) | aliases, f"lost: {expected - set(keys) - aliases}"
    assert partial <= len(keys)
    assert not orphans, f"crawl children outlived the daemon: {orphans}"


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that never comes in a container counts as dead)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    """The crawl processes the daemon has running now."""
    out = subprocess.run(
        ["pgrep", "-P", str(pid), "-f", "carewatch.ops.crawl_process"], capture_output=True, text=True
    ).stdout
    return [int(x) for x in out.split()]


def _stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.timeout(240)
def test_an_immediate_subscriber_is_sent_what_a_crawl_stored_without_waiting_for_the_digest_tick(tmp_path, demo_server):
    """The digest job's tick is an hour here; the demo's immediate subscriber must still get the
    articles a crawl stores as soon as the crawl ends (the daemon runs the digest job at once)."""
    with MailSink(tmp_path / "mail") as sink:
        cfg = write_daemon_config(tmp_path, demo_server.proxy_url, sink.port, free_port(), "every 1h", FAST[:1])
        settings = yaml.safe_load((cfg / "settings.yaml").read_text())
        settings["alerts_check_seconds"] = 3600
        (cfg / "settings.yaml").write_text(yaml.safe_dump(settings))
        db = tmp_path / "archive.db"
        proc = _start(cfg, db)
        try:
            _wait(lambda: _finished(db, "digests"), 60, "the first digest tick (nothing to send yet)", proc)
            crawl = _wait(lambda: _finished(db, f"crawl:{FAST[0]}"), 120, "the crawl", proc)
            _wait(lambda: sink.messages, 60, "the immediate digest after the crawl", proc)
            # the run that sent it is recorded as finished just after the mail is handed over
            digests = _wait(lambda: (d := _finished(db, "digests"))[1:] and d, 30, "the sending run's record", proc)
            assert len(digests) >= 2  # the tick at start, then the run the crawl asked for
            assert digests[-1][1] >= crawl[0][2]  # started after the crawl finished, not an hour later
        finally:
            _stop(proc)
