"""Operations that cannot lose data: a restore and a second daemon refuse while a daemon runs (a real
`carewatch run`); a complete backup (the database and its raw captures, incremental, pruned) restored
to a new path gives a working evidence pack; the verbs that read never create an archive."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from carewatch.demo.mailsink import MailSink, free_port
from carewatch.demo.run import demo_config, write_daemon_config
from carewatch.ops.crawl import run_crawl
from tests.conftest import DEMO_CONFIG, carewatch
from tests.daemon_process import start_daemon as _daemon
from tests.daemon_process import wait_for as _wait

SOURCES = ["chamberlain-files", "community-care"]


def _health(port: int) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:  # 503: still an answer
        return e.code, json.loads(e.read())
    except OSError:
        return None


def _articles(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


@pytest.mark.timeout(180)
def test_restore_and_a_second_daemon_refuse_while_a_daemon_runs(tmp_path, demo_server):
    with MailSink(tmp_path / "mail") as sink:
        port = free_port()
        cfg = write_daemon_config(tmp_path, demo_server.proxy_url, sink.port, port, "every 5s", SOURCES)
        db = tmp_path / "archive.db"
        run_crawl(demo_config(demo_server.proxy_url, sink.port), db, SOURCES[:1])
        backed = carewatch("--config", str(cfg), "--db", str(db), "backup", str(tmp_path / "backup.db"))
        assert backed.returncode == 0, backed.stderr
        proc = _daemon(cfg, db)
        try:
            _wait(lambda: _health(port), 60, "the health endpoint", proc)
            # a second daemon on the same archive: refused by the lock, before it binds the same port
            second = carewatch("--config", str(cfg), "--db", str(db), "run", timeout=60)
            assert second.returncode == 1, second.stdout + second.stderr
            assert f"another carewatch daemon (pid {proc.pid}) is running" in second.stderr, second.stderr
            assert "Errno" not in second.stderr and "Traceback" not in second.stderr
            # restore while the daemon runs: refused, nothing replaced or set aside
            before = _articles(db)
            restore = carewatch("--config", str(cfg), "--db", str(db), "restore", str(tmp_path / "backup.db"), "--yes")
            assert restore.returncode == 1, restore.stdout + restore.stderr
            assert f"another carewatch daemon (pid {proc.pid}) is running" in restore.stderr, restore.stderr
            assert "Restored" not in restore.stdout
            assert not list(tmp_path.glob("archive.db.before-restore*"))
            assert _articles(db) >= before
            # a daemon on another archive whose health port is taken: a sentence, not OSError
            other = carewatch("--config", str(cfg), "--db", str(tmp_path / "other.db"), "run", timeout=60)
            assert other.returncode == 1 and f"health_port {port}" in other.stderr, other.stderr
            assert "Traceback" not in other.stderr
            assert proc.poll() is None, "the running daemon is untouched"
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
    # stopped: the lock went with it, and the restore goes ahead
    restore = carewatch("--config", str(cfg), "--db", str(db), "restore", str(tmp_path / "backup.db"), "--yes")
    assert restore.returncode == 0, restore.stderr
    assert "Restored" in restore.stdout and (tmp_path / "archive.db.before-restore").exists()


@pytest.mark.timeout(240)
def test_a_backup_restored_to_a_new_path_gives_a_working_evidence_pack(tmp_path, demo_server, mail_sink):
    config = demo_config(demo_server.proxy_url, mail_sink.port)
    home = tmp_path / "server"
    db = home / "carewatch.db"
    home.mkdir()
    run_crawl(config, db, SOURCES[:1])
    backups = tmp_path / "backups"
    cfg = ("--config", str(DEMO_CONFIG), "--db", str(db))

    first = carewatch(*cfg, "backup", f"{backups}/", "--json")
    assert first.returncode == 0, first.stderr
    one = json.loads(first.stdout)
    assert one["captures"]["files"] > 0 and one["captures"]["copied"] == one["captures"]["files"]
    # more captures arrive; the next backup copies only those, linking the rest from the last one
    run_crawl(config, db, SOURCES[1:])
    time.sleep(1.1)  # a new dated name
    second = json.loads(carewatch(*cfg, "backup", str(backups), "--json").stdout)
    c = second["captures"]
    assert c["files"] > one["captures"]["files"] and c["linked"] == one["captures"]["files"]
    assert c["copied"] == c["files"] - c["linked"]
    time.sleep(1.1)
    third = carewatch(*cfg, "backup", str(backups), "--keep", "2", "--json")
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["pruned"] == [one["backup"]]
    assert sorted(p.name for p in backups.iterdir()) == sorted(
        n for b in (second, json.loads(third.stdout)) for n in (Path(b["backup"]).name, Path(b["backup"]).name + "-raw")
    )

    # the server is lost; the latest backup is restored to a new path on another machine
    shutil.rmtree(home)
    new = tmp_path / "elsewhere" / "restored.db"
    restored = carewatch(
        "--config", str(DEMO_CONFIG), "--db", str(new), "restore", json.loads(third.stdout)["backup"], "--yes"
    )
    assert restored.returncode == 0, restored.stderr
    assert (new.parent / "restored.db-raw").is_dir()
    with sqlite3.connect(new) as conn:
        ids = [r[0] for r in conn.execute("SELECT DISTINCT article_id FROM captures")]
    assert ids
    for article_id in ids[:3] + ids[-3:]:
        result = carewatch(
            "--config",
            str(DEMO_CONFIG),
            "--db",
            str(new),
            "evidence",
            article_id,
            "--out",
            str(tmp_path / article_id),
            "--json",
        )
        assert result.returncode == 0, result.stdout + result.stderr
        pack = json.loads(result.stdout)
        assert pack["captures"] >= 1 and pack["verified"] == pack["captures"], pack


READERS = [
    ("status",),
    ("search", "ofsted"),
    ("alerts", "list"),
    ("alerts", "test", "ofsted"),
    ("alerts", "preview", "organisers"),
    ("alerts", "feed", "organisers"),
    ("alerts", "send", "--dry-run"),
    ("evidence", "abc123"),
    ("serve", "--port", "0"),
    ("dedup", "explain", "abc123"),
    ("tag", "--explain", "abc123"),
    ("tag", "--retag"),
    ("reprocess",),
    ("backup", "somewhere.db"),
]


def _files(folder: Path) -> set[str]:
    return {os.fspath(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("verb", READERS, ids=" ".join)
def test_verbs_that_read_never_create_an_archive(tmp_path, verb):
    cfg = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, cfg)
    settings = yaml.safe_load((cfg / "settings.yaml").read_text())
    settings["database"] = "carewatch.db"
    (cfg / "settings.yaml").write_text(yaml.safe_dump(settings))
    exe = Path(sys.executable).with_name("carewatch")
    before = _files(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "CAREWATCH_DB"}
    # --db a path that does not exist (in a folder that does not either), then no --db at all
    # (settings.yaml's, relative to where carewatch runs), then $CAREWATCH_DB
    for args, extra, where in (
        (["--db", str(tmp_path / "nowhere" / "nonexist.db")], {}, "given with --db"),
        ([], {}, "settings.yaml"),
        ([], {"CAREWATCH_DB": str(tmp_path / "env.db")}, "$CAREWATCH_DB"),
    ):
        result = subprocess.run(
            [str(exe), "--config", str(cfg), *args, *verb],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, **extra},
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert "no archive at " in result.stderr and where in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert _files(tmp_path) == before, f"{verb} {args} created {_files(tmp_path) - before}"


FAILING = "birmingham-council-news"


def _status_json(cfg: Path, db: Path) -> tuple[int, dict]:
    result = carewatch("--config", str(cfg), "--db", str(db), "status", "--json")
    return result.returncode, json.loads(result.stdout)


def _crawl_runs(db: Path, source: str) -> list[tuple[str, str | None]]:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(
            "SELECT started, finished FROM job_runs WHERE job = ? ORDER BY id", [f"crawl:{source}"]
        ).fetchall()


@pytest.mark.timeout(400)
def test_health_and_status_give_one_verdict_the_daemon_keeps_to_next_try_and_metrics_parse(tmp_path, demo_server):
    from prometheus_client import CONTENT_TYPE_LATEST
    from prometheus_client.parser import text_string_to_metric_families

    with MailSink(tmp_path / "mail") as sink:
        port = free_port()
        cfg = write_daemon_config(tmp_path, demo_server.proxy_url, sink.port, port, "every 25s", [SOURCES[0], FAILING])
        sources = yaml.safe_load((cfg / "sources.yaml").read_text())
        broken = next(s for s in sources["sources"] if s["id"] == FAILING)
        broken["url"] = broken["url"].rstrip("/") + "/no-such-page"  # the demo site answers 404
        (cfg / "sources.yaml").write_text(yaml.safe_dump(sources, sort_keys=False))
        settings = yaml.safe_load((cfg / "settings.yaml").read_text())
        (cfg / "settings.yaml").write_text(yaml.safe_dump({**settings, "failing_after": 1}))
        db = tmp_path / "archive.db"
        proc = _daemon(cfg, db)
        try:
            _wait(lambda: _health(port), 60, "the health endpoint", proc)
            # the backoff starts from the source's own 25 s: the second failure waits 50 s, off its grid
            _wait(lambda: len([r for r in _crawl_runs(db, FAILING) if r[1]]) >= 2, 150, "two failed crawls", proc)
            for _ in range(10):  # a reading of both between two crawls of the failing source
                runs = _crawl_runs(db, FAILING)
                code, health = _health(port)
                rc, status = _status_json(cfg, db)
                if _crawl_runs(db, FAILING) == runs and all(r[1] for r in runs):
                    break
                time.sleep(0.5)
            else:
                raise AssertionError("no quiet moment between crawls to compare /health and status")
            # one verdict: the failing source makes both say so, with the same problems
            assert (code, rc) == (503, 1), (health, status)
            assert health["problems"] == status["problems"] and status["healthy"] is False
            assert len(status["problems"]) == 1 and FAILING in status["problems"][0]
            # status's next try is the time the daemon has scheduled
            failing = next(s for s in status["sources"] if s["source_id"] == FAILING)
            assert failing["state"] == "failing" and failing["next_retry"]
            assert health["next_runs"][f"crawl:{FAILING}"] == failing["next_retry"], (health["next_runs"], failing)
            # and keeps to it: the next crawl starts then, not on the 25 s grid
            next_try = datetime.fromisoformat(failing["next_retry"])
            _wait(lambda: len(_crawl_runs(db, FAILING)) > len(runs), 120, "the retry", proc)
            started = datetime.fromisoformat(_crawl_runs(db, FAILING)[len(runs)][0])
            assert next_try - timedelta(seconds=1) <= started <= next_try + timedelta(seconds=5), (next_try, started)

            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                kind, text = r.headers["Content-Type"], r.read().decode()
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
    assert kind == CONTENT_TYPE_LATEST and kind.startswith("text/plain; version="), kind
    families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(name: str, **labels: str) -> float:
        return sum(
            s.value
            for s in families[name].samples
            if s.name.startswith(name) and labels.items() <= s.labels.items() and not s.name.endswith("_created")
        )

    assert families["carewatch_fetches"].type == "counter"
    assert value("carewatch_fetches", source=FAILING, role="index", status="error") >= 2
    assert value("carewatch_fetch_failures", source=FAILING) >= 2
    assert value("carewatch_fetches", source=SOURCES[0], status="ok") >= 1
    assert value("carewatch_articles_stored", source=SOURCES[0]) >= 1
    assert value("carewatch_crawls", source=FAILING, status="error") >= 2
    assert value("carewatch_healthy") == 0
    assert value("carewatch_source_consecutive_failures", source=FAILING) >= 2
    assert value("carewatch_source_state", source=FAILING, state="failing") == 1
    assert value("carewatch_source_articles", source=SOURCES[0]) >= 1
    assert value("carewatch_deliveries", status="sent") >= 1
    assert "carewatch_outbox_oldest_age_seconds" in families and value("carewatch_database_bytes") > 0
