"""Shared vocabulary of carewatch: the item types, URL identity and errors every package speaks.
Stdlib only, but for w3lib in core.urls."""
