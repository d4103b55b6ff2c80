"""One writer that must run alone per archive: ``carewatch run`` holds a lock on the database while
it runs, and ``carewatch restore`` takes the same lock (so it refuses while a daemon runs, and a
daemon refuses to start in the middle of a restore).

The lock is ``fcntl.flock`` on a file beside the database, ``<db>.lock``, which holds the holder's
pid and what it is doing. Why flock on a file of our own rather than a pid file or the ``filelock``
package: the kernel releases a flock when its process ends, however it ends (kill -9, a crash,
the OOM killer), so there is never a stale lock to clean up, where a pid file cannot tell a live
holder from a dead one whose pid was reused; and ``filelock`` (not a carewatch dependency; it comes
only with tldextract) wraps the same call but has no way to say *who* holds the lock, which is what
the refusal must tell the operator ("another carewatch daemon (pid N) is running"). The lock file
is opened without truncating, so a refused process can read the holder's pid, and it is left in
place on release (removing it would let two processes lock different inodes).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from carewatch.core.errors import CarewatchError


class ArchiveBusy(CarewatchError):
    """Another carewatch process holds the archive's lock."""

    def __init__(self, message: str, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid


def lock_path(db_path: str | os.PathLike[str]) -> Path:
    p = Path(db_path)
    return p.with_name(p.name + ".lock")


def _holder(fd: int) -> tuple[int | None, str]:
    """The pid and the activity written in the lock file ('' when unreadable)."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return None, ""
    pid, _, what = text.partition(" ")
    return (int(pid) if pid.isdigit() else None), what


class ArchiveLock:
    """The archive's lock, held from :meth:`acquire` until :meth:`release` (or the process ends).

    ``what`` says what the holder is doing ("daemon", "restore"): the refusal names it."""

    def __init__(self, db_path: str | os.PathLike[str], what: str) -> None:
        self.db_path = Path(db_path)
        self.path = lock_path(db_path)
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> ArchiveLock:
        """Take the lock, or raise ArchiveBusy naming the process that has it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, what = _holder(fd)
            os.close(fd)
            who = f"another carewatch {what or 'process'} (pid {pid if pid is not None else '?'})"
            raise ArchiveBusy(
                f"{who} is running on {self.db_path}"
                + (f"; stop it first (kill {pid}, or systemctl stop carewatch)" if pid is not None else ""),
                pid,
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.what}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ArchiveLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
