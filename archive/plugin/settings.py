"""The plugin's settings (``plugins: carewatch-archive:`` in the metadata archive/serve.py writes)."""

from __future__ import annotations

from typing import Any

PLUGIN = "carewatch-archive"


def settings(datasette: Any) -> dict:
    return datasette.plugin_config(PLUGIN) or {}


def private_tables(datasette: Any) -> frozenset[str]:
    """The tables the public database may not show (subscribers and what they were sent)."""
    return frozenset(settings(datasette).get("private_tables") or ())
