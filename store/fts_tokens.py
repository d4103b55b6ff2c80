"""The archive's full-text tokenizer as a Python function: ``fts_tokens(text)`` gives the words
``articles_fts`` indexes for that text, in order, exactly as SQLite's FTS5 ``unicode61`` tokenizer
(the table's, with its defaults: case folded, diacritics removed) makes them.

The alert matcher verifies rules on each new article in memory and must agree with an FTS5 search
of the archive pair for pair, so it needs FTS5's own tokens. Python's sqlite3 module does not
expose FTS5's tokenizer API, and a second SQLite (apsw's bundled one) could be a different version
from the archive's. unicode61 decides each character on its own (a token character or a separator;
if a token character, what it folds to: a lower-case letter, the letter without its diacritic, or
nothing), so it is fully described by a table of characters. This module asks the archive's own
SQLite library for that table, one character the first time it is seen, by indexing it in a
scratch in-memory FTS5 table and reading the token back through ``fts5vocab``; then a text is
tokenized with a regular expression folding its other characters through the table, then
``bytes.translate`` and ``str.split`` for ASCII, both in C. tests/test_rule_index.py checks it
against FTS5 for every character of the planes with assigned ones, and on real news texts.
"""

from __future__ import annotations

import re
import sqlite3
import threading

_SEP = " "
_lock = threading.Lock()
# character -> what it becomes in a token ("" removed, " " a separator); filled as characters are met
_table: dict[int, str] = {}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def learn(chars: str) -> None:
    """Ask FTS5 what each of these characters becomes inside a word (each between two q's), in a
    scratch in-memory table of the tokenizer articles_fts has (the default)."""
    new = sorted({c for c in chars if ord(c) not in _table and c != "\x00"})
    if not new:
        return
    with _lock:
        db = sqlite3.connect(":memory:")
        try:
            db.execute("CREATE VIRTUAL TABLE probe USING fts5(x)")
            db.execute("CREATE VIRTUAL TABLE probe_words USING fts5vocab(probe, instance)")
            for i in range(0, len(new), 5000):
                batch = new[i : i + 5000]
                db.execute("DELETE FROM probe")
                db.executemany(
                    "INSERT INTO probe (rowid, x) VALUES (?, ?)", [(k, f"q{c}q") for k, c in enumerate(batch)]
                )
                got: dict[int, list[str]] = {}
                for doc, term in db.execute("SELECT doc, term FROM probe_words ORDER BY doc, offset"):
                    got.setdefault(doc, []).append(term)
                for k, c in enumerate(batch):
                    terms = got.get(k, [])
                    if terms == ["q", "q"]:
                        _table[ord(c)] = _SEP
                    elif len(terms) == 1 and len(terms[0]) >= 2 and terms[0][0] == "q" and terms[0][-1] == "q":
                        _table[ord(c)] = terms[0][1:-1]
                    else:  # not seen here: FTS5 splits on it some other way; treat it as a separator
                        _table[ord(c)] = _SEP
        finally:
            db.close()
    _table[0] = _SEP


def _fold(m: re.Match[str]) -> str:
    return _table[ord(m.group())]  # KeyError: a character not learnt yet (fts_tokens learns them all)


learn("".join(chr(i) for i in range(128)))
# learnt with the first text that has a character beyond ASCII: the Latin letters, punctuation and
# currency signs of European news, so one scratch table serves most texts to come
_LATIN = "".join(chr(i) for i in (*range(0x80, 0x250), *range(0x2000, 0x2070), *range(0x20A0, 0x20D0)))
_ASCII = bytes(ord(_table[i]) for i in range(128)) + bytes(range(128, 256))  # UTF-8's other bytes kept


def fts_tokens(text: str | None) -> list[str]:
    """The words FTS5 indexes for ``text`` (one column), in order."""
    if not text:
        return []
    if not text.isascii():
        try:
            text = _NON_ASCII.sub(_fold, text)
        except KeyError:  # characters met for the first time: asked of FTS5 together
            learn(_LATIN + "".join(set(_NON_ASCII.findall(text))))
            text = _NON_ASCII.sub(_fold, text)
    return text.encode().translate(_ASCII).decode().split()
