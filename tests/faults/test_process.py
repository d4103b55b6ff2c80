"""Process faults against real processes and real SQLite files: kill -9 of a crawl child and of the
daemon mid-crawl, kill -9 at named points of the write path and of digest sending, a full disk
under a crawl, and Datasette reading while a crawl writes.

Each fault is measured (lost items, duplicates, integrity, the failure recorded where an operator
sees it), recorded in the fault ledger, then asserted. What "complete" means comes from a clean
reference crawl of the same sources on the same demo site.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from carewatch.config import load_config
from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import demo_config, write_daemon_config
from carewatch.ops.crawl import run_crawl
from carewatch.store.db import open_db
from tests.conftest import ROOT, carewatch
from tests.faults.ledger import records
from tests.test_archive import Served
from tests.test_daemon import _alive, _children, _runs, _start, _stop
from tests.test_digests import _archive

pytestmark = pytest.mark.faults
GROUP = "Process"

# Sources of the demo site that crawl cleanly (no failing feed or page), 40 articles and 2 copies.
SOURCES = [
    "childrens-trust-news",
    "birmingham-council-news",
    "birmingham-unison",
    "birmingham-live",
    "bbc-birmingham",
    "birmingham-post",
    "community-care",
    "chamberlain-files",
    "guardian-children",
    "cypnow-news",
]
DAEMON_SOURCES = ["birmingham-unison", "birmingham-live", "bbc-birmingham", "birmingham-post"]  # 3 to 10 articles
# each, so a kill can land between two of them


# -- measuring an archive -------------------------------------------------------------------------
def audit(db: Path) -> dict:
    """What is in the archive, and whether it is whole: SQLite's integrity check, the full-text
    index (FTS5's own integrity check, one index entry per article), and no half-written article
    (each has its story, its topic and entity rows, its LSH bands and its capture)."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        keys = [r[0] for r in conn.execute("SELECT url_key FROM articles")]
        alias_rows = conn.execute("SELECT url_key, source_id FROM article_aliases").fetchall()
        by_source = Counter(r[0] for r in conn.execute("SELECT source_id FROM articles")) + Counter(
            s for _, s in alias_rows
        )
        half = conn.execute(
            "SELECT article_id FROM articles a WHERE story_id IS NULL "
            "OR (SELECT count(*) FROM article_topics t WHERE t.article_id = a.article_id) "
            "!= json_array_length(a.topics) "
            "OR (SELECT count(*) FROM article_entities e WHERE e.article_id = a.article_id) "
            "!= json_array_length(a.entities) "
            "OR (a.minhash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lsh_bands b WHERE b.article_id = a.article_id)) "
            "OR NOT EXISTS (SELECT 1 FROM captures c WHERE c.article_id = a.article_id)"
        ).fetchall()
        try:
            conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
            conn.commit()
            fts_ok = True
        except sqlite3.DatabaseError:
            fts_ok = False
        return {
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
            "articles": len(keys),
            "distinct": len(set(keys)),
            "aliases": len(alias_rows),
            "both": len(set(keys) & {k for k, _ in alias_rows}),
            "fts_docs": conn.execute("SELECT count(*) FROM articles_fts_docsize").fetchone()[0],
            "fts_ok": fts_ok,
            "half_written": [r[0] for r in half],
            "keys": set(keys) | {k for k, _ in alias_rows},
            "by_source": dict(by_source),
        }
    finally:
        conn.close()


def whole(a: dict) -> bool:
    return a["integrity"] == "ok" and a["fts_ok"] and a["fts_docs"] == a["articles"] and not a["half_written"]


def duplicates(a: dict, want: set[str]) -> int:
    """Rows that should not be there: one URL stored twice, stored both as article and as copy, or
    stored under a key the clean crawl never made (one article twice, under two URLs)."""
    return a["articles"] - a["distinct"] + a["both"] + len(a["keys"] - want)


def keys_of(reference: dict, sources: list[str]) -> set[str]:
    return {k for k, s in reference["key_source"].items() if s in sources}


# -- running crawls -------------------------------------------------------------------------------
def crawl_config(folder: Path, proxy_url: str, sources: list[str], **settings) -> Path:
    """A config folder for the demo site with SOURCES enabled and SETTINGS over the demo's."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = write_daemon_config(folder, proxy_url, 2525, 0, "every 5s", sources)
    data = yaml.safe_load((cfg / "settings.yaml").read_text())
    data.update(settings)
    (cfg / "settings.yaml").write_text(yaml.safe_dump(data))
    return cfg


def crawl_cli(cfg: Path, db: Path, crash: str = "", timeout: float = 120) -> tuple[subprocess.CompletedProcess, dict]:
    """The real `carewatch crawl --json` (the crawl child inherits CAREWATCH_CRASH_AT)."""
    result = carewatch(
        "--config", str(cfg), "--db", str(db), "crawl", "--json", env={"CAREWATCH_CRASH_AT": crash}, timeout=timeout
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = {}
    return result, report


@pytest.fixture(scope="module")
def reference(demo_server, tmp_path_factory) -> dict:
    """What one clean crawl of SOURCES stores."""
    db = tmp_path_factory.mktemp("reference") / "reference.db"
    report = run_crawl(demo_config(demo_server.proxy_url, 2525), db, SOURCES)
    assert report.ok, report.errors
    assert not report.counts.get("unchanged") and not report.counts.get("updated"), report.counts
    a = audit(db)
    assert whole(a) and a["articles"] == a["distinct"] >= 30 and not a["both"], a
    conn = sqlite3.connect(db)
    a["key_source"] = dict(
        conn.execute(
            "SELECT url_key, source_id FROM articles UNION ALL SELECT url_key, source_id FROM article_aliases"
        ).fetchall()
    )
    conn.close()
    return a


def _child_source(pid: int) -> str | None:
    """The source a running crawl child is crawling (from its job file)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return json.loads(Path(args[args.index(b"carewatch.ops.crawl_process") + 1].decode()).read_text())["sources"][0]
    except (OSError, ValueError, IndexError, KeyError):
        return None


def _stored_by_source(db: Path) -> Counter:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return Counter(
                r[0]
                for r in conn.execute("SELECT source_id FROM articles UNION ALL SELECT source_id FROM article_aliases")
            )
    except sqlite3.OperationalError:
        return Counter()


def _mid_crawl(
    daemon: subprocess.Popen, db: Path, expected: dict, before: Counter | None = None, timeout: float = 60
) -> tuple[int, str, int]:
    """Wait until one of the daemon's crawl children has stored some of its source's articles (more
    than ``before``) but not all: (pid, source, stored so far)."""
    before = before or Counter()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise AssertionError(f"the daemon exited ({daemon.returncode}): {daemon.stdout.read()}")
        kids = _children(daemon.pid)
        if kids:
            stored = _stored_by_source(db)
            for pid in kids:
                sid = _child_source(pid)
                if sid and before[sid] < stored[sid] < expected[sid]:
                    return pid, sid, stored[sid]
        time.sleep(0.02)
    raise AssertionError("no crawl child was caught mid-crawl")


def _until(predicate, timeout: float, proc: subprocess.Popen | None = None):
    """PREDICATE's first true value within TIMEOUT seconds, else its last (false) one."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline or (proc is not None and proc.poll() is not None):
            return value
        time.sleep(0.2)


def _alert_duplicates(sink: MailSink, db: Path) -> tuple[int, int]:
    """(duplicate alerts, same-Message-ID copies): an article reaching one recipient in two
    different messages is a duplicate; a second copy of one message (same Message-ID, the
    documented crash window) is collapsed by mail clients and only counted apart."""
    with sqlite3.connect(db, timeout=30) as conn:
        articles = {mid: json.loads(a) for mid, a in conn.execute("SELECT message_id, articles FROM deliveries")}
    seen: dict[tuple[str, str], set[str]] = {}
    ids = Counter()
    for msg, (_, rcpts) in zip(sink.messages, sink.envelopes):
        ids[msg["Message-ID"]] += 1
        for rcpt in rcpts:
            for aid in articles.get(msg["Message-ID"], []):
                seen.setdefault((rcpt, aid), set()).add(msg["Message-ID"])
    return sum(len(v) - 1 for v in seen.values()), sum(n - 1 for n in ids.values())


# -- 1. kill -9 of a crawl child and of the daemon, mid-crawl -------------------------------------
@pytest.mark.timeout(240)
@records(GROUP, "kill -9 of a crawl child mid-crawl (the daemon goes on)", "kill -9 of the daemon mid-crawl, restart")
def test_kill_9_of_the_daemon_and_of_a_crawl_child_mid_crawl(tmp_path, demo_server, reference, fault_ledger):
    expected = {s: n for s, n in reference["by_source"].items() if s in DAEMON_SOURCES}
    want = keys_of(reference, DAEMON_SOURCES)
    db = tmp_path / "archive.db"
    with MailSink(tmp_path / "mail") as sink:
        # Polite settings (a request every ~0.2 s per site) so a crawl takes long enough to be caught in the middle.
        cfg = write_daemon_config(tmp_path, demo_server.proxy_url, sink.port, 0, "every 5s", DAEMON_SOURCES)
        data = yaml.safe_load((cfg / "settings.yaml").read_text())
        data.update(download_delay=0.2, concurrent_requests_per_domain=1, revisit_days=0)
        (cfg / "settings.yaml").write_text(yaml.safe_dump(data))

        # The daemon itself, killed while one of its crawls is half done.
        daemon = _start(cfg, db)
        try:
            _, daemon_victim, daemon_partial = _mid_crawl(daemon, db, expected)
            children = _children(daemon.pid)
            os.kill(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=10)
        finally:
            if daemon.poll() is None:
                daemon.kill()
        time.sleep(1.0)  # its crawl children die with it (PR_SET_PDEATHSIG)
        orphans = [pid for pid in children if _alive(pid)]
        left_running = [r for r in _runs(db) if r[3] == "running"]
        baseline = _stored_by_source(db)

        # Restarted; then one crawl child killed under it, the daemon going on.
        restarted_at = time.time()
        daemon = _start(cfg, db)
        try:
            interrupted = _until(lambda: [r for r in _runs(db) if r[3] == "interrupted"], 30, daemon)
            child, child_victim, child_partial = _mid_crawl(daemon, db, expected, baseline)
            killed_at = time.time()
            os.kill(child, signal.SIGKILL)
            failed = _until(
                lambda: [
                    r
                    for r in _runs(db)
                    if r[0] == f"crawl:{child_victim}"
                    and r[2]
                    and r[3] != "running"
                    and _epoch(r[1]) >= int(restarted_at)
                ],
                30,
                daemon,
            )
            daemon_alive = daemon.poll() is None
            # every source crawled completely since the restart, the killed one after its kill
            completed = _until(
                lambda: all(
                    any(
                        r[0] == f"crawl:{s}"
                        and r[2]
                        and r[3] == "ok"
                        and _epoch(r[1]) >= int(killed_at if s == child_victim else restarted_at)
                        for r in _runs(db)
                    )
                    for s in DAEMON_SOURCES
                ),
                150,
                daemon,
            )
        finally:
            out = _stop(daemon)
        status = carewatch("--config", str(cfg), "--db", str(db), "status")  # the daemon is stopped
        after = audit(db)
        again = run_crawl(demo_config(demo_server.proxy_url, sink.port), db, DAEMON_SOURCES)  # adds nothing
        alert_dups, same_id = _alert_duplicates(sink, db)

    final = audit(db)
    child_keys = keys_of(reference, [child_victim])
    lost_child = len(child_keys - after["keys"])
    lost_rest = len((want - child_keys) - after["keys"])
    extra = {s: max(0, after["by_source"].get(s, 0) - n) for s, n in expected.items()}  # rows beyond the clean crawl's
    dups_child = extra[child_victim]
    dups = max(0, duplicates(after, want) - dups_child) + sum(
        again.counts.get(k, 0) for k in ("new", "updated", "alias")
    )
    told = bool(failed) and failed[-1][3] == "error" and "crawl process exited with code -9 (killed)" in failed[-1][4]
    fault_ledger.record(
        GROUP,
        "kill -9 of a crawl child mid-crawl (the daemon goes on)",
        tried=1,
        survived=daemon_alive and completed and daemon.returncode == 0 and whole(after),
        lost=lost_child,
        duplicates=dups_child,
        recorded=told,
        note=f"{child_victim}: killed after {child_partial}/{expected[child_victim]} stored; "
        f"job_runs: {failed[-1][4] if failed else None!r}",
    )
    fault_ledger.record(
        GROUP,
        "kill -9 of the daemon mid-crawl, restart",
        tried=1,
        survived=not orphans and completed and whole(after) and daemon.returncode == 0,
        lost=lost_rest,
        duplicates=dups + alert_dups,
        recorded=bool(left_running)
        and {r[0] for r in left_running} <= {r[0] for r in interrupted}
        and "running now" not in status.stdout,
        note=f"{daemon_victim}: killed after {daemon_partial}/{expected[daemon_victim]} stored; the run left "
        f"'running' is shown 'interrupted' after the restart; {same_id} same-Message-ID digest copies",
    )

    assert daemon_partial < expected[daemon_victim] and child_partial < expected[child_victim]
    assert not orphans, f"crawl children outlived the daemon: {orphans}"
    assert left_running and {r[0] for r in left_running} <= {r[0] for r in interrupted}
    assert all("killed or crashed" in r[4] for r in interrupted)
    assert daemon_alive and completed and daemon.returncode == 0, out[-3000:]
    assert told, failed
    assert whole(after) and whole(final), after
    assert after["keys"] >= want, f"lost: {want - after['keys']}"
    assert after["articles"] + after["aliases"] == len(want)
    assert dups == 0 and dups_child == 0 and alert_dups == 0, (after, again.counts)
    assert "Daemon runs:" in status.stdout and "running now" not in status.stdout, status.stdout  # none stuck 'running'


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


# -- 2. kill -9 at named points of the write path -------------------------------------------------
CRASH_POINTS = [  # (CAREWATCH_CRASH_AT, the ledger's name, items stored when it dies)
    ("mid-pipeline@4", "kill -9 in the pipeline (extracted, tagged, not yet stored)", 3),
    ("mid-article-write@4", "kill -9 inside the article's write transaction", 3),
    ("after-article-commit@4", "kill -9 after an article's commit, before the next item", 4),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("crash, fault, stored", CRASH_POINTS, ids=[c[0] for c in CRASH_POINTS])
@records(GROUP, lambda kw: kw["fault"])
def test_kill_9_in_the_write_path_then_rerun(tmp_path, demo_server, reference, fault_ledger, crash, fault, stored):
    cfg = crawl_config(tmp_path, demo_server.proxy_url, SOURCES)
    db = tmp_path / "archive.db"
    killed, report = crawl_cli(cfg, db, crash)
    at_crash = audit(db)
    rerun = run_crawl(load_config(cfg), db)  # the same crawl again (its child process), no crash point
    after = audit(db)
    again = run_crawl(load_config(cfg), db)
    added = sum(again.counts.get(k, 0) for k in ("new", "updated", "alias"))
    lost = len(reference["keys"] - after["keys"])
    rows_at_crash = at_crash["articles"] + (0 if crash.startswith("mid-article-write") else at_crash["aliases"])
    fault_ledger.record(
        GROUP,
        fault,
        tried=1,
        survived=whole(at_crash) and whole(after) and rerun.ok and rows_at_crash == stored,
        lost=lost,
        duplicates=duplicates(after, reference["keys"]) + added,
        recorded=killed.returncode == 1 and report.get("returncode") == -signal.SIGKILL,
        note=f"{crash}: {at_crash['articles']} articles at the crash, {after['articles']} after the rerun",
    )

    assert killed.returncode == 1 and report["returncode"] == -signal.SIGKILL, (killed.stdout, killed.stderr[-2000:])
    assert whole(at_crash), at_crash  # the transaction in flight left nothing half-written
    assert rows_at_crash == stored, at_crash  # what was committed before it stayed; the item in flight did not
    assert rerun.ok, rerun
    assert whole(after) and after["keys"] == reference["keys"], reference["keys"] ^ after["keys"]
    assert duplicates(after, reference["keys"]) == 0 and added == 0, again.counts


# -- 2b. kill -9 between storing an article and matching it, while the rules change ----------------
def _alerts_yaml(cfg: Path, subscribers: list[dict]) -> None:
    (cfg / "alerts.yaml").write_text(yaml.safe_dump({"subscribers": subscribers}, sort_keys=False))


def _expected_matches(db_path: Path, config) -> dict[tuple[str, str], list[str]]:
    """(subscriber, article_id) -> rules, as the archive's FTS5 search finds them (one query per
    rule, alerts.match.rule_query), for the read articles each subscriber takes (relevant ones
    unless it takes all, from its sources): what the matcher must have recorded, once each."""
    from carewatch.alerts.match import rule_query
    from carewatch.store.alerting import rule_rowids

    db = open_db(db_path)
    try:
        facts = {r[0]: r[1:] for r in db.execute("SELECT rowid, article_id, source_id, relevant FROM articles")}
        want: dict[tuple[str, str], list[str]] = {}
        for sub in config.alerts.subscribers:
            for rule in sub.all_rules():
                query = rule_query(rule)
                assert query is not None, rule
                for rowid in rule_rowids(db, query, 0, 1 << 62):
                    aid, source, relevant = facts[rowid]
                    if (sub.sources and source not in sub.sources) or not (relevant or sub.include_irrelevant):
                        continue
                    rules = want.setdefault((sub.id, aid), [])
                    if rule not in rules:
                        rules.append(rule)
        return want
    finally:
        db.close()


@pytest.mark.timeout(300)
@records(GROUP, "kill -9 between storing an article and matching it, rules changed before the rerun")
def test_kill_9_between_store_and_match_while_rules_change(tmp_path, demo_server, fault_ledger):
    """Articles are matched in their own write transaction (alerts.match.StoreTimeMatcher): a kill
    at ``before-article-match`` (stored, not yet matched) loses the article and its matches
    together. The rules then change (one subscriber's rules, one subscriber new), the crawl is
    killed there again, and run to the end; one catch-up (match_new) later, every match the FTS5
    search finds is recorded exactly once, and none other."""
    from carewatch.alerts.match import match_new

    cfg = crawl_config(tmp_path, demo_server.proxy_url, SOURCES, alert_max_age_days=100000)
    db = tmp_path / "archive.db"
    first = [
        {"id": "steady", "name": "Steady", "email": "s@example.org", "rules": ["children AND (budget OR funding)"]},
        {"id": "changing", "name": "Changing", "email": "c@example.org", "rules": ['"social workers"', "ofsted*"]},
        {"id": "everything", "name": "All", "email": "a@example.org", "rules": ["council"], "include_irrelevant": True},
    ]
    _alerts_yaml(cfg, first)
    empty = open_db(db)
    match_new(empty, load_config(cfg))  # cursors at the empty archive's end: matched at store time from now on
    empty.close()
    killed, _ = crawl_cli(cfg, db, "before-article-match@4")
    at_crash = audit(db)
    want_at_crash = _expected_matches(db, load_config(cfg))
    with sqlite3.connect(db) as conn:
        got_at_crash = {
            (s, a): json.loads(r) for s, a, r in conn.execute("SELECT subscriber, article_id, rules FROM alert_matches")
        }

    second = [
        first[0],
        {"id": "changing", "name": "Changing", "email": "c@example.org", "rules": ["ofsted NEAR/10 inspection"]},
        first[2],
        {"id": "newcomer", "name": "New", "email": "n@example.org", "rules": ["trust", "topic:funding"]},
    ]
    _alerts_yaml(cfg, second)
    killed_again, _ = crawl_cli(cfg, db, "before-article-match@3")
    rerun = run_crawl(load_config(cfg), db)
    config = load_config(cfg)
    conn_db = open_db(db)
    match_new(conn_db, config)
    again = match_new(conn_db, config)  # nothing left to match: nothing matched twice
    conn_db.close()
    want = _expected_matches(db, config)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT subscriber, article_id, rules FROM alert_matches").fetchall()
    got = {(s, a): json.loads(r) for s, a, r in rows}
    doubled = [k for k, r in got.items() if len(r) != len(set(r))]
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    wrong_rules = sorted(k for k in set(want) & set(got) if sorted(want[k]) != sorted(got[k]))
    fault_ledger.record(
        GROUP,
        "kill -9 between storing an article and matching it, rules changed before the rerun",
        tried=2,
        survived=whole(at_crash) and rerun.ok and not (missing or extra or wrong_rules or doubled),
        lost=len(missing),
        duplicates=len(doubled) + len(rows) - len(set(got)),
        recorded=killed.returncode == 1 and killed_again.returncode == 1,
        note=f"{len(want)} matches expected, {len(got)} recorded; {at_crash['articles']} articles at the first kill",
    )
    assert killed.returncode == 1 and killed_again.returncode == 1, (killed.stderr[-1500:], killed_again.stderr[-1500:])
    assert whole(at_crash) and at_crash["articles"] == 3, at_crash  # the fourth died with its matches, in one
    assert want_at_crash and got_at_crash == want_at_crash  # the three stored were matched in their own transactions
    assert rerun.ok, rerun
    assert not missing and not extra and not wrong_rules and not doubled, (missing, extra, wrong_rules, doubled)
    assert {s for s, _ in got} == {"steady", "changing", "everything", "newcomer"}
    assert again == 0
    assert all(r == ["ofsted NEAR/10 inspection"] for (s, _), r in got.items() if s == "changing")


# -- 3. kill -9 while digests are sent --------------------------------------------------------------
DIGEST_SUBSCRIBERS = (
    "subscribers:\n"
    "  - {id: first, name: First, email: first@example.org, frequency: immediate, topics: [funding]}\n"
    "  - {id: second, name: Second, email: second@example.org, frequency: immediate, topics: [ofsted]}\n"
    "  - {id: third, name: Third, email: third@example.org, frequency: immediate, topics: [funding, ofsted]}\n"
)


@pytest.fixture(scope="module")
def digest_archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("digests") / "template.db"
    _archive(path)
    return path


def _digest_setup(tmp: Path, template: Path, port: int) -> tuple[Path, Path]:
    cfg = tmp / "config"
    cfg.mkdir()
    (cfg / "sources.yaml").write_text((ROOT / "config" / "sources.yaml").read_text())
    (cfg / "settings.yaml").write_text(
        f"alert_max_age_days: 100000\nsmtp:\n  host: 127.0.0.1\n  port: {port}\n  timeout: 5\n"
    )
    (cfg / "alerts.yaml").write_text(DIGEST_SUBSCRIBERS)
    db = tmp / "a.db"
    shutil.copy(template, db)
    return cfg, db


def _send(cfg: Path, db: Path, crash: str = "") -> subprocess.CompletedProcess:
    return carewatch("--config", str(cfg), "--db", str(db), "alerts", "send", env={"CAREWATCH_CRASH_AT": crash})


def _delivered(sink: MailSink, db: Path) -> tuple[Counter, Counter]:
    """(rcpt, article) -> number of distinct Message-IDs it came in; Message-ID -> copies received."""
    with sqlite3.connect(db) as conn:
        articles = {mid: json.loads(a) for mid, a in conn.execute("SELECT message_id, articles FROM deliveries")}
    ids: Counter = Counter(m["Message-ID"] for m in sink.messages)
    pairs: dict[tuple[str, str], set[str]] = {}
    for msg, (_, rcpts) in zip(sink.messages, sink.envelopes):
        for rcpt in rcpts:
            for aid in articles[msg["Message-ID"]]:
                pairs.setdefault((rcpt, aid), set()).add(msg["Message-ID"])
    return Counter({p: len(v) for p, v in pairs.items()}), ids


@pytest.fixture(scope="module")
def digest_reference(digest_archive, tmp_path_factory) -> set:
    """Which article reaches which recipient, from one clean send."""
    tmp = tmp_path_factory.mktemp("digest-ref")
    with MailSink() as sink:
        cfg, db = _digest_setup(tmp, digest_archive, sink.port)
        assert _send(cfg, db).returncode == 0
        pairs, ids = _delivered(sink, db)
    assert len(ids) == 3 and set(pairs.values()) == {1}
    return set(pairs)


DIGEST_CRASHES = [  # (crash point, ledger fault)
    ("after-queue@1", "kill -9 after a digest is queued, before it is sent"),
    ("after-queue@2", "kill -9 after a digest is queued, before it is sent"),
    ("after-send@1", "kill -9 between SMTP 250 and marking the digest sent"),
    ("after-send@2", "kill -9 between SMTP 250 and marking the digest sent"),
]


@pytest.mark.parametrize("crash, fault", DIGEST_CRASHES, ids=[c[0] for c in DIGEST_CRASHES])
@records(GROUP, lambda kw: kw["fault"])
def test_kill_9_while_sending_digests(tmp_path, digest_archive, digest_reference, fault_ledger, crash, fault):
    nth = int(crash.split("@")[1])
    with MailSink(tmp_path / "mail") as sink:
        cfg, db = _digest_setup(tmp_path, digest_archive, sink.port)
        killed = _send(cfg, db, crash)
        before_restart = len(sink.messages)
        status = carewatch("--config", str(cfg), "--db", str(db), "status", "--json")
        outbox = json.loads(status.stdout)["outbox"] if status.stdout.strip() else []
        restarted = _send(cfg, db)
        third = _send(cfg, db)
        pairs, ids = _delivered(sink, db)
        with sqlite3.connect(db) as conn:
            statuses = [r[0] for r in conn.execute("SELECT status FROM deliveries ORDER BY id")]
    lost = len(digest_reference - set(pairs))
    dups = sum(n - 1 for n in pairs.values()) + len(set(pairs) - digest_reference)  # another Message-ID, or unasked
    same_id = sum(n - 1 for n in ids.values())  # the documented window: the same message twice
    in_flight = [w for w in outbox if w["delivery_id"] == nth]
    fault_ledger.record(
        GROUP,
        fault,
        tried=1,
        survived=killed.returncode == -signal.SIGKILL
        and restarted.returncode == 0
        and third.returncode == 0
        and statuses == ["sent"] * 3,
        lost=lost,
        duplicates=dups,
        recorded=bool(in_flight),
        note=f"{crash}: {same_id} same-Message-ID copy" if same_id else "",
    )

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [w["subscriber"] for w in in_flight] == [["first", "second", "third"][nth - 1]], outbox
    assert restarted.returncode == 0 and third.returncode == 0, restarted.stderr + third.stderr
    assert statuses == ["sent"] * 3
    assert lost == 0 and dups == 0, (pairs, digest_reference)
    if crash.startswith("after-send"):
        # The one documented duplicate: the server said 250, the process died before the mark. The
        # copy carries the first one's Message-ID (clients collapse it); nothing else is repeated.
        assert before_restart == nth and same_id == 1 and len(ids) == 3
    else:
        assert before_restart == nth - 1 and same_id == 0 and len(ids) == 3


# -- 4. a full disk under a crawl ------------------------------------------------------------------
FULL = ("database or disk is full", "disk I/O error")


class SmallDisk:
    """A folder with little room: a 16 MB tmpfs (mounted, as root) that ``fill()`` fills up to
    ``leave`` bytes; where mounting is not allowed, None (the caller falls back to RLIMIT_FSIZE)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        self.mounted = False
        if os.environ.get("CAREWATCH_FAULTS_NO_MOUNT") != "1" and os.geteuid() == 0:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(path)], capture_output=True)
            self.mounted = r.returncode == 0

    def fill(self, leave: int) -> None:
        st = os.statvfs(self.path)
        with open(self.path / "filler", "wb") as f:
            f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))

    def free(self) -> None:
        (self.path / "filler").unlink(missing_ok=True)

    def close(self) -> None:
        if self.mounted:
            if subprocess.run(["umount", str(self.path)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


def _fsize_limit(limit: int):
    def apply() -> None:  # in the child before exec: inherited by the crawl child
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _crawl_popen(cfg: Path, db: Path, preexec=None) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("carewatch")
    return subprocess.Popen(
        [str(exe), "--config", str(cfg), "--db", str(db), "crawl", "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
        env={**os.environ, "CAREWATCH_CRASH_AT": ""},
    )


@pytest.mark.timeout(180)
@records(GROUP, "disk full during a crawl's writes (freed, then rerun)")
def test_a_full_disk_under_a_crawl(tmp_path, demo_server, reference, fault_ledger):
    disk = SmallDisk(tmp_path / "small")
    try:
        raw = {"raw_dir": str(tmp_path / "raw")}  # the WARC captures elsewhere: the database is what fills up
        cfg = crawl_config(tmp_path / "fast", demo_server.proxy_url, SOURCES, **raw)
        slow = crawl_config(
            tmp_path / "slow",
            demo_server.proxy_url,
            SOURCES,
            download_delay=0.2,
            concurrent_requests_per_domain=1,
            revisit_days=0,
            **raw,
        )
        db = disk.path / "archive.db"
        first = SOURCES[:3]
        # Some articles stored while there is room.
        result = carewatch(
            "--config", str(cfg), "--db", str(db), "crawl", "--json", *first, env={"CAREWATCH_CRASH_AT": ""}
        )
        assert result.returncode == 0, result.stderr
        committed = audit(db)["keys"]
        assert committed == keys_of(reference, first)

        # (a) The disk fills up (96 kB left) and stays full for a whole crawl of every source.
        if disk.mounted:
            disk.fill(96 * 1024)
            proc = _crawl_popen(cfg, db)
        else:  # no mount here: every file the crawl writes may grow only a little (EFBIG past it)
            limit = max(os.path.getsize(db), 64 * 1024) + 96 * 1024
            proc = _crawl_popen(cfg, db, _fsize_limit(limit))
        out, err = proc.communicate(timeout=120)
        report = json.loads(out) if out.strip() else {}
        disk.free()
        during = audit(db)
        told_a = any(m in err for m in FULL) and (
            report.get("counts", {}).get("store_errors", 0) > 0 or proc.returncode != 0
        )
        rerun = run_crawl(load_config(cfg), db)
        after_a = audit(db)
        lost_a = len(reference["keys"] - after_a["keys"]) + len(committed - during["keys"])
        fault_ledger.record(
            GROUP,
            "disk full during a crawl's writes (freed, then rerun)",
            tried=1,
            survived=whole(during) and whole(after_a) and rerun.ok,
            lost=lost_a,
            duplicates=duplicates(after_a, reference["keys"]),
            recorded=told_a,
            note=("tmpfs 16 MB, 96 kB left" if disk.mounted else "RLIMIT_FSIZE (no mount)")
            + f"; store_errors={report.get('counts', {}).get('store_errors')}, exit {proc.returncode}",
        )

        # (b) Full when the crawl starts, room again while it runs (a log rotated, a file deleted):
        # an article whose write failed must still be fetched by the next crawl (its source's HTTP
        # validators are not kept, or the next crawl hears 304 and never sees it again).
        if disk.mounted:
            db_b = disk.path / "b.db"
            open_db(db_b).close()  # created and migrated
            disk.fill(96 * 1024)
            proc = _crawl_popen(slow, db_b)
            freed = threading.Event()
            lines: list[str] = []

            def watch() -> None:
                for line in proc.stderr:
                    lines.append(line)
                    if "in save_article" in line and not freed.is_set():  # an article's write has failed
                        disk.free()
                        freed.set()

            reader = threading.Thread(target=watch, daemon=True)
            reader.start()
            out = proc.stdout.read()
            proc.wait(timeout=120)
            reader.join(timeout=10)
            disk.free()
            report_b = json.loads(out) if out.strip() else {}
            during_b = audit(db_b)
            rerun_b = run_crawl(load_config(cfg), db_b)
            after_b = audit(db_b)
            err_b = "".join(lines)
            told_b = any(m in err_b for m in FULL) and report_b.get("counts", {}).get("store_errors", 0) > 0
            fault_ledger.record(
                GROUP,
                "disk full, then room again mid-crawl (rerun)",
                tried=1,
                survived=freed.is_set() and whole(during_b) and whole(after_b) and rerun_b.ok,
                lost=len(reference["keys"] - after_b["keys"]),
                duplicates=duplicates(after_b, reference["keys"]),
                recorded=told_b,
                note=f"{len(reference['keys']) - len(during_b['keys'])} not stored by the crawl that hit the full disk",
            )
    finally:
        disk.free()
        disk.close()

    assert told_a, (proc.returncode, report, err[-3000:])
    assert whole(during), during  # the failed transactions rolled back, the file intact
    assert committed <= during["keys"]  # nothing committed before was lost
    assert rerun.ok, rerun
    assert whole(after_a) and after_a["keys"] == reference["keys"] and duplicates(after_a, reference["keys"]) == 0
    if disk.mounted:
        assert freed.is_set(), err_b[-3000:]
        assert told_b, (report_b, err_b[-3000:])
        assert whole(during_b) and len(during_b["keys"]) < len(reference["keys"])
        assert rerun_b.ok and whole(after_b)
        assert after_b["keys"] == reference["keys"], f"lost: {reference['keys'] - after_b['keys']}"
        assert duplicates(after_b, reference["keys"]) == 0


# -- 5. Datasette reading while a crawl writes --------------------------------------------------------
@pytest.mark.timeout(120)
@records(GROUP, "Datasette reading while a crawl writes")
def test_datasette_reads_while_a_crawl_writes(tmp_path, demo_server, reference, fault_ledger):
    cfg = crawl_config(
        tmp_path, demo_server.proxy_url, SOURCES, download_delay=0.2, concurrent_requests_per_domain=1, revisit_days=0
    )
    db = tmp_path / "archive.db"
    open_db(db).close()  # created and migrated, empty (status reads an archive, never creates one)
    served = Served(db, tmp_path)
    name = served.public
    pages = [
        f"/{name}/articles.json?_search=birmingham&_size=5",
        f"/{name}/articles.json?_size=3&_shape=objects",
        f"/{name}.json?" + urllib.parse.urlencode({"sql": "select count(*) as n from articles"}),
        f"/{name}/articles?_search=council",
        f"/{name}/this_week.json?days=100000",
    ]
    results: list[tuple[int, bool]] = []
    counts: list[int] = []
    done = threading.Event()

    def hammer(offset: int) -> None:
        i = offset
        while not done.is_set():
            status, body = served.get(pages[i % len(pages)])
            results.append((status, "database is locked" in body))
            if status == 200 and "select+count" in pages[i % len(pages)]:
                counts.append(json.loads(body)["rows"][0][0])
            i += 1

    try:
        readers = [threading.Thread(target=hammer, args=(k,), daemon=True) for k in range(4)]
        for t in readers:
            t.start()
        writer = _crawl_popen(cfg, db)
        out, err = writer.communicate(timeout=100)
        done.set()
        for t in readers:
            t.join(timeout=20)
        report = json.loads(out) if out.strip() else {}
        seen_after = served.json(
            f"/{name}.json?" + urllib.parse.urlencode({"sql": "select count(*) as n from articles"})
        )["rows"][0][0]
        searchable = served.json(f"/{name}/articles.json?_search=unison&_size=0")["filtered_table_rows_count"]
    finally:
        done.set()
        served.stop()
    after = audit(db)
    errors = sum(1 for s, _ in results if s != 200)
    locked = sum(1 for _, lk in results if lk) + err.count("database is locked")
    fault_ledger.record(
        GROUP,
        "Datasette reading while a crawl writes",
        tried=1,
        survived=writer.returncode == 0 and errors == 0 and locked == 0 and seen_after == after["articles"],
        lost=len(reference["keys"] - after["keys"]),
        duplicates=duplicates(after, reference["keys"]),
        recorded=bool(report) and report.get("errors") == [] and errors == 0,
        note=f"{len(results)} requests during the crawl ({errors} errors, {locked} 'database is locked'); "
        f"article counts read while writing: {min(counts, default=0)}..{max(counts, default=0)}",
    )

    assert writer.returncode == 0 and report["errors"] == [], err[-3000:]
    assert len(results) >= 20 and errors == 0 and locked == 0, Counter(results)
    assert len(set(counts)) > 1  # the reader saw the archive grow while the crawl wrote
    assert seen_after == after["articles"] == reference["articles"] and searchable >= 1
    assert whole(after) and after["keys"] == reference["keys"] and duplicates(after, reference["keys"]) == 0
