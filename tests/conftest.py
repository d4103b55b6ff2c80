"""Shared fixtures: the demo sites on loopback, a real SMTP sink, real SQLite files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import DEMO_CONFIG, demo_config
from carewatch.demo.server import DemoServer

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; skips the test with a reason where that folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared test data sits beside the repository)")
    return path


@pytest.fixture(scope="session")
def demo_server():
    with DemoServer() as server:
        yield server


@pytest.fixture
def mail_sink(tmp_path):
    with MailSink(tmp_path / "mail") as sink:
        yield sink


@pytest.fixture
def demo_cfg(demo_server, mail_sink):
    return demo_config(demo_server.proxy_url, mail_sink.port)


def carewatch(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real `carewatch` command (as installed) and capture its output."""
    exe = Path(sys.executable).with_name("carewatch")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from carewatch.cli.main import cli; cli()"]
    return subprocess.run(
        [*cmd, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


__all__ = ["DEMO_CONFIG", "carewatch", "shared_data"]


# -- the fault suite's report (tests/faults/ledger.py) -----------------------------------------------
@pytest.fixture(scope="session")
def fault_ledger():
    from tests.faults.ledger import LEDGER

    return LEDGER


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from tests.faults.ledger import LEDGER

    if LEDGER.rows:
        terminalreporter.section("faults injected (tests/faults)")
        terminalreporter.write_line(LEDGER.table())
        written = LEDGER.write()
        if written:
            terminalreporter.write_line(f"(also written to {written})")


def pytest_sessionfinish(session, exitstatus):
    """Under CI (CI=true, as .ci/run is run) a skipped test fails the run: a test that cannot run
    in CI is a test that does not exist. Locally a skip stays a skip, with its reason."""
    if os.environ.get("CI", "").lower() != "true" or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        if reporter:
            reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped, which fails the run", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
