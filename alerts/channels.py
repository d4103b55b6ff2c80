"""Chat and webhook channels (Slack, Telegram, Matrix, Discord, JSON webhooks, ...) through apprise,
so carewatch writes no client of its own. Secrets stay out of the YAML: a channel URL may say
``${SLACK_TOKEN}`` and the value is read from the environment when sending."""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import urlsplit

from carewatch.core.errors import NotifyError

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand(url: str) -> str:
    def value(m: re.Match[str]) -> str:
        if m.group(1) not in os.environ:
            raise NotifyError(f"channel {redact(url)}: environment variable {m.group(1)} is not set")
        return os.environ[m.group(1)]

    return _VAR.sub(value, url)


def redact(url: str) -> str:
    """A channel URL fit to show: scheme and host only (tokens and passwords hidden)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}/…"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def send_apprise(url: str, title: str, body: str) -> None:
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(expand(url)):
        raise NotifyError(f"channel {redact(url)}: apprise does not understand this URL")
    handler = _Collect()
    log = logging.getLogger("apprise")
    log.addHandler(handler)
    try:
        ok = notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    finally:
        log.removeHandler(handler)
    if not ok:
        detail = "; ".join(handler.lines[-3:]) or "not delivered"
        raise NotifyError(f"channel {redact(url)}: {detail}")
