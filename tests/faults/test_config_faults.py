"""Config faults (issue 11): every kind of broken config file gives exactly one clear error naming the
file, the line and the field, through the real ``carewatch --config DIR config check`` (exit 2, no
traceback); missing secrets are found when sending and kept for retry; and the daemon, sent SIGHUP
with a broken config, keeps running on the old one, logs why (file:line:field), and takes the fixed
one at the next SIGHUP.

Each case starts from a copy of the bundled config folder and breaks one thing. Every case is loaded
with ``config.load_config`` (what the command calls: a ``ConfigError`` is printed as ``Error: <its
message>`` with exit code 2, anything else would be a traceback); one case of each kind of error (YAML
syntax, duplicate key, schema, cross-reference, the file itself) also goes through the real command,
which must print exactly that, so the catalogue stays quick (about 0.7 s of start-up per command).
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from carewatch.config import load_config
from carewatch.core.errors import ConfigError
from carewatch.demo.mailsink import MailSink, free_port
from carewatch.demo.run import enable_sources, write_daemon_config
from tests.conftest import ROOT, carewatch
from tests.test_daemon import _log, _runs, _start, _stop, _wait
from tests.test_digests import _archive

pytestmark = pytest.mark.faults

GROUP = "Config"


@dataclass(frozen=True)
class Case:
    fault: str  # the ledger row
    file: str  # the file broken
    old: str | None  # text replaced (its first occurrence); None: the whole file becomes ``new``
    new: str | bytes
    at: str | None  # text on the line the error must point at (its first line); None: line 1
    field: str  # the field the message must name
    says: str  # what the message must say about it


FEED = "    kind: feed\n"  # the first source (chamberlain-files, sources.0) is a feed
FIRST_URL = "url: https://www.thechamberlainfiles.com/feed/"

CASES = [
    Case(
        "tab indentation",
        "settings.yaml",
        "  host: localhost",
        "\thost: localhost",
        "\thost:",
        "host",
        "found character '\\t' that cannot start any token (indent with spaces: YAML does not allow tabs)",
    ),
    Case(
        "YAML: unclosed bracket",
        "alerts.yaml",
        "topics: [ofsted, child_deaths]",
        "topics: [ofsted, child_deaths",
        "[ofsted, child_deaths",
        "topics",
        "(the bracket opened on this line is never closed)",
    ),
    Case(
        "YAML: unclosed quote",
        "settings.yaml",
        'sender: "carewatch <carewatch@example.org>"',
        'sender: "carewatch <carewatch@example.org>',
        "sender:",
        "sender",
        "(the quote opened on this line is never closed)",
    ),
    Case(
        "duplicate key (top level)",
        "settings.yaml",
        "download_delay: 5 ",
        "download_delay: 5\ndownload_delay: 0 ",
        "download_delay: 0",
        "download_delay",
        "duplicate key 'download_delay' (first on line ",
    ),
    Case(
        "duplicate key (in a list item)",
        "sources.yaml",
        FEED,
        FEED + "    kind: listing\n",
        "kind: listing",
        "sources.0.kind",
        "duplicate key 'kind' (first on line",
    ),
    Case(
        "unknown key (typo)",
        "alerts.yaml",
        "    email: organisers@example.org",
        "    recipents: organisers@example.org",
        "recipents:",
        "subscribers.0.recipents",
        "unknown key 'recipents'; allowed here: at, channels, coming_up_days, day, email, frequency, id, ",
    ),
    Case(
        "unknown key: rule for rules",
        "alerts.yaml",
        '    rules:\n      - \'"section 114"',
        '    rule:\n      - \'"section 114"',
        "rule:",
        "subscribers.0.rule",
        "unknown key 'rule' (did you mean 'rules'?); allowed here: at, channels, ",
    ),
    Case(
        "unknown key in a topic (typo)",
        "topics.yaml",
        "    label: Privatisation and the Trust\n",
        "    label: Privatisation and the Trust\n    min_scor: 4\n",
        "min_scor:",
        "topics.privatisation.min_scor",
        "unknown key 'min_scor' (did you mean 'min_score'?); allowed here: description, exclude, label, min_score, "
        "not_counting, rules, terms",
    ),
    Case(
        "digest time: 7.30am",
        "alerts.yaml",
        '    at: "07:30"',
        '    at: "7.30am"',
        '"7.30am"',
        "subscribers.0.at",
        '\'7.30am\' is not a time: write it as 24-hour HH:MM in quotes, e.g. "07:30" or "18:00" '
        "(did you mean '07:30'?)",
    ),
    Case(
        "apostrophe inside a single-quoted rule",
        "alerts.yaml",
        '\'"section 114" NEAR',
        "'\"children's trust\" NEAR",
        "children's",
        "rules",
        "not valid YAML in rules: the apostrophe in \"children's\" ends the '...' text early; inside single "
        "quotes write an apostrophe twice: children''s",
    ),
    Case(
        "invalid CSS selector (links)",
        "sources.yaml",
        "links: 'h2.entry-title a'",
        "links: 'a[href'",
        "a[href",
        "sources.1.links",
        "'a[href' is not a valid CSS selector: a '[' is never closed with ']'",
    ),
    Case(
        "wrong type (text for a number)",
        "settings.yaml",
        "download_delay: 5",
        "download_delay: five",
        "download_delay:",
        "download_delay",
        "Input should be a valid number",
    ),
    Case(
        "unknown source kind",
        "sources.yaml",
        FEED,
        "    kind: fead\n",
        "kind: fead",
        "sources.0.kind",
        "'fead' is not allowed here (did you mean 'feed'?); allowed: feed, wordpress, listing, pdf_links, sitemap, "
        "govuk_search",
    ),
    Case(
        "URL without a scheme",
        "sources.yaml",
        FIRST_URL,
        "url: www.thechamberlainfiles.com/feed/",
        "url: www.",
        "sources.0.url",
        "must be an http:// or https:// URL",
    ),
    Case(
        "URL: ftp scheme",
        "sources.yaml",
        FIRST_URL,
        "url: ftp://www.thechamberlainfiles.com/feed/",
        "url: ftp://",
        "sources.0.url",
        "must be an http:// or https:// URL",
    ),
    Case(
        "URL with spaces",
        "sources.yaml",
        FIRST_URL,
        "url: https://www.thechamberlainfiles.com/news feed/",
        "news feed",
        "sources.0.url",
        "must be an http:// or https:// URL without spaces (write a space as %20)",
    ),
    Case(
        "schedule: every banana",
        "sources.yaml",
        FEED,
        FEED + "    schedule: every banana\n",
        "every banana",
        "sources.0.schedule",
        "'every banana' is not a schedule: write 'every' and a duration (every 30m, every 2h, every 1d; units s, m, "
        "h, d, w) or a cron line of five fields",
    ),
    Case(
        "schedule: 6-field cron",
        "sources.yaml",
        FEED,
        FEED + "    schedule: '0 0 7 * * 1'\n",
        "'0 0 7",
        "sources.0.schedule",
        "'0 0 7 * * 1' is not a schedule: a cron line has five fields, this has 6; write 'every' and a duration",
    ),
    Case(
        "schedule: cron minute 61",
        "sources.yaml",
        FEED,
        FEED + "    schedule: '61 * * * *'\n",
        "'61 *",
        "sources.0.schedule",
        "the last value (61) is higher than the maximum value (59)",
    ),
    Case(
        "bad regex (url_pattern)",
        "sources.yaml",
        FEED,
        FEED + "    url_pattern: '/news/(\\d+'\n",
        "url_pattern:",
        "sources.0.url_pattern",
        "not a valid regular expression: missing ), unterminated subpattern",
    ),
    Case(
        "topic rule: unbalanced bracket",
        "topics.yaml",
        "query: '(trust OR company) NEAR/8",
        "query: '((trust OR company) NEAR/8",
        "query: '((trust",
        "topics.privatisation.rules.0.query",
        "unbalanced brackets: 3 '(' and 2 ')'",
    ),
    Case(
        "alert rule: unclosed quote",
        "alerts.yaml",
        '\'"section 114" NEAR',
        "'\"section 114 NEAR",
        "section 114",
        "subscribers.0.rules.0",
        'unbalanced quotes: an odd number of "',
    ),
    Case(
        "duplicate source id",
        "sources.yaml",
        "- id: ofsted-news",
        "- id: chamberlain-files",
        "- id: chamberlain-files",
        "sources.2.id",
        "duplicate source id 'chamberlain-files' (also sources.0.id, line ",
    ),
    Case(
        "duplicate source name",
        "sources.yaml",
        "name: The Chamberlain Files, children's services category",
        "name: the chamberlain files",
        "name: the chamberlain files",
        "sources.1.name",
        "duplicate source name 'the chamberlain files' (also sources.0.name, line ",
    ),
    Case(
        "duplicate subscriber id",
        "alerts.yaml",
        "- id: ofsted-watch",
        "- id: organisers",
        "- id: organisers",
        "subscribers.1.id",
        "duplicate subscriber id 'organisers'",
    ),
    Case(
        "subscriber: unknown topic",
        "alerts.yaml",
        "topics: [ofsted, child_deaths]",
        "topics: [ofsted, cats]",
        "[ofsted, cats]",
        "subscribers.1.topics.1",
        "unknown topic 'cats' (topics.yaml has: ",
    ),
    Case(
        "subscriber: unknown source",
        "alerts.yaml",
        "    topics: [ofsted, child_deaths]",
        "    topics: [ofsted, child_deaths]\n    sources: [ofsted-news, ofsted-nesw]",
        "ofsted-nesw",
        "subscribers.1.sources.1",
        "unknown source 'ofsted-nesw' (not an id in sources.yaml)",
    ),
    Case(
        "subscriber rule: unknown source",
        "alerts.yaml",
        '\'"section 114" NEAR',
        '\'source:bham-post AND "section 114" NEAR',
        "source:bham-post",
        "subscribers.0.rules.0",
        "unknown source 'bham-post' in ",
    ),
    Case(
        "password written in the file",
        "settings.yaml",
        "  starttls: false\n",
        "  starttls: false\n  password: hunter2\n",
        "password: hunter2",
        "smtp.password",
        "passwords are never read from YAML",
    ),
    Case("empty file (sources.yaml)", "sources.yaml", None, "", None, "sources", "Field required (the file is empty)"),
    Case(
        "a list, not a mapping",
        "settings.yaml",
        None,
        "- download_delay: 5\n- retry_times: 1\n",
        None,
        "(top level)",
        "expected a mapping of settings at the top level, not a list",
    ),
    Case(
        "not UTF-8 (Latin-1 byte)",
        "settings.yaml",
        "database: carewatch.db",
        "database: caf\xe9.db".encode("latin-1"),
        "database: caf",
        "database",
        "not UTF-8 text in database: byte 0xe9 at column 14 (save the file as UTF-8)",
    ),
]


# one of each kind of error, also through the real `carewatch config check`
THROUGH_CLI = {
    "tab indentation",
    "YAML: unclosed bracket",
    "duplicate key (in a list item)",
    "unknown key (typo)",
    "unknown key: rule for rules",
    "digest time: 7.30am",
    "apostrophe inside a single-quoted rule",
    "invalid CSS selector (links)",
    "schedule: every banana",
    "schedule: cron minute 61",
    "duplicate source id",
    "subscriber: unknown source",
    "password written in the file",
    "empty file (sources.yaml)",
    "a list, not a mapping",
    "not UTF-8 (Latin-1 byte)",
}


def _fresh(folder: Path) -> Path:
    """A valid config folder: the bundled one (its YAML files)."""
    shutil.copytree(ROOT / "config", folder, ignore=shutil.ignore_patterns("*.py", "__pycache__", "datasette.yaml"))
    return folder


def _break(folder: Path, case: Case) -> int:
    """Apply the case to the folder; the line (1-based) the error must name."""
    path = folder / case.file
    new = case.new if isinstance(case.new, bytes) else case.new.encode()
    if case.old is None:
        data, start = new, 0
    else:
        data = path.read_bytes()
        start = data.find(case.old.encode())
        assert start >= 0, f"{case.file} no longer contains {case.old!r}: update the case"
        data = data[:start] + new + data[start + len(case.old.encode()) :]
    path.write_bytes(data)
    if case.at is None:
        return 1
    at = data.find(case.at.encode(), start)  # the line of the edit the error is about
    assert at >= 0, f"{case.at!r} not found in the edited {case.file}"
    return data.count(b"\n", 0, at) + 1


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> dict[str, tuple[Path, int, subprocess.CompletedProcess | None]]:
    """Every case's folder broken (and the line its error must name); `carewatch config check` run on
    the THROUGH_CLI ones, a few at a time."""
    base = tmp_path_factory.mktemp("config-faults")
    prepared = {}
    for i, case in enumerate(CASES):
        folder = _fresh(base / f"case{i:02d}")
        prepared[case.fault] = (folder, _break(folder, case))
    assert THROUGH_CLI <= set(prepared)
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = {
            fault: pool.submit(carewatch, "--config", str(prepared[fault][0]), "config", "check", timeout=120)
            for fault in THROUGH_CLI
        }
        return {fault: (*prepared[fault], runs[fault].result() if fault in runs else None) for fault in prepared}


def test_the_unbroken_copy_is_valid(tmp_path):
    """The starting point of every case passes, so each error below is the one thing broken."""
    result = carewatch("--config", str(_fresh(tmp_path / "config")), "config", "check")
    assert result.returncode == 0 and ": ok" in result.stdout, result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.fault for c in CASES])
def test_bad_config_gives_one_error_naming_file_line_and_field(case, checked, fault_ledger):
    folder, line, result = checked[case.fault]
    error, crash = "", None
    try:
        load_config(folder)
    except ConfigError as e:  # what `carewatch` prints as "Error: <message>", exit code 2
        error = str(e)
    except Exception as e:
        crash = e
    where = f"{folder / case.file}:{line}: "
    # the real command prints exactly that, once, and nothing else
    cli_ok = result is None or (
        result.returncode == 2
        and result.stdout == ""
        and "Traceback" not in result.stderr
        and result.stderr == f"Error: {error}\n"
    )
    row = fault_ledger.record(
        GROUP,
        case.fault,
        survived=crash is None and (result is None or "Traceback" not in result.stderr),
        recorded=bool(error) and "\n" not in error and error.startswith(where) and case.field in error and cli_ok,
        note=error or repr(crash),
    )
    assert crash is None, repr(crash)
    assert row.ok, (error, result and (result.returncode, result.stdout, result.stderr))
    # exactly one error, one line: "<file>:<line>: <field>: <what is wrong>"
    # (YAML syntax: "... not valid YAML in <key>")
    assert error.startswith(where) and case.field in error and case.says in error, error
    assert "hunter2" not in error  # a password written in the file is refused, never echoed


def test_empty_optional_files_mean_the_defaults(tmp_path):
    """An empty settings.yaml or alerts.yaml is valid (every key optional): only sources.yaml must say something."""
    folder = _fresh(tmp_path / "config")
    (folder / "settings.yaml").write_text("# nothing yet\n")
    (folder / "alerts.yaml").write_text("")
    result = carewatch("--config", str(folder), "config", "check")
    assert result.returncode == 0 and "0 subscribers" in result.stdout, result.stderr


# -- secrets that are not set: found when sending ------------------------------------------------------
def test_missing_secrets_are_reported_when_sending_and_the_digest_kept(tmp_path, mail_sink, monkeypatch, fault_ledger):
    """smtp.password_env and a channel's ${VAR} are read from the environment when sending, not when checking
    (the daemon gets them from its service environment, which `config check` run by hand does not have), so
    `config check` passes; `alerts send` keeps each digest pending with the reason, and `status` shows it."""
    pw_var, hook_var = "CW_FAULTS_UNSET_PASSWORD", "CW_FAULTS_UNSET_HOOK"
    monkeypatch.delenv(pw_var, raising=False)
    monkeypatch.delenv(hook_var, raising=False)
    folder = _fresh(tmp_path / "config")
    (folder / "settings.yaml").write_text(
        "alert_max_age_days: 100000   # the archived articles are from 2025\n"
        f"smtp:\n  host: 127.0.0.1\n  port: {mail_sink.port}\n  timeout: 5\n"
        f"  username: carewatch\n  password_env: {pw_var}\n"
    )
    (folder / "alerts.yaml").write_text(
        "subscribers:\n"
        "  - id: organisers\n    name: Campaign organisers\n    email: organisers@example.org\n"
        "    frequency: immediate\n    topics: [funding, ofsted]\n"
        "  - id: webhook\n    name: A webhook\n    frequency: immediate\n    topics: [funding, ofsted]\n"
        f"    channels: ['json://127.0.0.1:9/${{{hook_var}}}']\n"
    )
    db = tmp_path / "a.db"
    _archive(db)
    check = carewatch("--config", str(folder), "config", "check")
    assert check.returncode == 0, check.stderr
    send = carewatch("--config", str(folder), "--db", str(db), "alerts", "send")
    status = carewatch("--config", str(folder), "--db", str(db), "status")
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT channel, status || ' ' || coalesce(last_error, '') FROM deliveries"))
    email = next(ln for ln in send.stdout.splitlines() if "organisers@example.org" in ln)
    hook = next(ln for ln in send.stdout.splitlines() if "json://" in ln)
    rows_ok = {k: v.startswith("pending ") for k, v in rows.items()}
    survived = "Traceback" not in send.stdout + send.stderr + status.stdout + status.stderr and send.returncode == 1
    smtp_row = fault_ledger.record(
        GROUP,
        "smtp password_env not set",
        survived=survived,
        lost=0 if rows_ok.get("email") else 1,
        recorded=pw_var in email and "settings.yaml" in email and "password_env" in email,
        note=email,
    )
    hook_row = fault_ledger.record(
        GROUP,
        "channel ${VAR} not set",
        survived=survived,
        lost=sum(not v for k, v in rows_ok.items() if k != "email"),
        recorded=hook_var in hook and "alerts.yaml" in hook and "channels" in hook,
        note=hook,
    )
    # what holds today: each digest is kept for a retry, the reason names the variable, status shows it
    assert survived, send.stdout + send.stderr
    assert (
        email.startswith("pending") and f"settings.yaml: smtp.password_env: the environment variable {pw_var}" in email
    )
    assert hook.startswith("pending") and "alerts.yaml: subscriber 'webhook' channels.0:" in hook
    assert f"environment variable {hook_var} is not set" in hook
    assert len(rows) == 2 and all(rows_ok.values()) and mail_sink.messages == []
    assert status.returncode == 1 and pw_var in status.stdout and hook_var in status.stdout
    assert smtp_row.ok and hook_row.ok, (email, hook)


# -- the daemon keeps its config when a reload is bad ----------------------------------------------------
OLD, NEW = "chamberlain-files", "birmingham-council-news"


def _health(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:  # 503: something needs a person; still an answer
        return json.loads(e.read())


def _rejections(tmp: Path) -> list[dict]:
    return [e for e in _log(tmp) if e["event"] == "config rejected"]


@pytest.mark.timeout(120)
def test_daemon_keeps_the_old_config_when_a_reload_is_bad(tmp_path, demo_server, fault_ledger):
    with MailSink(tmp_path / "mail") as sink:
        port = free_port()
        cfg = write_daemon_config(tmp_path, demo_server.proxy_url, sink.port, port, "every 3s", [OLD])
        db = tmp_path / "archive.db"
        good = (cfg / "sources.yaml").read_text()
        proc = _start(cfg, db)
        try:
            _wait(lambda: _started(db) and _health(port), 40, "the first crawl and the health endpoint", proc)
            assert f"crawl:{OLD}" in _health(port)["next_runs"] and f"crawl:{NEW}" not in _health(port)["next_runs"]

            # 1. a bad cron line on a source the new config would add
            data = yaml.safe_load(good)
            index = next(i for i, s in enumerate(data["sources"]) if s["id"] == NEW)
            data["sources"][index].update(enabled=True, schedule="61 * * * *")
            text = yaml.safe_dump(data, sort_keys=False)
            (cfg / "sources.yaml").write_text(text)
            lines = text.splitlines()
            start = lines.index(f"- id: {NEW}")
            line = next(i for i, ln in enumerate(lines[start:], start + 1) if ln.strip().startswith("schedule:"))
            _reject_and_keep(
                proc,
                cfg,
                db,
                port,
                tmp_path,
                fault_ledger,
                1,
                "daemon SIGHUP: bad cron",
                f"{cfg / 'sources.yaml'}:{line}: sources.{index}.schedule: ",
                "(61) is higher than",
            )

            # 2. broken YAML: a bracket never closed
            broken = good.replace("schedule: every 3s", "schedule: [every 3s", 1)
            (cfg / "sources.yaml").write_text(broken)
            line = next(i for i, ln in enumerate(broken.splitlines(), 1) if "[every 3s" in ln)
            _reject_and_keep(
                proc,
                cfg,
                db,
                port,
                tmp_path,
                fault_ledger,
                2,
                "daemon SIGHUP: broken YAML",
                f"{cfg / 'sources.yaml'}:{line}: not valid YAML in schedule: ",
                "never closed",
            )

            # 3. fixed: the next SIGHUP takes the new config (the new source is scheduled)
            enable_sources(cfg, [OLD, NEW], "every 3s")
            proc.send_signal(signal.SIGHUP)
            _wait(lambda: any(e["event"] == "config reloaded" for e in _log(tmp_path)), 20, "the reload", proc)
            assert f"crawl:{NEW}" in _health(port)["next_runs"] and f"crawl:{OLD}" in _health(port)["next_runs"]
        finally:
            out = _stop(proc, 40)
        assert proc.returncode == 0, out[-3000:]
        assert "Traceback" not in out
        assert len(_rejections(tmp_path)) == 2


def _reject_and_keep(proc, cfg, db, port, tmp, ledger, nth, fault, where, says):
    """SIGHUP with the broken config in place: the rejection is logged naming file, line and field, and
    the daemon goes on with the old config (health answers, the same jobs, the old source crawled on)."""
    runs_before = _started(db)
    proc.send_signal(signal.SIGHUP)
    _wait(lambda: len(_rejections(tmp)) >= nth, 20, f"rejection {nth}", proc)
    error = _rejections(tmp)[nth - 1]["error"]
    health = _health(port)
    jobs = set(health.get("next_runs", {}))
    crawled_on = _within(lambda: _started(db) > runs_before, 20)  # on the old schedule (every 3 s)
    row = ledger.record(
        GROUP,
        fault,
        survived=proc.poll() is None and f"crawl:{OLD}" in jobs and f"crawl:{NEW}" not in jobs and crawled_on,
        recorded=error.startswith(where) and "\n" not in error,
        note=error,
    )
    assert row.ok, (error, jobs, crawled_on, proc.poll())
    assert says in error, error


def _started(db: Path) -> int:
    """Crawls of the old config's source started so far."""
    return sum(r[0] == f"crawl:{OLD}" for r in _runs(db))


def _within(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False
