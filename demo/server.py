"""Serve the demo sites on 127.0.0.1, as a web server and as an HTTP proxy.

Each demo site has a fixed host name (the real host plus ``.test``). Crawlers reach them by
using this server as their HTTP proxy (``http_proxy``), so stored URLs stay the same whatever
port the server got. The routes come from ``demo/site/manifest.yaml``; while the server runs, a
page can be added or changed (:meth:`DemoSites.put`) and a new article published on a feed
(:meth:`DemoSites.publish`), as bench/latency.py does.

Written by hand (on ``http.server``) because it must answer proxy-style absolute request URIs,
log every request for tests, and honour conditional requests: no small maintained package does
all three.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

SITE_DIR = Path(__file__).parent / "site"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
}
LAST_MODIFIED = formatdate(1700000000, usegmt=True)


@dataclass
class Route:
    status: int
    content_type: str
    body: bytes
    etag: str


@dataclass
class LoggedRequest:
    method: str
    host: str
    path: str
    headers: dict[str, str]
    status: int
    time: float = 0.0  # time.monotonic() when answered


@dataclass
class DemoSites:
    """The demo sites' routes, loaded once: host -> path(+query) -> Route."""

    hosts: dict[str, dict[str, Route]] = field(default_factory=dict)
    site_hosts: dict[str, str] = field(default_factory=dict)  # site id -> host
    # host -> [(path prefix, handler)]: generated pages; handler(path_and_query) -> (status, type, body) | None
    handlers: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)

    @classmethod
    def load(cls, manifest: Path = SITE_DIR / "manifest.yaml") -> DemoSites:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        pdfs = importlib.import_module("carewatch.demo.pdfs")
        sites = cls()
        for site_id, site in data["sites"].items():
            host = site["host"].lower()
            sites.site_hosts[site_id] = host
            routes: dict[str, Route] = {}
            for r in site["routes"]:
                if "handler" in r:
                    module, _, func = r["handler"].partition(":")
                    handler = getattr(importlib.import_module(module), func)
                    sites.handlers.setdefault(host, []).append((r["prefix"], handler))
                    continue
                routes_for = [r["path"], *r.get("aliases", [])]
                body, suffix = b"", ".html"
                if "pdf" in r:
                    body, suffix = getattr(pdfs, r["pdf"])(), ".pdf"
                elif "file" in r:
                    path = manifest.parent / r["file"]
                    body, suffix = path.read_bytes(), path.suffix
                route = Route(
                    status=int(r.get("status", 200)),
                    content_type=r.get("content_type") or _TYPES.get(suffix, "application/octet-stream"),
                    body=body,
                    etag='"' + hashlib.sha1(body).hexdigest()[:16] + '"',
                )
                for p in routes_for:
                    routes[p] = route
            sites.hosts[host] = routes
        return sites

    def find(self, host: str, path_and_query: str) -> Route | None:
        host = host.lower().split(":")[0]
        routes = self.hosts.get(host)
        if routes is None:
            return None
        if path_and_query in routes:
            return routes[path_and_query]
        if path_and_query.split("?", 1)[0] in routes:
            return routes[path_and_query.split("?", 1)[0]]
        for prefix, handler in self.handlers.get(host, []):
            if path_and_query.startswith(prefix):
                made = handler(path_and_query)
                if made is not None:
                    status, ctype, body = made
                    return Route(status, ctype, body, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')
        return None

    def url(self, site_id: str, path: str = "/") -> str:
        return f"http://{self.site_hosts[site_id]}{path}"

    def put(self, url: str, body: bytes | str, content_type: str | None = None, status: int = 200) -> Route:
        """Serve ``body`` at ``url`` (``http://<a demo site's host>/path[?query]``) from now on: a new
        page, or a changed one in place of what was there (and at its aliases). Its ETag is the new
        body's, so a conditional request for a changed page gets the new body. ``content_type``:
        by default the old route's, else from the path's suffix (HTML when it has none)."""
        host, key = _split(url)
        if host not in self.hosts:
            raise KeyError(f"{host}: not a demo site")
        routes = self.hosts[host]
        old = routes.get(key)
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(
            status=status,
            content_type=content_type
            or (old.content_type if old else _TYPES.get(Path(urlsplit(url).path).suffix, _TYPES[".html"])),
            body=data,
            etag='"' + hashlib.sha1(data).hexdigest()[:16] + '"',
        )
        for path in [p for p, r in routes.items() if old is not None and r is old] or [key]:
            routes[path] = route  # one assignment per path: a request sees the old page or the new
        return route

    def publish(self, feed_url: str, entry: str, page_url: str, page: str) -> None:
        """A new article, as its publisher would put it out: its page at ``page_url`` first, then
        ``entry`` (an RSS ``<item>`` or an Atom ``<entry>`` linking to it) at the top of the feed
        at ``feed_url``, so a crawler that sees the entry finds the page."""
        feed = self.find(*_split(feed_url))
        if feed is None:
            raise KeyError(f"{feed_url}: no such feed")
        text = feed.body.decode("utf-8")
        first = re.search(r"<(item|entry)[\s>]|</channel>|</feed>", text)
        if first is None:
            raise ValueError(f"{feed_url}: neither RSS nor Atom")
        self.put(page_url, page)
        self.put(feed_url, text[: first.start()] + entry.strip() + "\n" + text[first.start() :])


def _split(url: str) -> tuple[str, str]:
    """An absolute URL's host (lower case, no port) and path with its query, as routes are keyed."""
    parts = urlsplit(url)
    return parts.netloc.lower().split(":")[0], (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _target(self) -> tuple[str, str]:
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            pq = parts.path or "/"
            return parts.netloc, pq + (f"?{parts.query}" if parts.query else "")
        return self.headers.get("Host", ""), self.path

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def _respond(self, head: bool) -> None:
        host, pq = self._target()
        route = self.server.sites.find(host, pq)
        if (
            route is None
            and pq.split("?")[0] == "/robots.txt"
            and host.split(":")[0].lower() in self.server.sites.hosts
        ):
            route = Route(200, "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n", '"robots"')
        status = route.status if route else 404
        body = route.body if route else b"<html><body><h1>Not found</h1></body></html>"
        ctype = route.content_type if route else "text/html; charset=utf-8"
        etag = route.etag if route else None
        if (
            route
            and status == 200
            and (
                (etag and self.headers.get("If-None-Match") == etag)
                or (not self.headers.get("If-None-Match") and self.headers.get("If-Modified-Since") == LAST_MODIFIED)
            )
        ):
            status, body = 304, b""
        self.server.log.append(
            LoggedRequest(self.command, host, pq, dict(self.headers.items()), status, time.monotonic())
        )
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if etag and route and route.status == 200:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
        self.end_headers()
        if not head:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sites: DemoSites
    log: list[LoggedRequest]


class DemoServer:
    """The demo sites on a free port of 127.0.0.1: ``with DemoServer() as s: s.proxy_url``."""

    def __init__(self, sites: DemoSites | None = None, port: int = 0) -> None:
        self.sites = sites or DemoSites.load()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.sites = self.sites
        self._server.log = []
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-site", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[LoggedRequest]:
        return self._server.log

    def start(self) -> DemoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
