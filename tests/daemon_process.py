"""A real `carewatch run` for the tests that drive the daemon (tests/test_daemon.py,
tests/test_operations.py): start it, wait for what it should do, stop it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT


def start_daemon(cfg: Path, db: Path) -> subprocess.Popen:
    """`carewatch --config CFG --db DB run`, the installed command, its output captured."""
    exe = Path(sys.executable).with_name("carewatch")
    return subprocess.Popen(
        [str(exe), "--config", str(cfg), "--db", str(db), "run"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None):
    """The first true value of ``predicate()`` within ``timeout`` seconds; AssertionError naming
    ``what`` when it does not come, or at once when the daemon ``proc`` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"the daemon exited ({proc.returncode}) while waiting for {what}: {proc.stdout.read()}"
            )
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def stop_daemon(proc: subprocess.Popen, timeout: float = 60) -> str:
    """SIGTERM the daemon and wait for it; what it printed. One that does not stop in time is
    killed (its return code then says so)."""
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out
