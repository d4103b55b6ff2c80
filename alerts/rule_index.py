"""Every subscriber's rules in one index, so a new article is analysed once and wakes only the rules
it could match: a stored-query engine in the manner of Lucene's Monitor (Luwak) and the
Elasticsearch percolator, reduced to what carewatch's rule language needs.

- **Presearch.** Each rule is reduced to the terms one of which an article must contain for the
  rule to match (``anchors``): a word, a prefix (``budget*``), or a fact beside the text
  (``topic:funding``, ``source:…``, ``entity:…``, ``relevant:…``). For OR every branch is needed; for
  AND the cheapest branch is enough (the one whose terms the fewest archived articles contain, as
  FTS5's own vocabulary counts them, else the longest words); a phrase or NEAR is filed under its
  rarest word; NOT is never an anchor (a rule that is all NOT is checked on every article). The
  index maps word → rules, prefix → rules (the prefixes in one Aho-Corasick automaton,
  pyahocorasick, run once over the article's words) and fact → rules.
- **Verification.** Each candidate rule is checked exactly on the article's own tokens and
  positions: FTS5's tokens (store.fts_tokens: the archive's tokenizer, so the result is FTS5's for
  every rule FTS5 can express), the headline and the text as two columns as ``articles_fts`` has
  them (a phrase or NEAR never spans the two), NEAR/n as FTS5 counts it (at most n words between
  the end of one phrase and the start of the other). A rule whose anchors are all it says (one
  word, a prefix, an OR of them, a fact) needs no check. Sub-results (a phrase's places, a prefix)
  are kept per article, so the rules sharing them pay once.

Written here rather than taken from a library: the stored-query engines that exist are Java
(Lucene Monitor) or a search server (Elasticsearch), and the Python ones (e.g. pyahocorasick) find
strings, not boolean and proximity queries over a tokenised text; the dictionaries here are what
they would be built on. Rules are compiled once (``RuleIndex.sync`` adds and drops only the
subscribers whose rules changed) and kept for the process's life.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import ahocorasick

from carewatch.core.query import And, Field, Near, Node, Not, Or, Term, parse
from carewatch.store.fts_tokens import fts_tokens

COLUMN = 1 << 32  # a position is column * COLUMN + offset: positions of two columns are never near
Key = tuple[str, str]  # ("w", word) | ("p", prefix) | ("f", "topic:funding")


class ArticleTerms:
    """An article as the rule index reads it: FTS5's tokens of its headline and text, their
    vocabulary, and its facts (``topic:x``, ``entity:x``, ``source:x``, ``relevant:yes|no``).

    Each column is also kept as one string, its tokens between single spaces, so a phrase is a
    substring search (``" a b "``; a prefix phrase ``" a b"``) done in C, and its places are
    found the same way and numbered by the spaces before them. Its word pairs (each word and the
    next, in one column) are made the first time a phrase is checked: a two-word phrase is then one
    set lookup. ``prefixes``: the prefixes of the index's rules the article's words start, when
    the index has looked (RuleIndex.candidates), so a prefix is a set lookup too."""

    __slots__ = ("vocab", "facts", "title", "text", "words", "prefixes", "_pairs", "_memo")

    def __init__(self, title: str | None, text: str | None, facts: Iterable[str] = ()) -> None:
        title_words, text_words = fts_tokens(title), fts_tokens(text)
        self.words = (title_words, text_words)
        self.vocab = set(text_words)
        self.vocab.update(title_words)
        self.facts = frozenset(facts)
        self.title = " " + " ".join(title_words) + " "
        self.text = " " + " ".join(text_words) + " "
        self.prefixes: set[str] | None = None
        self._pairs: set[tuple[str, str]] | None = None
        self._memo: dict = {}

    def pairs(self) -> set[tuple[str, str]]:
        if self._pairs is None:
            title, text = self.words
            self._pairs = set(zip(text, text[1:]))
            self._pairs.update(zip(title, title[1:]))
        return self._pairs

    def has_prefix(self, prefix: str) -> bool:
        if self.prefixes is not None:
            return prefix in self.prefixes
        needle = " " + prefix
        return needle in self.text or needle in self.title

    def starts(self, words: tuple[str, ...], prefix: bool) -> list[int]:
        """Where the phrase starts, in order: column * COLUMN + the word's place in it."""
        key = (words, prefix)
        got = self._memo.get(key)
        if got is not None:
            return got
        needle = phrase_needle(words, prefix)
        out = []
        for col, joined in enumerate((self.title, self.text)):
            at = joined.find(needle)
            place, counted = 0, 0
            while at >= 0:
                place += joined.count(" ", counted, at)  # the spaces before it: the words before it
                counted = at
                out.append(col * COLUMN + place)
                at = joined.find(needle, at + 1)
        self._memo[key] = out
        return out


def term_words(term: Term) -> tuple[tuple[str, ...], bool]:
    """A term as FTS5 reads it: the words of its text (FTS5's tokens; none for e.g. "£") and
    whether its last word is a prefix (``budget*``)."""
    return tuple(fts_tokens(term.text.rstrip("*"))), term.text.endswith("*")


def terms_of(node: Node) -> Iterator[Term]:
    """Every term of a rule, NOT-ed ones and those inside NEAR included (field filters are not terms)."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, Not):
        yield from terms_of(node.child)
    elif isinstance(node, Near):
        yield from terms_of(node.left)
        yield from terms_of(node.right)
    elif isinstance(node, And):  # Or too
        for child in node.children:
            yield from terms_of(child)


def one_word_prefixes(node: Node) -> set[str]:
    """The one-word prefixes (``budget*``) of a rule, as FTS5 tokenizes them."""
    out = set()
    for term in terms_of(node):
        words, prefix = term_words(term)
        if prefix and len(words) == 1:
            out.add(words[0])
    return out


def phrase_needle(words: tuple[str, ...], prefix: bool) -> str:
    """What a phrase is in an article's column string: its words between single spaces, the last
    one open when it is a prefix."""
    return " " + " ".join(words) + ("" if prefix else " ")


@dataclass(frozen=True)
class Compiled:
    """A rule (or part of one), compiled: ``test`` says whether an article satisfies it; ``anchors``
    are the terms one of which it needs (None: it can match without any; empty: it never matches);
    ``exact``: containing an anchor is matching; ``spans``: where it matched, for a NEAR around it
    (None: it has no places, as a filter or a NOT)."""

    test: Callable[[ArticleTerms], bool]
    anchors: frozenset[Key] | None
    exact: bool = False
    spans: Callable[[ArticleTerms], list[tuple[int, int]]] | None = None
    verify: Callable[[ArticleTerms], bool] | None = None  # the test of a candidate, when less than ``test``


def _all(tests: list[Callable[[ArticleTerms], bool]]) -> Callable[[ArticleTerms], bool]:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda d: a(d) and b(d)
    if len(tests) == 3:
        a, b, c = tests
        return lambda d: a(d) and b(d) and c(d)
    return lambda d: all(t(d) for t in tests)


def _any(tests: list[Callable[[ArticleTerms], bool]]) -> Callable[[ArticleTerms], bool]:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda d: a(d) or b(d)
    if len(tests) == 3:
        a, b, c = tests
        return lambda d: a(d) or b(d) or c(d)
    return lambda d: any(t(d) for t in tests)


def _never(doc: ArticleTerms) -> bool:
    return False


def _no_spans(doc: ArticleTerms) -> list[tuple[int, int]]:
    return []


class Compiler:
    """Compiles rule trees; ``cost`` estimates how many articles contain a term (lower: rarer)."""

    def __init__(self, cost: Callable[[Key], float]) -> None:
        self.cost = cost

    def _cheapest(self, options: list[frozenset[Key]]) -> frozenset[Key]:
        return min(options, key=lambda keys: sum(self.cost(k) for k in keys))

    def term(self, node: Term) -> Compiled:
        words, prefix = term_words(node)
        n = len(words)
        if not words:  # FTS5 finds nothing for a phrase without a word (e.g. "£")
            return Compiled(_never, frozenset(), False, _no_spans)

        def spans(doc: ArticleTerms) -> list[tuple[int, int]]:
            return [(s, s + n - 1) for s in doc.starts(words, prefix)]

        needle = phrase_needle(words, prefix)
        if n == 1:
            (w,) = words
            if prefix:
                return Compiled(lambda d: d.has_prefix(w), frozenset({("p", w)}), True, spans)
            return Compiled(lambda d: w in d.vocab, frozenset({("w", w)}), True, spans)
        fixed = words[:-1] if prefix else words
        rarest = min(fixed, key=lambda w: self.cost(("w", w)))
        anchors = frozenset({("w", rarest)})
        if n == 2 and not prefix:
            pair = (words[0], words[1])
            return Compiled(lambda d: pair in d.pairs(), anchors, False, spans)
        pairs = tuple(zip(fixed, fixed[1:]))  # each pair of the phrase's words must be there first

        def phrase(d: ArticleTerms) -> bool:
            have = d.pairs()
            return all(p in have for p in pairs) and (needle in d.text or needle in d.title)

        return Compiled(phrase, anchors, False, spans)

    def fact(self, node: Field) -> Compiled:
        if node.name == "relevant":
            value = "yes" if node.value in ("yes", "true", "1") else "no"
            fact = f"relevant:{value}"
        else:
            fact = f"{node.name}:{node.value}"
        return Compiled(lambda d: fact in d.facts, frozenset({("f", fact)}), True, None)

    def compile(self, node: Node) -> Compiled:
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Field):
            return self.fact(node)
        if isinstance(node, Not):
            inner = self.compile(node.child).test
            return Compiled(lambda d: not inner(d), None, False, None)
        if isinstance(node, Near):
            return self.near(node)
        if isinstance(node, Or):  # before And: Or is a subclass of it
            parts = [self.compile(c) for c in node.children]
            tests = [p.test for p in parts]
            branches = [p.anchors for p in parts]
            anchors = None
            if all(b is not None for b in branches):
                anchors = frozenset(k for b in branches if b is not None for k in b)
            return Compiled(_any(tests), anchors, all(p.exact for p in parts), _union_spans(parts))
        if isinstance(node, And):
            parts = [self.compile(c) for c in node.children]
            tests = [p.test for p in parts]
            options = [p.anchors for p in parts if p.anchors is not None]
            spanned = [p.spans for p in parts]

            def and_spans(d: ArticleTerms) -> list[tuple[int, int]]:
                if not all(t(d) for t in tests):
                    return []
                return sorted(s for f in spanned if f is not None for s in f(d))

            anchors = self._cheapest(options) if options else None
            # a candidate has the anchor: when the branch it comes from is exact, that branch holds
            anchored = next((p for p in parts if p.anchors is anchors and p.exact), None)
            rest = [p.test for p in parts if p is not anchored]
            return Compiled(
                _all(tests), anchors, len(parts) == 1 and parts[0].exact, and_spans, _all(rest) if rest else None
            )
        raise TypeError(f"cannot compile {node!r}")

    def near(self, node: Near) -> Compiled:
        left, right, n = self.compile(node.left), self.compile(node.right), node.distance
        options = [a for a in (left.anchors, right.anchors) if a is not None]
        anchors = self._cheapest(options) if options else None
        if isinstance(node.left, Term) and isinstance(node.right, Term):
            return self._fts_near(node.left, node.right, n, left, right, anchors)
        ls, rs = left.spans or _no_spans, right.spans or _no_spans

        def spans(d: ArticleTerms) -> list[tuple[int, int]]:  # NEAR around a bracket: FTS5 has none
            a, b = ls(d), rs(d)
            out: set[tuple[int, int]] = set()
            for x in a:
                for y in b:
                    if max(y[0] - x[1], x[0] - y[1]) - 1 <= n:
                        out.update((x, y))
            return sorted(out)

        return Compiled(lambda d: bool(spans(d)), anchors, False, spans)

    def _fts_near(
        self, a: Term, b: Term, n: int, left: Compiled, right: Compiled, anchors: frozenset[Key] | None
    ) -> Compiled:
        """FTS5's NEAR of two phrases: starts sa, sb; the one starting later begins at most n words
        after the end of the other (a phrase with no words drops out, leaving the other alone)."""
        (wa, pa), (wb, pb) = term_words(a), term_words(b)
        if not wa or not wb:
            return right if not wa else left
        la, lb = len(wa), len(wb)

        def pairs(d: ArticleTerms) -> list[tuple[int, int]]:
            xs = d.starts(wa, pa)
            if not xs:
                return []
            ys = d.starts(wb, pb)
            out: set[tuple[int, int]] = set()
            for x in xs:
                for y in ys:
                    if (y - x - la if y >= x else x - y - lb) <= n:
                        out.update(((x, x + la - 1), (y, y + lb - 1)))
            return sorted(out)

        return Compiled(lambda d: bool(pairs(d)), anchors, False, pairs)


def _union_spans(parts: list[Compiled]) -> Callable[[ArticleTerms], list[tuple[int, int]]]:
    def spans(d: ArticleTerms) -> list[tuple[int, int]]:
        return sorted(s for p in parts if p.spans is not None and p.test(d) for s in p.spans(d))

    return spans


def length_cost(key: Key) -> float:
    """Without counts from the archive: longer words are rarer (Lucene Monitor's default), a prefix
    wider than the word it starts, a fact common."""
    kind, value = key
    if kind == "w":
        return 1000 / max(1, len(value))
    if kind == "p":
        return 4000 / max(1, len(value))
    return 800


@dataclass
class _Rule:
    text: str
    compiled: Compiled
    prefixes: set[str]  # its one-word prefixes, all in the index's automaton
    owners: list[tuple[str, int]] = field(default_factory=list)  # (subscriber, the rule's place in its list)


class RuleIndex:
    """The rules of every subscriber, filed under their anchors. ``sync`` brings it up to date with
    a set of subscribers (their rules by id); ``matching`` gives the rules an article satisfies."""

    def __init__(self, cost: Callable[[Key], float] = length_cost) -> None:
        self.compiler = Compiler(cost)
        self.rules: dict[int, _Rule] = {}
        self.checks: dict[int, tuple[_Rule, Callable[[ArticleTerms], bool] | None]] = {}  # None: no check
        self.by_text: dict[str, int] = {}
        self.by_word: dict[str, list[int]] = defaultdict(list)
        self.by_prefix: dict[str, list[int]] = defaultdict(list)
        self._prefixes: ahocorasick.Automaton | None = None  # every rule's prefixes, built when first needed
        self.prefix_uses: dict[str, int] = defaultdict(int)  # prefix -> the rules that have it
        self.by_fact: dict[str, list[int]] = defaultdict(list)
        self.always: list[int] = []
        self.subscribers: dict[str, tuple[str, ...]] = {}  # id -> its rules, as filed
        self._next = 0

    def __len__(self) -> int:
        return len(self.rules)

    def _postings(self, kind: str) -> dict[str, list[int]]:
        return {"w": self.by_word, "p": self.by_prefix, "f": self.by_fact}[kind]

    def _file(self, text: str, tree: Node | None = None) -> int:
        rid = self.by_text.get(text)
        if rid is not None:
            return rid
        tree = tree or parse(text)
        compiled = self.compiler.compile(tree)
        rid = self._next
        self._next += 1
        self.rules[rid] = rule = _Rule(text, compiled, one_word_prefixes(tree))
        self.checks[rid] = (rule, None if compiled.exact else compiled.verify or compiled.test)
        self.by_text[text] = rid
        for p in rule.prefixes:
            self.prefix_uses[p] += 1
            self._prefixes = None
        if compiled.anchors is None:
            self.always.append(rid)
        else:
            for kind, value in compiled.anchors:
                self._postings(kind)[value].append(rid)
        return rid

    def _unfile(self, rid: int) -> None:
        rule = self.rules.pop(rid)
        del self.checks[rid]
        del self.by_text[rule.text]
        for p in rule.prefixes:
            self.prefix_uses[p] -= 1
            if not self.prefix_uses[p]:
                del self.prefix_uses[p]
                self._prefixes = None
        if rule.compiled.anchors is None:
            self.always.remove(rid)
            return
        for kind, value in rule.compiled.anchors:
            table = self._postings(kind)
            table[value].remove(rid)
            if not table[value]:
                del table[value]

    def remove(self, subscriber: str) -> None:
        for text in self.subscribers.pop(subscriber, ()):
            rid = self.by_text.get(text)
            if rid is None:
                continue
            rule = self.rules[rid]
            rule.owners = [o for o in rule.owners if o[0] != subscriber]
            if not rule.owners:
                self._unfile(rid)

    def add(self, subscriber: str, rules: Iterable[str], trees: Mapping[str, Node] | None = None) -> None:
        rules = tuple(rules)
        self.remove(subscriber)
        self.subscribers[subscriber] = rules
        for place, text in enumerate(rules):
            self.rules[self._file(text, trees.get(text) if trees else None)].owners.append((subscriber, place))

    def sync(self, subscribers: Mapping[str, tuple[str, ...]], trees: Mapping[str, Node] | None = None) -> None:
        """Make the index hold exactly these subscribers' rules, compiling only what changed
        (``trees``: rules parsed already)."""
        for sid in [s for s in self.subscribers if s not in subscribers]:
            self.remove(sid)
        for sid, rules in subscribers.items():
            if self.subscribers.get(sid) != rules:
                self.add(sid, rules, trees)

    def _prefix_automaton(self) -> ahocorasick.Automaton:
        """The prefixes as one Aho-Corasick automaton over "\\x01" + prefix, so one pass over the
        article's words, each after a \\x01, finds every prefix that starts one of them."""
        if self._prefixes is None:
            automaton = ahocorasick.Automaton()
            for p in self.prefix_uses:
                automaton.add_word("\x01" + p, p)
            automaton.make_automaton()
            self._prefixes = automaton
        return self._prefixes

    def candidates(self, doc: ArticleTerms) -> set[int]:
        """The rules one of whose anchors the article has."""
        out: set[int] = set()
        by_word = self.by_word
        for w in doc.vocab & by_word.keys():
            out.update(by_word[w])
        if self.prefix_uses:
            found = {p for _, p in self._prefix_automaton().iter("\x01" + "\x01".join(doc.vocab))}
            doc.prefixes = found
            for p in found & self.by_prefix.keys():
                out.update(self.by_prefix[p])
        else:
            doc.prefixes = set()
        for f in doc.facts & self.by_fact.keys():
            out.update(self.by_fact[f])
        out.update(self.always)
        return out

    def matching(self, doc: ArticleTerms) -> list[_Rule]:
        """The rules the article satisfies."""
        checks = self.checks
        out = []
        for rid in self.candidates(doc):
            rule, check = checks[rid]
            if check is None or check(doc):
                out.append(rule)
        return out
