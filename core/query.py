"""The query language of topic rules and alert rules: words, "phrases", prefix*, AND / OR / NOT,
brackets, NEAR/n, and field filters (``topic:funding``, ``source:ofsted-news``, ``entity:ofsted``,
``relevant:yes``).

    budget* NEAR/8 (children OR "social care") AND NOT "adult social care"

Precedence, tightest first: NOT, NEAR/n, AND (also two terms side by side), OR. Matching is
case-insensitive on words: a possessive 's is dropped (children's = children), other apostrophes too,
and hyphens split words
(looked-after = "looked after"). A hit records where it matched (word positions), so a tag or an
alert can say why it fired.

Parsed with pyparsing (its ``infix_notation``); evaluated here over a word index of the document,
because no maintained library evaluates a boolean/proximity query against one in-memory text with
positions (FTS5 does it over a whole table, which is what the alert benchmark compares against).
"""

from __future__ import annotations

import abc
import bisect
import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import pyparsing as pp

_WORD = re.compile(r"[£$€]?\w+(?:['’]\w+)*")


_POSSESSIVE = re.compile(r"['’]s$")


def words(text: str) -> list[str]:
    """Lower-cased words of a text as queries see them: a possessive 's dropped (Birmingham's =
    Birmingham), other apostrophes dropped (don't = dont), hyphens splitting words."""
    return [_POSSESSIVE.sub("", w).replace("'", "").replace("’", "") for w in _WORD.findall(text.lower())]


class QueryError(ValueError):
    """A query that cannot be parsed: says what is wrong and at which column."""

    def about(self, query: str) -> str:
        """The message with the query it is about, for a reader who typed it."""
        return f"{query!r}: {self}"


@dataclass
class Document:
    """A text indexed for queries: word positions, and facts for field filters."""

    text: str
    facts: dict[str, set[str]] = field(default_factory=dict)  # e.g. {"topic": {...}, "source": {...}}

    def __post_init__(self) -> None:
        self.tokens = words(self.text)
        surface = _WORD.findall(self.text)  # the words as written, for evidence a reader recognises
        self.surface = surface if len(surface) == len(self.tokens) else self.tokens
        self.positions: dict[str, list[int]] = {}
        for i, w in enumerate(self.tokens):
            self.positions.setdefault(w, []).append(i)
        self.vocabulary = sorted(self.positions)

    def prefixed(self, prefix: str) -> list[str]:
        i = bisect.bisect_left(self.vocabulary, prefix)
        out = []
        while i < len(self.vocabulary) and self.vocabulary[i].startswith(prefix):
            out.append(self.vocabulary[i])
            i += 1
        return out

    def where(self, parts: tuple[str, ...]) -> list[int]:
        """Start positions of a sequence of words (a trailing * on a word: any ending)."""

        def at(part: str) -> list[int]:
            if part.endswith("*"):
                return sorted(p for w in self.prefixed(part[:-1]) for p in self.positions[w])
            return self.positions.get(part, [])

        starts = at(parts[0])
        for k, part in enumerate(parts[1:], 1):
            if not starts:
                break
            nxt = set(at(part))
            starts = [s for s in starts if s + k in nxt]
        return starts


Hit = tuple[str, int, int]  # (the query term, first word, last word)


@dataclass(frozen=True)
class Result:
    matched: bool
    hits: tuple[Hit, ...] = ()


class Node(abc.ABC):
    @abc.abstractmethod
    def evaluate(self, doc: Document) -> Result:
        """Whether the document satisfies this node, and where."""

    def fields(self) -> list[tuple[str, str]]:
        return []


@dataclass(frozen=True)
class Term(Node):
    text: str  # as written
    parts: tuple[str, ...]

    def evaluate(self, doc: Document) -> Result:
        n = len(self.parts)
        hits = tuple((self.text, s, s + n - 1) for s in doc.where(self.parts))
        return Result(bool(hits), hits)


@dataclass(frozen=True)
class Field(Node):
    name: str
    value: str

    def evaluate(self, doc: Document) -> Result:
        if self.name == "exact":  # the word as written, capitals included: exact:SEND is not "send"
            hits = tuple(
                (f"exact:{self.value}", i, i)
                for i in doc.positions.get(self.value.lower(), ())
                if _POSSESSIVE.sub("", doc.surface[i]) == self.value
            )
            return Result(bool(hits), hits)
        values = doc.facts.get(self.name, set())
        if self.name == "relevant":
            return Result((self.value in ("yes", "true", "1")) == bool(values & {"yes"}))
        return Result(self.value in values)

    def fields(self) -> list[tuple[str, str]]:
        return [(self.name, self.value)]


@dataclass(frozen=True)
class Not(Node):
    child: Node

    def evaluate(self, doc: Document) -> Result:
        return Result(not self.child.evaluate(doc).matched)

    def fields(self) -> list[tuple[str, str]]:
        return self.child.fields()


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]

    def evaluate(self, doc: Document) -> Result:
        hits: list[Hit] = []
        for c in self.children:
            r = c.evaluate(doc)
            if not r.matched:
                return Result(False)
            hits.extend(r.hits)
        return Result(True, tuple(hits))

    def fields(self) -> list[tuple[str, str]]:
        return [f for c in self.children for f in c.fields()]


@dataclass(frozen=True)
class Or(And):
    def evaluate(self, doc: Document) -> Result:
        hits: list[Hit] = []
        matched = False
        for c in self.children:
            r = c.evaluate(doc)
            matched |= r.matched
            hits.extend(r.hits)
        return Result(matched, tuple(hits) if matched else ())


@dataclass(frozen=True)
class Near(Node):
    left: Node
    right: Node
    distance: int

    def evaluate(self, doc: Document) -> Result:
        a, b = self.left.evaluate(doc), self.right.evaluate(doc)
        if not (a.hits and b.hits):
            return Result(False)
        hits: set[Hit] = set()
        for x in a.hits:
            for y in b.hits:
                gap = max(y[1] - x[2], x[1] - y[2]) - 1
                if gap <= self.distance:
                    hits.update((x, y))
        return Result(bool(hits), tuple(sorted(hits, key=lambda h: h[1])))

    def fields(self) -> list[tuple[str, str]]:
        return self.left.fields() + self.right.fields()


FIELDS = ("topic", "source", "entity", "relevant", "kind", "committee", "exact")
RELEVANT_VALUES = ("yes", "no", "true", "false", "1", "0")
# kind: what an archive entry is (articles.kind), or an agenda item of a meeting (the digests'
# "Coming up": alerts.calendar)
KINDS = ("html", "pdf", "document", "feed-entry", "meeting")


def committee_facts(committee: str | None) -> tuple[str, ...]:
    """The ``committee:`` values a committee answers to: its whole name as one lower-case
    hyphenated word (``committee:corporate-parenting-board``), and each word of it
    (``committee:cabinet``, ``committee:scrutiny``)."""
    words = re.findall(r"[a-z0-9]+", (committee or "").lower().replace("'", "").replace("’", ""))
    if not words:
        return ()
    return tuple(dict.fromkeys(["committee:" + "-".join(words), *(f"committee:{w}" for w in words)]))


_PLURAL = {"topic": "topics", "source": "sources", "entity": "entities", "field": "fields", "kind": "kinds"}


def unknown_name(kind: str, name: str, valid: Iterable[str], where: str | None = None) -> str:
    """The message for a name that is not one of ``valid``: the nearest ones suggested (difflib), all
    of them listed. Every check of a name in a query says it this way (``check_names``, the grammar)."""
    known = sorted(set(valid))
    near = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    near += [k for k in known if name in k and k not in near][: 3 - len(near)]  # bbc: bbc-birmingham
    hint = f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""
    listed = ", ".join(known) if known else "none are configured"
    in_query = f" in {where!r}" if where else ""
    return f"unknown {kind} {name!r}{in_query} ({hint}the {_PLURAL.get(kind, kind + 's')} are: {listed})"


class UnknownName(QueryError):
    """A query naming a topic, source, entity or field that does not exist."""

    def about(self, query: str) -> str:
        return str(self)  # the message quotes the query (or the filter) already


def check_names(query: str, names: Mapping[str, Collection[str]], exact: bool = False) -> None:
    """UnknownName for the first ``topic:``/``source:``/``entity:`` value of the query that is not in
    ``names[field]`` (the config's topics, sources.yaml's ids, entities.yaml's ids:
    config.schema.query_names), and for ``exact:`` unless ``exact`` (it is for the tagging rules of
    topics.yaml and entities.yaml: searches and alert rules run over the archive's full-text index,
    which does not keep capitals); QueryError when it does not parse. The one check of the names in a
    query: config check, ``alerts test``, ``search`` and the web search all call it."""
    for name, value in parse(query).fields():
        if name == "exact" and not exact:
            raise UnknownName(
                f"{query!r}: exact:{value} is for topics.yaml and entities.yaml only; a search or alert rule "
                "matches words whatever their capitals (write the word alone)"
            )
        if name in names and value not in names[name]:
            raise UnknownName(unknown_name(name, value, names[name], query))


def _grammar() -> pp.ParserElement:
    word_chars = pp.alphanums + "_$*'’-"  # and*, or-else, not's: words, not operators
    AND, OR, NOT = (pp.CaselessKeyword(k, ident_chars=word_chars) for k in ("AND", "OR", "NOT"))
    near = pp.Regex(r"NEAR(?:/(\d+))?(?![\w'’*-])", re.IGNORECASE)  # not the start of nearly, near-miss, near*
    keyword = AND | OR | NOT | near
    quoted = (pp.QuotedString('"') | pp.QuotedString("“", end_quote_char="”")).set_name("phrase")
    # any name: a colon after a word is a field filter, so a misspelt field is named (field_filter)
    field_op = pp.Regex(r"[A-Za-z_]\w*:[\w.-]*").set_name("field:value")
    word = (~keyword + pp.Regex(r"[£$€][\w'’-]*\*?|[\w'’-]+\*?")).set_name("word")

    def term(s: str, loc: int, toks: pp.ParseResults | list[str]) -> Node:
        raw = toks[0]
        if raw[:1] in "£$€" and raw.rstrip("*") == raw[:1]:
            return Term(raw, (raw[:1] + "*",) if raw.endswith("*") else (raw[:1],))  # £* : any sum of money
        parts = tuple(p for p in words(raw.rstrip("*")) if p)
        if not parts:
            raise pp.ParseException(s, loc, f"empty term {raw!r}")
        if raw.endswith("*"):
            parts = parts[:-1] + (parts[-1] + "*",)
        return Term(raw, parts)

    def field_filter(s: str, loc: int, toks: pp.ParseResults) -> Node:
        name, value = toks[0].split(":", 1)
        name, value = name.lower(), value if name.lower() == "exact" else value.lower()
        if name not in FIELDS:
            raise UnknownName(unknown_name("field", name, FIELDS, toks[0]))
        if not value:
            raise QueryError(f"{toks[0]!r} needs a value after the colon ({name}:ID)")
        if name == "relevant" and value not in RELEVANT_VALUES:
            raise QueryError(f"{toks[0]!r}: relevant: takes yes or no")
        if name == "kind" and value not in KINDS:
            raise UnknownName(unknown_name("kind", value, KINDS, toks[0]))
        return Field(name, value)

    operand = (
        field_op.copy().set_parse_action(field_filter)
        | quoted.copy().set_parse_action(lambda s, loc, t: term(s, loc, [f"{t[0]}"]))
        | word.copy().set_parse_action(term)
    )

    def near_action(toks: pp.ParseResults) -> Node:
        items = toks[0]
        node = items[0]
        for i in range(1, len(items), 2):
            m = re.fullmatch(r"NEAR(?:/(\d+))?", items[i], re.IGNORECASE)
            node = Near(node, items[i + 1], int(m.group(1)) if m and m.group(1) else 10)
        return node

    return pp.infix_notation(
        operand,
        [
            (NOT, 1, pp.OpAssoc.RIGHT, lambda t: Not(t[0][1])),
            (near, 2, pp.OpAssoc.LEFT, near_action),
            (
                AND | (pp.Empty() + ~OR + ~near + ~pp.Literal(")") + ~pp.StringEnd()),
                2,
                pp.OpAssoc.LEFT,
                lambda t: And(tuple(x for x in t[0] if isinstance(x, Node))),
            ),
            (OR, 2, pp.OpAssoc.LEFT, lambda t: Or(tuple(x for x in t[0] if isinstance(x, Node)))),
        ],
    )


_PARSER = _grammar()


@lru_cache(maxsize=4096)
def parse(query: str) -> Node:
    """The query's tree; QueryError saying what is wrong and where."""
    if not query or not query.strip():
        raise QueryError("empty query")
    if query.count("(") != query.count(")"):
        raise QueryError(f"unbalanced brackets: {query.count('(')} '(' and {query.count(')')} ')'")
    if query.count('"') % 2:
        raise QueryError('unbalanced quotes: an odd number of "')
    try:
        return _PARSER.parse_string(query, parse_all=True)[0]
    except pp.ParseBaseException as e:
        raise QueryError(
            f"cannot read the query at column {e.col}: {e.msg} (near {query[e.loc : e.loc + 20]!r})"
        ) from None


def matches(query: str, doc: Document) -> Result:
    return parse(query).evaluate(doc)
