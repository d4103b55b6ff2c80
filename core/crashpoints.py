"""Named crash points for the fault-injection tests: ``CAREWATCH_CRASH_AT=after-send`` makes the
process kill itself (SIGKILL, as ``kill -9`` would) when it reaches the point of that name, so a test
can stop a real process at the worst moment and check what survives. ``NAME@N`` kills it the Nth
time it gets there (``after-article-commit@5``: five articles stored, then killed), so a crash can
land in the middle of a run. A no-op otherwise.

The points: ``after-queue`` and ``after-send`` (alerts/outbox.py: a digest recorded but not sent;
sent but not marked sent), ``mid-pipeline`` (store/pipeline.py: an article through every pipeline
stage, not yet stored), ``mid-article-write`` (store/articles.py: the article row inserted, its
topics, bands, capture and story not yet, the transaction open), ``before-article-match``
(store/articles.py: the article stored, its alert matches not yet, the transaction open) and
``after-article-commit`` (store/pipeline.py: an article committed, the next item not begun)."""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def crash_point(name: str) -> None:
    target, _, nth = os.environ.get("CAREWATCH_CRASH_AT", "").partition("@")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
