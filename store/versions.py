"""What changed between two versions of an article: a word-level diff, and the share of words
changed (spacing and punctuation alone change nothing). difflib does the matching."""

from __future__ import annotations

import difflib
import re

MAX_DIFF_CHARS = 4000


def _words(text: str) -> list[str]:
    return re.findall(r"\w+(?:['’]\w+)*|[^\w\s]", text or "")


def word_diff(old: str, new: str) -> tuple[float, str]:
    """(share of words changed, the diff as lines '- removed words' / '+ added words')."""
    a, b = _words(old), _words(new)
    a_cmp = [w.casefold() for w in a if w[0].isalnum()]
    b_cmp = [w.casefold() for w in b if w[0].isalnum()]
    matcher = difflib.SequenceMatcher(None, a_cmp, b_cmp, autojunk=False)
    changed = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal")
    share = changed / max(1, len(a_cmp), len(b_cmp))
    lines = []
    wa = [w for w in a if w[0].isalnum()]
    wb = [w for w in b if w[0].isalnum()]
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            lines.append("- " + " ".join(wa[i1:i2]))
        if op in ("insert", "replace"):
            lines.append("+ " + " ".join(wb[j1:j2]))
    diff = "\n".join(lines)
    return share, diff[:MAX_DIFF_CHARS] + ("…" if len(diff) > MAX_DIFF_CHARS else "")
