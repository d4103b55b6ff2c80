"""De-duplication: the same URL, the same text, and near-copies of the same text.

- A page whose URL key is already stored passes on to the store, which keeps it unchanged or
  stores the edit as a new version.
- A page with a new URL but exactly the text of a stored article is marked ``duplicate_of``
  that article ("same text"): the store records its URL as an alias, not a second article.
- A page whose text nearly matches a stored article (datasketch MinHash over word 5-shingles;
  candidates from LSH band keys indexed in the archive, and, for a text contained in a longer one
  or containing a shorter one, from sampled shingles: core.lsh) is a "near copy" when it comes from another
  source (a syndicated or
  re-published story) and an "edited version" when it comes from the same source (a statement
  re-issued with changes). The verdict (``near_copy_of``): most word 3-shingles shared, or most of
  the shorter text inside the longer, or most of the shorter text's sentences found again lightly
  edited (a copy reworded a little everywhere: ``sentences_aligned``). Both are recorded against
  the original article; an edited version becomes the article's new current text and the old
  text is kept as a version.

What is stored is asked through a ``core.items.SeenIndex`` that the composition root hands in
(Scrapy setting CAREWATCH_SEEN_INDEX: a factory taking the database path), so this module never
imports the store. The near-copy thresholds are the settings' ``near_duplicate_similarity`` and
``near_duplicate_overlap`` (config.schema.Settings), handed in with them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import zlib
from collections import Counter
from dataclasses import dataclass

import numpy as np
from datasketch import LeanMinHash, MinHash
from scrapy.utils.misc import load_object

from carewatch.config.schema import Config, Settings
from carewatch.core.items import Article, SeenIndex, article_id_for
from carewatch.core.lsh import (
    MIN_SHINGLES,
    SHINGLE,
    band_keys,
    contained_candidate,
    normalise_text,
    shingle_samples,
    shingles,
)

NUM_PERM = 128
SCHEME = "affine32"  # stored signatures must be read back with the scheme that made them
VERIFY = 3  # candidates (found by MinHash LSH on 5-shingles) are verified exactly on 3-shingles:
# finer shingles forgive a reworded word or a changed quote that breaks five 5-shingles at once


_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME).permutations  # made once, not per text
# Shingles are hashed with CRC-32 (C, 32 bits, what MinHash needs) rather than datasketch's default
# SHA-1 in Python: the affine permutations do the mixing. Stored signatures depend on this choice.


def content_hash(text: str, normalised: str | None = None) -> str:
    """``normalised``: ``normalise_text(text)`` when the caller has it already."""
    norm = normalise_text(text) if normalised is None else normalised
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def signature(text: str, normalised: str | None = None) -> tuple[LeanMinHash, int]:
    """``normalised``: ``normalise_text(text)`` when the caller has it already."""
    words = (normalise_text(text) if normalised is None else normalised).split()
    found = shingles(words, SHINGLE)
    m = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME, permutations=_PERMUTATIONS, hashfunc=zlib.crc32)
    m.update_batch(list(map(str.encode, found)))
    return LeanMinHash(m), len(found)


def exact_similarity(a: str, b: str, k: int = VERIFY) -> tuple[float, float]:
    """(Jaccard, containment of the smaller in the larger) of two texts' word k-shingles."""
    sa, sb = shingles(normalise_text(a).split(), k), shingles(normalise_text(b).split(), k)
    shared = len(sa & sb)
    return shared / max(1, len(sa | sb)), shared / max(1, min(len(sa), len(sb)))


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
SENTENCE_WORDS = 6  # a sentence of fewer content words (over two letters) is not compared
SENTENCE_MATCH = 0.5  # two sentences are one, lightly edited, when they share half their words
MIN_SENTENCES = 5  # a shorter text of fewer sentences is judged on shingles only: three reworded
# sentences of a brief can match a lead by chance wording; five rarely do
LONGER_SHARE = 0.45  # ...and those sentences are this much of the longer text too
MAX_SENTENCES = 400  # longer texts (a report) are judged on shingles only: alignment is quadratic-ish


def _sentences(text: str) -> list[frozenset[str]]:
    out = []
    for part in _SENTENCE_END.split(text):
        words = frozenset(w for w in normalise_text(part).split() if len(w) > 2)
        if len(words) >= SENTENCE_WORDS:
            out.append(words)
    return out


def _found_again(sa: list[frozenset[str]], sb: list[frozenset[str]]) -> float:
    """The share of ``sa``'s words in sentences that share ``SENTENCE_MATCH`` of their words with one
    of ``sb`` (an inverted index: only sentences sharing a word are compared)."""
    index: dict[str, list[int]] = {}
    for i, sentence in enumerate(sb):
        for w in sentence:
            index.setdefault(w, []).append(i)
    found = 0
    for sentence in sa:
        shared = Counter(i for w in sentence for i in index.get(w, ()))
        if any(n / (len(sentence) + len(sb[i]) - n) >= SENTENCE_MATCH for i, n in shared.items()):
            found += len(sentence)
    return found / max(1, sum(map(len, sa)))


def sentences_aligned(a: str, b: str) -> float:
    """The share of the shorter text's words that are in sentences found again in the other, each
    sharing at least ``SENTENCE_MATCH`` of its words (Jaccard of the two sentences' word sets) with
    one sentence there; 0.0 unless the sentences found again also make up ``LONGER_SHARE`` of the
    longer text. A copy that rewords a little in every sentence (an adjective inserted, a lead
    rewritten, "said" for "says") breaks most word shingles but keeps its sentences, and is most of
    its original; two outlets' own reports of one event share a quote or two and little else, and
    an outlet's brief that rewords a few of another's sentences is a small part of it (a brief
    copied word for word is found by its shingles: ``exact_similarity``). Hand-written: the
    libraries that align sentences (for translation, for plagiarism) need models or whole corpora;
    this is a word-set comparison."""
    sa, sb = _sentences(a), _sentences(b)
    if sum(map(len, sa)) > sum(map(len, sb)):
        sa, sb = sb, sa
    if len(sa) < MIN_SENTENCES or not sb or len(sa) > MAX_SENTENCES or len(sb) > MAX_SENTENCES:
        return 0.0
    shorter = _found_again(sa, sb)
    if shorter < LONGER_SHARE or _found_again(sb, sa) < LONGER_SHARE:
        return 0.0
    return shorter


def is_near_copy(settings: Settings, jaccard: float, containment: float, aligned: float = 0.0) -> bool:
    """The verdict on two texts' similarity (``exact_similarity``, ``sentences_aligned``): one is a
    near copy of the other."""
    return (
        jaccard >= settings.near_duplicate_similarity
        or containment >= settings.near_duplicate_overlap
        or aligned >= settings.near_duplicate_sentences
    )


def near_copy_of(settings: Settings, a: str, b: str, same_source: bool = False) -> tuple[bool, float, float, float]:
    """(verdict, Jaccard, containment, sentences aligned) of two texts; the alignment is worked out
    only when the shingles alone do not make them copies, and only between two sources (else 0.0):
    one source's own posts reuse its paragraphs (a branch's standing lines, a council's boilerplate)
    and are not versions of each other for that, while a statement it re-issues keeps its words."""
    j, c = exact_similarity(a, b)
    if is_near_copy(settings, j, c) or same_source:
        return is_near_copy(settings, j, c), j, c, 0.0
    aligned = sentences_aligned(a, b)
    return is_near_copy(settings, j, c, aligned), j, c, aligned


@dataclass(frozen=True)
class Near:
    article_id: str
    source_id: str
    jaccard: float
    containment: float
    aligned: float = 0.0
    copy: bool = False  # the verdict (is_near_copy)


class Deduper:
    """Decides, item by item, whether an article is new, a revisit, or a copy."""

    def __init__(self, seen: SeenIndex | None, settings: Settings) -> None:
        self.seen = seen
        self.settings = settings
        self._run_hashes: dict[str, str] = {}  # content_hash -> article_id, this run
        # This run's articles too, in case a copy arrives before its original is written.
        self._run: dict[int, dict[str, tuple[str, bytes, int]]] = {}  # band -> key -> ...
        self._run_samples: dict[int, set[str]] = {}  # sampled shingle -> article ids, this run
        self._run_texts: dict[str, tuple[str, str, int]] = {}  # article id -> (source, text, samples)

    def _add(self, article_id: str, source_id: str, text: str, keys: list[int], samples: tuple[int, ...]) -> None:
        for band, key in enumerate(keys):
            self._run.setdefault(band, {})[key] = (article_id, source_id, text)
        for h in samples:
            self._run_samples.setdefault(h, set()).add(article_id)
        self._run_texts[article_id] = (source_id, text, len(samples))

    def _contained(self, samples: tuple[int, ...]) -> dict[str, tuple[str, str]]:
        """This run's articles that may contain the text, or be contained in it (core.lsh)."""
        shared: dict[str, int] = {}
        for h in samples:
            for article_id in self._run_samples.get(h, ()):
                shared[article_id] = shared.get(article_id, 0) + 1
        out = {}
        for article_id, n in shared.items():
            source_id, text, own = self._run_texts[article_id]
            if contained_candidate(n, len(samples), own):
                out[article_id] = (source_id, text)
        return out

    def nearest(
        self, text: str, keys: list[int], samples: tuple[int, ...] = (), source_id: str | None = None
    ) -> Near | None:
        """The most similar article sharing an LSH band or most of its sampled shingles (one text
        inside the other: core.lsh), from the archive's indexes and this run, verified on the texts
        themselves."""
        candidates = {row[0]: row[1:] for row in (self.seen.near_candidates(keys) if self.seen else [])}
        if samples:
            for row in self.seen.contained_candidates(samples) if self.seen else []:
                candidates.setdefault(row[0], row[1:])
            for article_id, hit in self._contained(samples).items():
                candidates.setdefault(article_id, hit)
        for band, key in enumerate(keys):
            if (hit := self._run.get(band, {}).get(key)) is not None:
                candidates.setdefault(hit[0], hit[1:])
        best = None
        for article_id, (other_source, other_text) in candidates.items():
            copy, j, c, aligned = near_copy_of(self.settings, text, other_text or "", other_source == source_id)
            near = Near(article_id, other_source, j, c, aligned, copy)
            if best is None or (near.copy, near.jaccard, near.containment, near.aligned) > (
                best.copy,
                best.jaccard,
                best.containment,
                best.aligned,
            ):
                best = near
        return best

    def check(self, article: Article) -> Article:
        normalised = normalise_text(article.text)  # once, for the hash and the signature
        h = content_hash(article.text, normalised)
        own_id = article_id_for(article.url_key)
        sig, n = signature(article.text, normalised)
        samples = shingle_samples(article.text, normalised) if n >= MIN_SHINGLES else ()
        article = dataclasses.replace(
            article, content_hash=h, minhash=sig.hashvalues.astype(np.uint64).tobytes(), shingles=n, samples=samples
        )
        stored = self.seen.article_for_url(article.url_key) if self.seen else None
        if stored is not None:
            if stored[0] != own_id:  # a URL already known as a copy
                return dataclasses.replace(article, duplicate_of=stored[0], duplicate_reason="same text")
            return article  # same page again: the store keeps it or versions the edit
        original = self._run_hashes.get(h) or (self.seen.article_for_hash(h) if self.seen else None)
        if original is not None and original != own_id:
            return dataclasses.replace(article, duplicate_of=original, duplicate_reason="same text")
        # A meeting's papers are each their own document, however alike (a council's reports share
        # their headers, forms and boilerplate; a frontsheet repeats the reports pack): only the
        # same text is a copy of one. Press near-copies of them are still found.
        if n >= MIN_SHINGLES and article.kind != "document":
            keys = band_keys(article.minhash)
            near = self.nearest(article.text, keys, samples, article.source_id)
            if near and near.article_id != own_id and near.copy:
                kind = "edited version" if near.source_id == article.source_id else "near copy"
                aligned = f", sentences found again {near.aligned:.2f}" if near.aligned else ""
                how = f"similarity {near.jaccard:.2f}, overlap {min(near.containment, 1):.2f}{aligned}"
                return dataclasses.replace(article, duplicate_of=near.article_id, duplicate_reason=f"{kind} ({how})")
            self._add(own_id, article.source_id, article.text, keys, samples)
        self._run_hashes.setdefault(h, own_id)
        return article


class DedupePipeline:
    def __init__(self, deduper: Deduper) -> None:
        self.deduper = deduper

    @classmethod
    def from_config(cls, config: Config, seen: SeenIndex | None = None) -> DedupePipeline:
        return cls(Deduper(seen, config.settings))

    @classmethod
    def from_crawler(cls, crawler):
        factory = crawler.settings.get("CAREWATCH_SEEN_INDEX")
        db_path = crawler.settings.get("CAREWATCH_DB")
        return cls.from_config(
            crawler.settings["CAREWATCH_CONFIG"], load_object(factory)(db_path) if factory and db_path else None
        )

    def process_item(self, item, spider=None):
        return self.deduper.check(item) if isinstance(item, Article) else item
