"""Band keys of a MinHash signature, for locality-sensitive hashing kept in the archive, and
sampled shingles, for finding a text contained in a longer one.

A signature of 128 64-bit values is cut into 32 bands of 4 values; two texts whose signatures
agree on a whole band are candidates for near-duplicates (from about 0.42 similarity). Each band
is hashed to one signed 64-bit key, so SQLite can index (band, key) and answer "who shares a band
with this text?" in a few index look-ups whatever the archive's size.

Banding finds texts of similar Jaccard similarity. A short text contained whole in a longer one
(a brief inside the full story, a press release quoted in an article) has a low Jaccard however
much of it is copied, and shares a band by luck (issue 22: 40% at Jaccard 0.36). Containment has
its own candidates: every text keeps the shingles whose hash falls in one residue class of
``SAMPLE_EVERY`` (consistent sampling: a shingle sampled in one text is sampled in every text that
has it), so a contained copy's sampled shingles are all among its container's; two texts sharing
a good part of the smaller one's samples are candidates (a reworded copy keeps a fifth or more),
verified exactly after (pipelines.dedupe).

Hand-written because datasketch's LSH lives in memory (or Redis/Cassandra), and the archive is
SQLite: this is the same banding, stored where the articles are. (datasketch's LSH Ensemble answers
containment queries, but over an index built once from every set and never added to; the archive
grows an article at a time.)
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib

BANDS = 32
ROWS = 4
VALUE_BYTES = 8  # signatures are stored as uint64


def band_keys(signature: bytes) -> list[int]:
    """One key per band (signed 64-bit, SQLite's INTEGER)."""
    step = ROWS * VALUE_BYTES
    if len(signature) != BANDS * step:
        return []
    return [
        int.from_bytes(
            hashlib.blake2b(signature[i : i + step], digest_size=8, person=bytes([band])).digest(), "big", signed=True
        )
        for band, i in enumerate(range(0, len(signature), step))
    ]


SHINGLE = 5  # words per shingle, for signatures and samples alike
MIN_SHINGLES = 40  # shorter texts are compared exactly only (no signature, no samples)
SAMPLE_EVERY = 8  # one shingle in eight is sampled: a 40-shingle text keeps about five
MIN_SHARED_SAMPLES = 2  # candidates share at least two samples...
MIN_SAMPLE_SHARE = 0.2  # ...and a fifth of the smaller text's: a copy reworded a little in every
# sentence keeps only that many of its 5-shingles (then verified exactly: pipelines.dedupe)
_WORDS = re.compile(r"\w+")


def normalise_text(text: str) -> str:
    """Text as compared for sameness: NFKC, case-folded, punctuation and spacing ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORDS.findall(text))


def shingles(words: list[str], k: int = SHINGLE) -> set[str]:
    """The text's word k-shingles (a text shorter than k words is one shingle)."""
    if len(words) < k:
        return {" ".join(words)}
    return set(map(" ".join, zip(*(words[i:] for i in range(k)))))


def shingle_samples(text: str, normalised: str | None = None) -> tuple[int, ...]:
    """The text's sampled shingles, as 32-bit hashes (CRC-32 mixed by a multiplicative hash, so
    the sample is spread over the text whatever CRC's linearity), sorted."""
    words = (normalise_text(text) if normalised is None else normalised).split()
    hashes = (zlib.crc32(s.encode()) for s in shingles(words))
    return tuple(sorted({h for h in hashes if ((h * 0x9E3779B1) & 0xFFFFFFFF) % SAMPLE_EVERY == 0}))


def contained_candidate(shared: int, own: int, other: int) -> bool:
    """Whether two texts sharing ``shared`` samples, of ``own`` and ``other``, may be one inside the
    other (then verified exactly)."""
    return shared >= MIN_SHARED_SAMPLES and shared >= MIN_SAMPLE_SHARE * min(own, other)
