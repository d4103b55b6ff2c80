"""Shared vocabulary of carewatch: the item types and errors every package speaks. Stdlib only."""
