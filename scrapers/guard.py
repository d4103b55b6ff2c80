"""Refuse to fetch from addresses a public news source has no business at.

A source URL, or a redirect from one, that points at loopback, a private network, link-local
(cloud metadata at 169.254.169.254), carrier-grade NAT, multicast or any other non-global address
is refused before connecting (server-side request forgery: a hostile feed must not make carewatch
probe the machine it runs on or its network), and so is any scheme but http and https. Each
request is checked, so every hop of a redirect is. Hand-written because neither Scrapy nor
feedparser has such a guard (../shared/guide/reliability-plan.md, cases 22-24); the addresses come
from the standard library's ``ipaddress`` (``is_global``), after resolving the host name.

Limits: the check resolves the name itself (once per crawl, off the reactor thread), so a DNS
server that answers differently a moment later (rebinding) is not caught; and behind an HTTP proxy
(``http_proxy``) the proxy resolves names. The demo site and the tests, which serve everything on
127.0.0.1, turn it off (``block_private_addresses: false``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest


class BlockedAddress(IgnoreRequest):
    """A request refused by the guard: says what was refused and why."""


def check_url(url: str, resolve=socket.getaddrinfo) -> None:
    """Raise BlockedAddress unless the URL is http(s) to a host whose every address is global."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress(f"blocked scheme {parts.scheme or '(none)'!r}: {url[:200]}")
    host = (parts.hostname or "").rstrip(".")  # "localhost." is localhost
    if not host:
        raise BlockedAddress(f"blocked address: no host in {url[:200]}")
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            infos = resolve(host, parts.port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError, OSError):
            return  # unresolvable: the download fails on its own, with its own DNS error
        addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    for address in addresses:
        mapped = getattr(address, "ipv4_mapped", None)
        if not address.is_global or (mapped is not None and not mapped.is_global):
            raise BlockedAddress(f"blocked address {address} (not a public address) for {host}")


class PublicAddressMiddleware:
    """Scrapy downloader middleware: every request, including each redirect hop, goes through check_url."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._resolved: dict[tuple, list | OSError] = {}  # (host, port, proto) -> addresses or the error

    def _resolve(self, host: str, port: int, proto: int = 0) -> list:
        """getaddrinfo, each name asked once per crawl (a feed, its robots.txt and its pages share a host)."""
        key = (host, port, proto)
        if key not in self._resolved:
            try:
                self._resolved[key] = socket.getaddrinfo(host, port, proto=proto)
            except OSError as e:
                self._resolved[key] = e
        found = self._resolved[key]
        if isinstance(found, OSError):
            raise found
        return found

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getbool("CAREWATCH_BLOCK_PRIVATE", True))

    async def process_request(self, request, spider=None):
        if self.enabled:
            # The name is resolved on a worker thread: a slow DNS answer (a resolver that times out
            # after 5 s) delays this request only, rather than freezing the reactor, and with it
            # every download in flight (whose timeouts then fire, recording healthy sources as failed).
            await asyncio.get_running_loop().run_in_executor(None, check_url, request.url, self._resolve)
        return None
