"""Keyword phrases as regular expressions, shared by topic tagging and alert rules.

Hand-written because rules must say *why* they matched (the evidence shown to organisers): a
phrase matches case-insensitively on word boundaries, straight and curly apostrophes alike, any
run of spaces, and a trailing ``*`` matches any word ending (``privati*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + keyword_body(keyword) + r"(?!\w)", re.IGNORECASE)


def keyword_body(keyword: str) -> str:
    """The regular expression of a keyword phrase, without the word boundaries around it."""
    parts = []
    for word in keyword.strip().split():
        star = word.endswith("*")
        word = word.rstrip("*")
        esc = re.sub(r"\\?['’‘]", "['’‘]", re.escape(word))
        parts.append(esc + (r"\w*" if star else ""))
    return r"\s+".join(parts)


def any_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    keywords = list(keywords)
    if not keywords:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(keyword_body(k) for k in keywords) + r")(?!\w)", re.IGNORECASE)
