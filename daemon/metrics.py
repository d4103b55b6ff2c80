"""``GET /metrics`` beside ``/health``: the daemon in the Prometheus text format, written by the
maintained client library (prometheus_client) rather than by hand, so names, labels, escaping,
``# HELP``/``# TYPE`` lines and the content type are the format's own.

Two kinds of metric, each from where it is true:

- counters of what this daemon did since it started, counted from the events its jobs report
  (the same events the JSON log gets: each fetch, article stored, crawl and delivery):
  ``carewatch_fetches_total{source,role,status}``, ``carewatch_fetch_failures_total{source,kind}``,
  ``carewatch_articles_stored_total{source}``, ``carewatch_crawls_total{source,status}``,
  ``carewatch_deliveries_total{status}``. They start at zero with each daemon, which Prometheus's
  ``rate()`` and ``increase()`` expect of a counter; the fetch log itself is pruned
  (``fetch_retention_days``), so it could not give a counter that never goes down.
- gauges of the archive's state, read at each scrape from the same health check as ``/health``
  (ops.status): ``carewatch_healthy`` (1 when /health answers 200), ``carewatch_source_articles``,
  ``carewatch_source_consecutive_failures``, ``carewatch_source_state`` (1 for the source's
  state), ``carewatch_outbox_waiting``, ``carewatch_outbox_oldest_age_seconds`` (the queue's age),
  ``carewatch_jobs_running`` and ``carewatch_database_bytes``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from carewatch.core.items import parse_timestamp
from carewatch.ops.status import HealthCheck

STATES = ("failing", "erroring", "silent", "warning", "never", "ok")


class _ArchiveCollector(Collector):
    def __init__(self, check: Callable[[], HealthCheck]) -> None:
        self.check = check

    def collect(self) -> Iterator[Metric]:
        check = self.check()
        yield GaugeMetricFamily("carewatch_healthy", "1 when nothing needs a person (/health 200)", value=check.ok)
        articles = GaugeMetricFamily("carewatch_source_articles", "articles stored from the source", labels=["source"])
        failures = GaugeMetricFamily(
            "carewatch_source_consecutive_failures",
            "failed crawls of the source's own feed or listing in a row",
            labels=["source"],
        )
        state = GaugeMetricFamily(
            "carewatch_source_state", "1 for the source's health state", labels=["source", "state"]
        )
        for h in check.sources:
            articles.add_metric([h.source_id], h.articles)
            failures.add_metric([h.source_id], h.consecutive_failures)
            for s in STATES:
                state.add_metric([h.source_id, s], 1 if h.state == s else 0)
        yield from (articles, failures, state)
        yield GaugeMetricFamily(
            "carewatch_outbox_waiting", "digests queued and not yet delivered", value=len(check.outbox)
        )
        now = datetime.now(UTC)
        oldest = min((parse_timestamp(w.created) for w in check.outbox if w.created), default=None)
        yield GaugeMetricFamily(
            "carewatch_outbox_oldest_age_seconds",
            "how long the oldest undelivered digest has waited (0: none waiting)",
            value=(now - oldest).total_seconds() if oldest else 0,
        )
        yield GaugeMetricFamily("carewatch_jobs_running", "daemon jobs running now", value=len(check.running))
        yield GaugeMetricFamily(
            "carewatch_database_bytes", "the database and its write-ahead log", value=check.database_bytes
        )


class Metrics:
    """The daemon's metrics: :meth:`observe` counts the jobs' events, :meth:`render` is /metrics."""

    def __init__(self, check: Callable[[], HealthCheck]) -> None:
        self.registry = CollectorRegistry()
        self._lock = threading.Lock()
        r = self.registry
        self.fetches = Counter(
            "carewatch_fetches", "fetches by the daemon's crawls", ["source", "role", "status"], registry=r
        )
        self.failures = Counter("carewatch_fetch_failures", "failed fetches, by kind", ["source", "kind"], registry=r)
        self.stored = Counter("carewatch_articles_stored", "articles stored new or updated", ["source"], registry=r)
        self.crawls = Counter("carewatch_crawls", "crawls finished, by outcome", ["source", "status"], registry=r)
        self.deliveries = Counter(
            "carewatch_deliveries", "digest delivery attempts, by outcome", ["status"], registry=r
        )
        r.register(_ArchiveCollector(check))

    def observe(self, name: str, **fields: object) -> None:
        """Count one event the jobs report (daemon.logs.event's name and fields)."""
        source = str(fields.get("source", ""))
        if name == "fetch":
            self.fetches.labels(source, str(fields.get("role")), str(fields.get("status"))).inc()
            if fields.get("status") == "error":
                self.failures.labels(source, str(fields.get("error_kind") or "unknown")).inc()
        elif name == "stored":
            self.stored.labels(source).inc()
        elif name == "crawl":
            self.crawls.labels(source, str(fields.get("status"))).inc()
        elif name == "crawl failed":
            self.crawls.labels(source, "error").inc()
        elif name == "delivery":
            self.deliveries.labels(str(fields.get("status"))).inc()

    def render(self) -> bytes:
        with self._lock:  # one scrape reads the archive at a time
            return generate_latest(self.registry)
