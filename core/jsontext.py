"""Dataclass fields that hold JSON text (a column stored as JSON), marked so that rendering the row
as JSON (``carewatch.ops.jsondata.json_data``, every ``--json``) gives the value itself, not a
string of JSON inside JSON: ``topics: str | None = field(metadata=JSON_TEXT)``."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

JSON_TEXT = MappingProxyType({"carewatch.json_text": True})  # the field metadata that marks one


def holds_json(field: dataclasses.Field) -> bool:
    return bool(field.metadata.get("carewatch.json_text"))
