"""Ofsted inspection reports: the overall judgement, the inspection dates, the authority and the
publication date, read from the report's text.

Hand-written because no library reads Ofsted reports: the patterns below cover the layouts
seen in Birmingham's reports (the 2014/2016 single inspection framework, whose judgement is a
sentence, and the 2018+ ILACS framework, whose judgement is a table row).
"""

from __future__ import annotations

import re
from datetime import datetime

GRADES = ("Requires improvement to be good", "Requires improvement", "Inadequate", "Good", "Outstanding")
_GRADE = "|".join(GRADES)
_JUDGEMENT = [
    re.compile(rf"Overall effectiveness\s+({_GRADE})", re.I),
    re.compile(rf"overall judgement is\s+({_GRADE})", re.I),
    re.compile(r"services in [A-Z][\w ]{2,40}? are (inadequate|good|outstanding|requiring improvement)", re.I),
]
_DATES = re.compile(
    r"Inspection dates?:\s*(.{6,80}?\d{4})(?=\s+(?:Report published|Lead inspector|Judgement|The overall|Children))"
)
_PUBLISHED = re.compile(r"Report published:\s*(\d{1,2}\s+[A-Z][a-z]+\s+\d{4})")
_AUTHORITY = [
    re.compile(r"Inspection of ([A-Z][\w’' ]{2,60}?) local authority"),
    re.compile(r"^(?:\d+\s+)?([A-Z]\w+(?: [A-Z]\w+)*? (?:City |County |Borough |Metropolitan Borough )?Council)\b"),
    re.compile(r"^(?:\d+\s+)?([A-Z]\w+(?: [A-Z]\w+)?) (?:Re-)?[Ii]nspection\b"),
]


def _grade(word: str) -> str:
    word = word.lower()
    if word == "requiring improvement":
        return "Requires improvement"
    return next(g for g in GRADES if g.lower() == word)


def report_fields(text: str) -> dict[str, str] | None:
    """The fields of an Ofsted inspection report, or None when the text is not one."""
    flat = " ".join(text.split())
    if not re.search(r"Inspection dates?:", flat[:3000]):
        return None
    out: dict[str, str] = {}
    for pattern in _JUDGEMENT:
        if m := pattern.search(flat):
            out["judgement"] = _grade(m.group(1))
            break
    if m := _DATES.search(flat[:3000]):
        out["inspection_dates"] = m.group(1).replace("–", "to").replace("—", "to").replace("  ", " ")
    if m := _PUBLISHED.search(flat[:3000]):
        out["published"] = datetime.strptime(m.group(1), "%d %B %Y").date().isoformat()
    for pattern in _AUTHORITY:
        if m := pattern.search(flat[:400]):
            out["authority"] = m.group(1).strip()
            break
    return out or None
