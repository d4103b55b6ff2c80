"""Named crash points for the fault-injection tests: ``CAREWATCH_CRASH_AT=after-smtp`` makes the
process kill itself (SIGKILL, as ``kill -9`` would) when it reaches the point of that name, so a test
can stop a real process at the worst moment and check what survives. A no-op otherwise."""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("CAREWATCH_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
