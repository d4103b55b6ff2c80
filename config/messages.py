"""Config errors in words: the one place where a validation error (pydantic's, cssselect's, PyYAML's)
becomes a sentence saying what is wrong, what is allowed and, for a typo, the nearest valid name.

config/load.py puts ``FILE:LINE: FIELD:`` in front of what these functions return; the validators in
config/schema.py call the ones that check one value (a time, a schedule, a CSS selector).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The valid name a typo most likely meant (difflib's ratio), or None when nothing is close."""
    found = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    near = nearest(word, choices)
    return f" (did you mean {near!r}?)" if near else ""


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation may hold: X | None, tuple[X, ...], dict[str, X], Annotated[X, ...]."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list, dict):
        args = typing.get_args(annotation)
        args = args[1:] if origin is dict else args
        return [t for a in args if a is not Ellipsis for t in _unwrap(a)]
    return [annotation]


def model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose keys are written at LOC (a pydantic error's path) in a file MODEL validates."""
    current: type[BaseModel] | None = model
    pending: list[Any] = []  # types a list index or a dict key steps into
    for part in loc:
        if isinstance(part, int):  # a list index: the list's item type is already in hand
            continue
        if pending:  # a dict key (a topic id, an entity id): step into the dict's value type
            current, pending = pending[0], []
            continue
        if current is None or part not in current.model_fields:
            return None
        types_ = _unwrap(current.model_fields[part].annotation)
        models = [t for t in types_ if isinstance(t, type) and issubclass(t, BaseModel)]
        dict_valued = typing.get_origin(current.model_fields[part].annotation) is dict
        current = None if dict_valued else (models[0] if models else None)
        pending = models if dict_valued else []
    return current


def unknown_key(key: str, allowed: Iterable[str]) -> str:
    allowed = sorted(allowed)
    return f"unknown key {key!r}{_did_you_mean(key, allowed)}; allowed here: {', '.join(allowed)}"


_PATTERNS = {  # the patterns config/schema.py uses, in words
    r"^[a-z0-9][a-z0-9_-]*$": "is not a valid id: use lower-case letters, digits, '-' and '_', "
    "starting with a letter or digit (e.g. 'ofsted-news')",
    r"^[^@\s]+@[^@\s]+$": "is not an email address (e.g. 'name@example.org')",
    r"^\d{4}-\d{2}-\d{2}$": "is not a date: write it as YYYY-MM-DD (e.g. '2024-04-01')",
}


def describe(error: dict[str, Any], model: type[BaseModel]) -> str:
    """One pydantic error of a file MODEL validates, in words."""
    kind, loc, msg = error["type"], tuple(error["loc"]), error["msg"]
    if kind == "extra_forbidden" and loc:
        parent = model_at(model, loc[:-1])
        if parent is not None:
            return unknown_key(str(loc[-1]), parent.model_fields)
        return f"unknown key {loc[-1]!r}"
    if kind == "string_pattern_mismatch" and (words := _PATTERNS.get((error.get("ctx") or {}).get("pattern", ""))):
        return f"{error.get('input')!r} {words}"
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", (error.get("ctx") or {}).get("expected", ""))
        value = error.get("input")
        if allowed:
            return f"{value!r} is not allowed here{_did_you_mean(str(value), allowed)}; allowed: {', '.join(allowed)}"
    return msg.removeprefix("Value error, ")


# -- single values ---------------------------------------------------------------------------
_CLOCK = re.compile(r"^\s*(\d{1,2})(?:\s*[:.h]\s*(\d{2}))?\s*([ap])\.?\s*m?\.?\s*$|^\s*(\d{1,2})[.h](\d{2})\s*$", re.I)


def clock_time(value: str) -> str:
    """A digest's ``at``: a 24-hour HH:MM; '7.30am', '7pm' or '7.30' are refused with what was meant."""
    if re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        return value
    hint = ""
    if m := _CLOCK.match(value):
        hour, minute = int(m[1] or m[4]), int(m[2] or m[5] or 0)
        if m[3] and 1 <= hour <= 12:
            hour = hour % 12 + (12 if m[3].lower() == "p" else 0)
        if hour < 24 and minute < 60:
            hint = f" (did you mean '{hour:02d}:{minute:02d}'?)"
    raise ValueError(f'{value!r} is not a time: write it as 24-hour HH:MM in quotes, e.g. "07:30" or "18:00"{hint}')


SCHEDULE_FORMS = (
    "'every' and a duration (every 30m, every 2h, every 1d; units s, m, h, d, w) or a cron line of five "
    "fields, minute hour day-of-month month day-of-week, in Europe/London (e.g. '0 7 * * 1-5')"
)


def schedule_problem(value: str) -> str | None:
    """What is wrong with a source's ``schedule`` (None: nothing), in the README's own terms."""
    from apscheduler.triggers.cron import CronTrigger

    if value.startswith("every"):
        m = re.fullmatch(r"every\s+(\d+)\s*([smhdw])", value.strip())
        if not m:
            return f"{value!r} is not a schedule: write {SCHEDULE_FORMS}"
        if int(m[1]) < 1:
            return f"{value!r} is not a schedule: the interval must be at least 1 ('every 1s')"
        return None
    fields = value.split()
    if len(fields) != 5:
        count = len(fields)
        return f"{value!r} is not a schedule: a cron line has five fields, this has {count}; write {SCHEDULE_FORMS}"
    try:
        CronTrigger.from_crontab(value)
    except ValueError as e:
        return f"{value!r} is not a valid cron line ({e}); write {SCHEDULE_FORMS}"
    return None


def css_problem(selector: str, pseudo_elements: bool = True) -> str | None:
    """What is wrong with a CSS selector (None: nothing). ``pseudo_elements``: checked as Scrapy reads
    it (parsel: also ``::text`` and ``::attr(name)``), else as lxml's cssselect (extraction) does."""
    from cssselect import SelectorError
    from parsel.csstranslator import HTMLTranslator

    try:
        if pseudo_elements:
            HTMLTranslator().css_to_xpath(selector)
        else:
            from lxml.cssselect import CSSSelector

            CSSSelector(selector)
    except (SelectorError, SyntaxError, ValueError) as e:
        unclosed = next(
            (f"a {o!r} is never closed with {c!r}" for o, c in ("[]", "()") if selector.count(o) > selector.count(c)),
            None,
        )
        if unclosed is None and (selector.count('"') % 2 or selector.count("'") % 2):
            unclosed = "a quote is never closed"
        why = unclosed or f"cssselect says: {e}"
        return f"{selector!r} is not a valid CSS selector: {why} (e.g. 'h2 a', 'a[href]', 'a.title::attr(href)')"
    return None


def apostrophe_hint(line: str, column: int) -> str | None:
    """PyYAML's "found '<scalar>'" where an apostrophe inside a '...' string ended it early (the
    likeliest mistake in a rule: '"children's trust" NEAR/5 budget'): what to write instead."""
    if 2 <= column < len(line) and line[column - 1] == "'" and line[column - 2].isalnum() and line[column].isalnum():
        start = max(line.rfind(" ", 0, column - 1), line.rfind('"', 0, column - 1), line.rfind("'", 0, column - 1)) + 1
        end = re.match(r"\w*", line[column:]).end() + column  # type: ignore[union-attr]
        word = line[start:end]
        return (
            f"the apostrophe in {word!r} ends the '...' text early; inside single quotes write an apostrophe "
            f"twice: {word.replace(chr(39), chr(39) * 2)}"
        )
    return None
