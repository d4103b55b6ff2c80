"""The deploy folder as an operator installs it (README "Deploying on a small server"): the
configuration in a folder outside the checkout checks; every unit reads it there; and the memory
limits fit the stated 1 GB server, with the daemon's, a backup's and Datasette's memory measured
on real processes and a crawl run under the production crawl_memory_mb."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from carewatch.demo.mailsink import free_port
from carewatch.demo.run import demo_config
from carewatch.ops.crawl import run_crawl
from tests.conftest import DEMO_CONFIG, ROOT, carewatch

DEPLOY = ROOT / "deploy"
SERVER_MB = 1024
SYSTEM_MB = 64  # what the units leave to the system (kernel, sshd, journald)


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read(DEPLOY / name)
    return unit


def _mb(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([KMG])", value).groups()
    return int(number) * {"K": 1 / 1024, "M": 1, "G": 1024}[unit]


def _etc(tmp_path: Path) -> Path:
    """/etc/carewatch as the README builds it: the shipped sources and alerts, the production settings."""
    etc = tmp_path / "etc-carewatch"
    etc.mkdir()
    for name in ("sources.yaml", "alerts.yaml"):
        shutil.copy(ROOT / "config" / name, etc / name)
    shutil.copy(DEPLOY / "settings.production.yaml", etc / "settings.yaml")
    return etc


def test_the_production_config_outside_the_checkout_checks(tmp_path):
    result = carewatch("--config", str(_etc(tmp_path)), "config", "check")
    assert result.returncode == 0, result.stderr
    assert ": ok — " in result.stdout


def test_every_unit_reads_the_config_outside_the_checkout():
    services = sorted(DEPLOY.glob("*.service"))
    assert {p.name for p in services} >= {"carewatch.service", "carewatch-serve.service", "carewatch-backup.service"}
    for path in services:
        start = _unit(path.name)["Service"]["ExecStart"]
        assert "--config /etc/carewatch " in start and "/opt/carewatch/config" not in start, (path.name, start)
        assert _unit(path.name)["Service"]["WorkingDirectory"] == "/var/lib/carewatch", path.name
    timer = _unit("carewatch-backup.timer")
    assert timer["Timer"]["OnCalendar"] and (DEPLOY / "carewatch-backup.service").exists()
    assert "backup /var/backups/carewatch/" in _unit("carewatch-backup.service")["Service"]["ExecStart"]


def _peak_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text)[1]) / 1024


@pytest.mark.timeout(240)
def test_the_memory_limits_fit_a_1_gb_server(tmp_path, demo_server, mail_sink):
    settings = yaml.safe_load((DEPLOY / "settings.production.yaml").read_text())
    limits = {
        name: _mb(_unit(name)["Service"]["MemoryMax"])
        for name in ("carewatch.service", "carewatch-serve.service", "carewatch-backup.service")
    }
    assert sum(limits.values()) <= SERVER_MB - SYSTEM_MB, limits

    # a crawl works under the production crawl_memory_mb
    config = demo_config(demo_server.proxy_url, mail_sink.port)
    config = config.model_copy(
        update={"settings": config.settings.model_copy(update={"crawl_memory_mb": settings["crawl_memory_mb"]})}
    )
    db = tmp_path / "archive.db"
    report = run_crawl(config, db, ["chamberlain-files", "ofsted-reports", "birmingham-council-news"])
    assert report.returncode == 0 and report.counts.get("new", 0) > 0, report

    # the daemon itself, idle between crawls: its peak, plus its crawls' limits, within its unit's
    cfg = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, cfg)
    sources = yaml.safe_load((cfg / "sources.yaml").read_text())
    for s in sources["sources"]:
        s["enabled"] = False
    (cfg / "sources.yaml").write_text(yaml.safe_dump(sources, sort_keys=False))
    (cfg / "settings.yaml").write_text(
        yaml.safe_dump(
            {
                **yaml.safe_load((cfg / "settings.yaml").read_text()),
                "health_port": None,
                "log_file": str(tmp_path / "log"),
            }
        )
    )
    exe = Path(sys.executable).with_name("carewatch")
    proc = subprocess.Popen(
        [str(exe), "--config", str(cfg), "--db", str(db), "run"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not ((tmp_path / "log").exists() and "daemon started" in (tmp_path / "log").read_text()):
            assert time.monotonic() < deadline and proc.poll() is None, "the daemon did not start"
            time.sleep(0.3)
        time.sleep(3)  # its first digest and housekeeping runs
        daemon_mb = _peak_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert daemon_mb + settings["max_parallel_crawls"] * settings["crawl_memory_mb"] <= limits["carewatch.service"], (
        daemon_mb
    )

    # a backup (the database and captures) and Datasette serving, each within its unit's limit
    peak = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
    )
    backup = subprocess.run(
        [
            sys.executable,
            "-c",
            peak,
            str(exe),
            "--config",
            str(DEMO_CONFIG),
            "--db",
            str(db),
            "backup",
            f"{tmp_path / 'backups'}/",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert backup.returncode == 0, backup.stderr
    assert int(backup.stdout.strip().splitlines()[-1]) / 1024 <= limits["carewatch-backup.service"], backup.stdout
    port = free_port()
    serve = subprocess.Popen(
        [str(exe), "--db", str(db), "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                for page in ("/", "/archive/articles?_search=trust", "/archive/articles.json?_size=100"):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{page}", timeout=10).read()
                break
            except OSError:
                assert time.monotonic() < deadline and serve.poll() is None, "carewatch serve did not answer"
                time.sleep(0.3)
        serve_mb = _peak_mb(serve.pid)  # serve execs Datasette in its own process
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    assert serve_mb <= limits["carewatch-serve.service"], serve_mb
