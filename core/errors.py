"""The one error hierarchy. Every error names the object it is about (file, source, URL)."""

from __future__ import annotations


class CarewatchError(Exception):
    """Base class of every error carewatch raises on purpose."""


class ConfigError(CarewatchError):
    """A config file is missing, unreadable or invalid. The message names file, line and field."""


class SourceError(CarewatchError):
    """One source failed: never stops the others."""

    def __init__(self, source_id: str, url: str, message: str) -> None:
        super().__init__(f"{source_id}: {url}: {message}")
        self.source_id = source_id
        self.url = url


class StoreError(CarewatchError):
    """The database cannot be opened or written."""


class NotifyError(CarewatchError):
    """A digest could not be delivered."""
