"""Keyword-alert digests: which new articles each subscriber gets, rendered and delivered,
each delivery recorded in ``deliveries`` so nothing is sent twice or lost."""
