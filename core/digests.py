"""The sha256 of a payload, as hex (the ``captures`` table) and in the WARC form ``sha256:BASE32``
(a record's ``WARC-Payload-Digest``): written by scrapers.warc, checked by store.evidence and
cli.reprocess."""

from __future__ import annotations

import base64
import hashlib


def sha256_digest(payload: bytes) -> tuple[str, str]:
    """(hex, the WARC form ``sha256:BASE32``) of a payload."""
    h = hashlib.sha256(payload)
    return h.hexdigest(), "sha256:" + base64.b32encode(h.digest()).decode("ascii")
