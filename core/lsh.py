"""Band keys of a MinHash signature, for locality-sensitive hashing kept in the archive.

A signature of 128 64-bit values is cut into 32 bands of 4 values; two texts whose signatures
agree on a whole band are candidates for near-duplicates (from about 0.42 similarity). Each band
is hashed to one signed 64-bit key, so SQLite can index (band, key) and answer "who shares a band
with this text?" in a few index look-ups whatever the archive's size.

Hand-written because datasketch's LSH lives in memory (or Redis/Cassandra), and the archive is
SQLite: this is the same banding, stored where the articles are.
"""

from __future__ import annotations

import hashlib

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
