"""Structured logs: one JSON object per line (time, level, event and its fields), to standard error
and, when ``log_file`` is set, to a file rotated by size (logging's RotatingFileHandler)."""

from __future__ import annotations

import json
import logging
import logging.handlers
from datetime import UTC, datetime

from carewatch.config.schema import Settings

log = logging.getLogger("carewatch")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(settings: Settings) -> None:
    root = logging.getLogger("carewatch")
    root.setLevel(logging.INFO)
    root.propagate = False
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if settings.log_file:
        handlers.append(
            logging.handlers.RotatingFileHandler(
                settings.log_file,
                maxBytes=int(settings.log_max_mb * 2**20),
                backupCount=settings.log_backups,
                encoding="utf-8",
            )
        )
    for h in handlers:
        h.setFormatter(JsonLines())
        root.addHandler(h)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def event(name: str, level: int = logging.INFO, **fields: object) -> None:
    log.log(level, name, extra={"fields": fields})
