"""The service layer's typed results as JSON values: the one rendering every ``--json`` uses.

Dataclasses become objects (field by field, recursively), tuples and sets lists, paths and other
values json cannot write their text; a field marked ``core.jsontext.json_text()`` (a column stored
as JSON, like a digest's ``articles``) is decoded, so nested values are JSON values, never JSON
encoded in a string. Text in such a field that is not valid JSON is kept as the text, so that
nothing stored is lost from the output."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from carewatch.core.jsontext import holds_json


def json_data(value: Any) -> Any:
    """``value`` (a dataclass, a mapping, a sequence, or a scalar) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _field_value(f, getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): json_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_data(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _field_value(field: dataclasses.Field, value: Any) -> Any:
    if holds_json(field) and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return json_data(value)
