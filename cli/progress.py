"""Progress of the long verbs (crawl, tag --retag, reprocess), always on standard error, so standard
output stays the summary alone (``--json`` output parses).

On a terminal: a tqdm bar (counts, rate and, with a total, the time left). Elsewhere (a log, cron,
systemd): tqdm's carriage returns would be noise, so a plain line every ``every`` seconds (the
``progress_seconds`` setting) and one at the end, with the same counts and estimate, worded with
tqdm's own time format.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from tqdm import tqdm


class Progress:
    """``update(done, total, note)`` as work goes on; ``close()`` at the end (also as a context manager)."""

    def __init__(self, what: str, unit: str, every: float, stream: TextIO | None = None) -> None:
        self.what, self.unit, self.every = what, unit, every
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.last_line = self.started
        self.state: tuple[int, int | None, str] = (0, None, "")
        self.printed = False
        self.bar: tqdm | None = None
        if self.stream.isatty():
            try:
                size = os.get_terminal_size(self.stream.fileno())
                sized = size.columns > 0 and size.lines > 0
            except (OSError, ValueError):
                sized = False
            # a terminal that reports no size (a bare pty) would get no bar from tqdm: 80 by 24 then
            self.bar = tqdm(
                desc=what,
                unit=f" {unit}",
                file=self.stream,
                dynamic_ncols=sized,
                **({} if sized else {"ncols": 80, "nrows": 24}),
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        self.state = (done, total, note)
        if self.bar is not None:
            if total is not None and self.bar.total != total:
                self.bar.total = total
            if note:
                self.bar.set_postfix_str(note, refresh=False)
            self.bar.update(done - self.bar.n)
            return
        now = time.monotonic()
        if now - self.last_line >= self.every:
            self.last_line = now
            self._line()

    def line(self) -> str:
        """The plain progress line: counts, share, rate and time left."""
        done, total, note = self.state
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        text = f"{self.what}: {done:,}" + (f" of {total:,}" if total else "") + f" {self.unit}"
        if total:
            text += f" ({100 * done // total}%)"
        text += f", {tqdm.format_interval(elapsed)} elapsed"
        if total and rate > 0 and done < total:
            text += f", about {tqdm.format_interval((total - done) / rate)} left"
        return text + (f"; {note}" if note else "")

    def _line(self) -> None:
        print(self.line(), file=self.stream, flush=True)
        self.printed = True

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.printed or time.monotonic() - self.started >= self.every:
            self._line()  # the last count, when there was a line before it (or the work took that long)
