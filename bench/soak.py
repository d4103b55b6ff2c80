"""Soak test of the daemon: ``carewatch run`` as a real process for a bounded time, every demo source
enabled on a short schedule, watched from outside for memory and file-descriptor growth.
Not part of the test run. Run: ``.venv/bin/python bench/soak.py [--minutes 10] [--every 20s]``.

Set-up (as tests/test_daemon.py does it): the demo site (demo/server.py, used as the HTTP proxy) and
a mail sink (demo/mailsink.py) run in this process; demo.run.write_daemon_config writes the config
folder (the demo config with the proxy, the mail sink, short waits, a health port, 2 crawls at a
time and a log file), with every demo source enabled and ``schedule: every <--every>``. The daemon is started in its own
session (so a Ctrl-C here
reaches only this script, which then stops the daemon with SIGTERM).

Every ``--sample`` seconds (10) from the daemon's start, one line: the daemon's resident memory
(VmRSS from /proc/PID/status), its open file descriptors (/proc/PID/fd), its threads, its live crawl
children (``python -m carewatch.ops.crawl_process``, found by a /proc scan for PPid == PID) and their total
RSS, the crawl runs finished so far (job_runs, job LIKE 'crawl:%'), job_runs with status 'error'
(any job), articles stored, and the database size (file + WAL).

Summary: daemon RSS first/last/max and its slope in MB/h (least squares over the second half of the
run, after warm-up), fds first/last/max, the largest peak RSS (VmHWM) seen of a crawl child, runs
completed, errors (by job), then the verdicts: RSS under 300 MB, RSS growth after warm-up (flat if
< 5 MB/h), fds stable (last <= first + 5). At the end the daemon gets SIGTERM; its exit code is
printed, and any crawl child still alive after it is reported. Two demo sources fail on purpose
(a malformed feed, an HTTP 500), so some 'error' runs are expected.

Exit status: 0 when every verdict holds and the daemon exited 0; 1 otherwise; 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from carewatch.config.schema import duration_seconds
from carewatch.core.errors import StoreError
from carewatch.demo.mailsink import MailSink, free_port
from carewatch.demo.run import enable_sources, write_daemon_config
from carewatch.demo.server import DemoServer
from carewatch.ops.jobs import crawls_started_since as crawl_runs_since
from carewatch.ops.jobs import run_history

RSS_LIMIT_MB = 300.0
FLAT_MB_PER_HOUR = 5.0
FD_SLACK = 5


def start_daemon(cfg: Path, db: Path, out: Path) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("carewatch")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from carewatch.cli.main import cli; cli()"]
    with open(out, "wb") as f:  # a file, never a pipe nobody reads: the daemon logs to stderr too
        return subprocess.Popen(
            [*cmd, "--config", str(cfg), "--db", str(db), "run"],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


# -- /proc ---------------------------------------------------------------------------------------------
def proc_status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def kb_to_mb(value: str | None) -> float:
    return int(value.split()[0]) / 1024 if value else 0.0


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def crawl_children(pid: int) -> list[int]:
    """Live (not zombie) children of ``pid`` running cli.crawl_process."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = proc_status(int(entry))
        if st.get("PPid", "").strip() != str(pid) or st.get("State", "").startswith("Z"):
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"carewatch.ops.crawl_process" in cmdline:
            out.append(int(entry))
    return out


def alive(pid: int) -> bool:
    st = proc_status(pid)
    return bool(st) and not st.get("State", "").startswith("Z")


# -- database ------------------------------------------------------------------------------------------
def db_counts(db: Path) -> tuple[int, int, int]:
    """(finished crawl runs, job_runs with status 'error', articles); zeros before the file exists."""
    if not db.exists():
        return 0, 0, 0
    try:
        history = run_history(str(db))
    except (StoreError, sqlite3.OperationalError):
        return 0, 0, 0
    return history.finished_crawls, history.errors, history.articles


def errors_by_job(db: Path) -> list[tuple[str, int, str]]:
    if not db.exists():
        return []
    try:
        return [(e.job, e.errors, e.detail) for e in run_history(str(db)).errors_by_job]
    except (StoreError, sqlite3.OperationalError):
        return []


def crawls_started_since(db: Path, since: str) -> int:
    """Crawl runs started at or after ``since`` (job_runs.started is ISO 8601 UTC to the second)."""
    if not db.exists():
        return 0
    try:
        return crawl_runs_since(str(db), since)
    except (StoreError, sqlite3.OperationalError):
        return 0


def db_mb(db: Path) -> float:
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists()) / 2**20


# -- sampling ------------------------------------------------------------------------------------------
@dataclass
class Sample:
    t: float  # seconds since the daemon started
    rss: float  # MB
    hwm: float  # MB, the daemon's peak RSS so far
    fds: int
    threads: int
    children: int
    children_rss: float  # MB, total
    runs: int
    errors: int
    articles: int
    db: float  # MB


HEADER = (
    f"{'t':>6} {'RSS MB':>7} {'fds':>4} {'thr':>4} {'crawls':>6} {'crawl MB':>8} "
    f"{'runs':>5} {'errors':>6} {'articles':>8} {'db MB':>6}"
)


def row(s: Sample) -> str:
    return (
        f"{s.t:5.0f}s {s.rss:7.1f} {s.fds:4d} {s.threads:4d} {s.children:6d} {s.children_rss:8.1f} "
        f"{s.runs:5d} {s.errors:6d} {s.articles:8d} {s.db:6.1f}"
    )


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in points) / sxx * 3600


def stop_daemon(proc: subprocess.Popen, timeout: float = 90) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"the daemon did not exit {timeout:.0f}s after SIGTERM: killed", flush=True)
            proc.kill()
            proc.wait()
    return proc.returncode


def summary(samples: list[Sample], duration: float, child_peak: float, db: Path) -> bool:
    if not samples:
        print("no samples taken")
        return False
    first, last = samples[0], samples[-1]
    rss_max = max(s.rss for s in samples)
    fds_max = max(s.fds for s in samples)
    duration = min(duration, last.t)  # an interrupted run: the second half of what was sampled
    warm = [s for s in samples if s.t >= duration / 2] or samples[-2:]
    slope = slope_per_hour([(s.t, s.rss) for s in warm])
    print()
    print("summary")
    print(f"  daemon RSS MB: first {first.rss:.1f}, last {last.rss:.1f}, max {rss_max:.1f} (peak VmHWM {last.hwm:.1f})")
    print(
        f"  daemon RSS slope over the second half ({len(warm)} samples from t={warm[0].t:.0f}s): "
        f"{slope:+.1f} MB/h (RSS {warm[0].rss:.1f} -> {warm[-1].rss:.1f} MB in {warm[-1].t - warm[0].t:.0f}s)"
    )
    print(
        f"  daemon fds: first {first.fds}, last {last.fds}, max {fds_max}; "
        f"threads first {first.threads}, last {last.threads}, max {max(s.threads for s in samples)}"
    )
    print(
        f"  crawl children: at most {max(s.children for s in samples)} at once, largest peak RSS "
        f"{child_peak:.1f} MB, largest total at a sample {max(s.children_rss for s in samples):.1f} MB"
    )
    print(f"  crawl runs completed: {last.runs}; articles stored: {last.articles}; database {last.db:.1f} MB")
    by_job = errors_by_job(db)
    print(f"  errors seen (job_runs status='error'): {sum(n for _, n, _ in by_job)}")
    for job, n, detail in by_job:
        print(f"    {job}: {n}  ({(detail or '')[:100]})")
    under = rss_max < RSS_LIMIT_MB
    flat = slope < FLAT_MB_PER_HOUR
    fds_ok = last.fds <= first.fds + FD_SLACK
    print()
    print(f"RSS under {RSS_LIMIT_MB:.0f} MB: {'yes' if under else 'no'} (max {rss_max:.1f} MB)")
    print(
        f"RSS growth after warm-up: {slope:+.1f} MB/h ({'flat' if flat else 'GROWING'}; "
        f"flat if < {FLAT_MB_PER_HOUR:.0f} MB/h)"
    )
    print(f"fds stable: {'yes' if fds_ok else 'no'} (first {first.fds}, last {last.fds}; last <= first + {FD_SLACK})")
    return under and flat and fds_ok


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run the daemon (default 10)")
    parser.add_argument("--every", default="20s", help="each source's schedule, e.g. 20s or 1m (default 20s)")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples (default 10)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (config, database, log)")
    args = parser.parse_args()
    try:
        duration_seconds(args.every)
    except ValueError as e:
        parser.error(f"--every {args.every!r}: {e}")
    duration = args.minutes * 60

    # SIGTERM to this script stops the soak the way Ctrl-C does
    signal.signal(signal.SIGTERM, _interrupt)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="carewatch-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "archive.db"
    samples: list[Sample] = []
    child_peak = 0.0
    seen_children: set[int] = set()
    interrupted = False
    ok = False
    code: int | None = None
    try:
        with DemoServer() as server, MailSink(work / "mail") as sink:
            health_port = free_port()
            cfg = write_daemon_config(work, server.proxy_url, sink.port, health_port, f"every {args.every}")
            sources = enable_sources(cfg, None, f"every {args.every}")
            proc = start_daemon(cfg, db, work / "daemon.out")
            started = time.monotonic()
            print(
                f"daemon pid {proc.pid}: {len(sources)} sources every {args.every}, max_parallel_crawls 2, "
                f"{args.minutes:g} min, a sample every {args.sample:g}s",
                flush=True,
            )
            print(f"work folder {work} (health http://127.0.0.1:{health_port}/health)", flush=True)
            print(HEADER, flush=True)
            try:
                k = 1
                while started + k * args.sample <= started + duration + 0.001:
                    time.sleep(max(0.0, started + k * args.sample - time.monotonic()))
                    k += 1
                    if proc.poll() is not None:
                        print(
                            f"the daemon exited early with code {proc.returncode}; see {work / 'daemon.out'}",
                            flush=True,
                        )
                        break
                    st = proc_status(proc.pid)
                    kids = crawl_children(proc.pid)
                    seen_children.update(kids)
                    kid_status = [proc_status(c) for c in kids]
                    child_peak = max([child_peak, *(kb_to_mb(c.get("VmHWM")) for c in kid_status)])
                    runs, errors, articles = db_counts(db)
                    s = Sample(
                        t=time.monotonic() - started,
                        rss=kb_to_mb(st.get("VmRSS")),
                        hwm=kb_to_mb(st.get("VmHWM")),
                        fds=open_fds(proc.pid),
                        threads=int(st.get("Threads", "0")),
                        children=len(kids),
                        children_rss=sum(kb_to_mb(c.get("VmRSS")) for c in kid_status),
                        runs=runs,
                        errors=errors,
                        articles=articles,
                        db=db_mb(db),
                    )
                    samples.append(s)
                    print(row(s), flush=True)
            except KeyboardInterrupt:
                interrupted = True
                print("\ninterrupted: stopping the daemon", flush=True)
            finally:
                print("sending SIGTERM to the daemon ...", flush=True)
                t = time.monotonic()
                stop_at = datetime.now(UTC).isoformat(timespec="seconds")
                try:
                    code = stop_daemon(proc)
                except KeyboardInterrupt:
                    proc.kill()
                    code = proc.wait()
                print(f"daemon exit code: {code} (after {time.monotonic() - t:.1f}s)", flush=True)
                print(f"crawl runs started after SIGTERM: {crawls_started_since(db, stop_at)}", flush=True)
                time.sleep(1.0)
                left = sorted(p for p in seen_children if alive(p))
                print(f"crawl children alive after the daemon exited: {len(left)}{' ' + str(left) if left else ''}")
                print(f"digests received by the mail sink: {len(sink.messages)}")
            ok = summary(samples, duration, child_peak, db) and code == 0 and not interrupted
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if interrupted:
        return 130
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
