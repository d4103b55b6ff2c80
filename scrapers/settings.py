"""Scrapy settings derived from the configuration: politeness, limits, identity, and the Config
itself (``CAREWATCH_CONFIG``), from which the item pipelines take their rules and thresholds."""

from __future__ import annotations

from typing import Any

from carewatch.config.schema import Config


def scrapy_settings(config: Config) -> dict[str, Any]:
    settings = config.settings
    return {
        "CAREWATCH_CONFIG": config,
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": settings.obey_robots,
        "DOWNLOAD_DELAY": settings.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.concurrent_requests_per_domain,
        "CONCURRENT_REQUESTS": 8,
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": settings.retry_times,
        "CAREWATCH_RETRY_BACKOFF": settings.retry_backoff,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "carewatch.scrapers.retry.BackoffRetryMiddleware": 550,
            "carewatch.scrapers.guard.PublicAddressMiddleware": 50,  # first: every request and every redirect hop
            # before redirects and decompression: redirect loops and truncated gzip bodies refused
            "carewatch.scrapers.integrity.ResponseChecksMiddleware": 610,
            # after redirects, decompression and meta refresh: the response exactly as the spider gets it
            "carewatch.scrapers.warc.WarcMiddleware": 575,
        },
        "SPIDER_MIDDLEWARES": {"carewatch.scrapers.warc.CaptureSpiderMiddleware": 950},
        "CAREWATCH_BLOCK_PRIVATE": settings.block_private_addresses,
        "CAREWATCH_RAW_DIR": settings.raw_dir,  # None: <CAREWATCH_DB>-raw (scrapers.warc.raw_dir_for)
        "DOWNLOAD_MAXSIZE": settings.max_response_bytes,
        "CAREWATCH_MAX_LINKS_PER_PAGE": settings.max_links_per_page,
        "DOWNLOAD_WARNSIZE": max(settings.max_response_bytes // 2, 1024),
        "AUTOTHROTTLE_ENABLED": settings.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(settings.download_delay, 1.0),
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # Scrapy 2.19 would open an HTTP control port and write a job file per crawl
        "COOKIES_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "CAREWATCH_REVISIT_DAYS": settings.revisit_days,
        # a page that failed is tried again on every crawl while its entry could still be alerted
        "CAREWATCH_PENDING_DAYS": settings.alert_max_age_days,
        "DEPTH_LIMIT": 0,  # the spider decides how deep a source goes (back-fill walks many pages)
    }
