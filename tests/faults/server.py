"""A misbehaving HTTP server on loopback, for the fault-injection suite (tests/faults/test_http.py).

Written on ``socketserver`` with the raw socket in hand, not on ``http.server``, because most of the
faults live below HTTP: a connection reset (RST) half-way through a body, headers that never come,
a body that never ends, a ``Content-Length`` that promises more than is sent, a gzip stream cut in
half, 50 MB of body. Each route is a *behaviour*: a function given the :class:`Exchange` (the parsed
request and its socket) that answers however it likes.

It answers ordinary requests (``GET /path`` with a ``Host`` header) and proxy-style ones (``GET
http://host/path``), so a crawl can use it as its ``http_proxy`` and reach made-up host names (the
way demo/server.py serves the demo sites), or fetch ``http://127.0.0.1:PORT/...`` directly. Routes
are keyed by host name (no port) and path; ``/robots.txt`` allows everything unless routed. Every
request is counted per (host, path) and logged with its time, so a test can prove there was no
request storm (a redirect loop stops at the redirect limit, retries at ``retry_times``).

    with FaultServer() as server:
        server.route("bad.example.test", "/feed.xml", status(503))
        # crawl with http_proxy = server.proxy_url, then
        server.hits[("bad.example.test", "/feed.xml")]
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import socket
import socketserver
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

HOLD_SECONDS = 120.0  # a stalled answer waits at most this long (or until the server stops)
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"
REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Request:
    method: str
    host: str  # lower case, without the port
    path: str  # path and query
    headers: dict[str, str]  # names in lower case
    time: float  # time.monotonic() when it arrived


class Exchange:
    """One request and the raw socket to answer it on (one request per connection)."""

    def __init__(self, server: FaultServer, sock: socket.socket, request: Request) -> None:
        self.server = server
        self.sock = sock
        self.request = request
        self.closed = False

    def write(self, data: bytes) -> bool:
        """Send bytes; False once the client has gone away."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:  # BrokenPipe, ConnectionReset: the client hung up (as it should, sometimes)
            return False

    def head(self, status: int, headers: list[tuple[str, str]] | tuple = ()) -> bool:
        lines = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Whatever')}",
            *(f"{k}: {v}" for k, v in headers),
            "Connection: close",
        ]
        return self.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send(
        self,
        status: int,
        body: bytes = b"",
        headers: list[tuple[str, str]] | tuple = (),
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        """A complete, honest response."""
        if self.head(status, [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers]):
            self.write(body)

    def reset(self) -> None:
        """Abort the connection: SO_LINGER 0 makes close() send RST instead of FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        self.closed = True

    def hold(self) -> None:
        """Say nothing more, keep the connection open (until the server stops)."""
        self.server.stopping.wait(HOLD_SECONDS)


Behaviour = Callable[[Exchange], None]


# -- behaviours --------------------------------------------------------------------------------
def page(body: bytes, content_type: str = "text/html; charset=utf-8") -> Behaviour:
    """200 with ETag and Last-Modified; 304 to a matching conditional request."""
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'

    def serve(x: Exchange) -> None:
        if x.request.headers.get("if-none-match") == etag:
            x.send(304, b"", [("ETag", etag)])
            return
        x.send(200, body, [("ETag", etag), ("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")], content_type)

    return serve


def status(
    code: int, body: bytes = b"<html><body><h1>Nope</h1></body></html>", headers: tuple[tuple[str, str], ...] = ()
) -> Behaviour:
    return lambda x: x.send(code, body, headers)


def redirect(location: str, code: int = 302) -> Behaviour:
    return lambda x: x.send(code, b"", [("Location", location)])


def reset_mid_body(body: bytes, content_type: str = "text/html; charset=utf-8") -> Behaviour:
    """Headers promising the whole body, half of it, then RST."""

    def serve(x: Exchange) -> None:
        if x.head(200, [("Content-Type", content_type), ("Content-Length", str(len(body)))]):
            x.write(body[: len(body) // 2])
            time.sleep(0.2)  # let the half arrive, so the reset is mid-body rather than mid-headers
        x.reset()

    return serve


def stall_headers() -> Behaviour:
    """Read the request, never answer."""
    return lambda x: x.hold()


def stall_body(body: bytes, content_type: str = "text/html; charset=utf-8") -> Behaviour:
    """Headers and part of the body, then nothing more, the connection left open."""

    def serve(x: Exchange) -> None:
        if x.head(200, [("Content-Type", content_type), ("Content-Length", str(len(body)))]):
            x.write(body[: len(body) // 3])
            x.hold()

    return serve


def truncated_gzip(body: bytes, content_type: str = "text/html; charset=utf-8") -> Behaviour:
    """Content-Encoding: gzip, the compressed stream cut in half (the Content-Length is that of the
    half sent, so HTTP itself looks complete; only the gzip stream is short)."""
    half = gzip.compress(body, mtime=0)
    half = half[: len(half) // 2]
    return lambda x: x.send(200, half, [("Content-Encoding", "gzip")], content_type)


def short_body(body: bytes, missing: int = 4096, content_type: str = "text/html; charset=utf-8") -> Behaviour:
    """A Content-Length larger than the body sent, then a clean close (FIN)."""

    def serve(x: Exchange) -> None:
        if x.head(200, [("Content-Type", content_type), ("Content-Length", str(len(body) + missing))]):
            x.write(body)

    return serve


def huge(
    size: int = 50 * 1024 * 1024, declare_length: bool = True, content_type: str = "text/html; charset=utf-8"
) -> Behaviour:
    """A body of ``size`` bytes, streamed (never held in memory); with or without Content-Length
    (without it, the body ends when the connection closes)."""

    def serve(x: Exchange) -> None:
        headers = [("Content-Type", content_type)] + ([("Content-Length", str(size))] if declare_length else [])
        if not x.head(200, headers) or not x.write(b"<html><body><p>"):
            return
        chunk = b"Birmingham children's social care " * 2000  # 68 kB
        sent = 15
        # recorded from the first bytes: a client that refuses the announced size on reading the
        # headers may close before the first 68 kB piece goes out (a race, not a failure)
        x.server.streamed[(x.request.host, x.request.path)] = sent
        while sent < size:
            piece = chunk[: size - sent]
            if not x.write(piece):
                return  # the client cut it off
            sent += len(piece)
            x.server.streamed[(x.request.host, x.request.path)] = sent

    return serve


# -- the server --------------------------------------------------------------------------------
class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        reader = sock.makefile("rb")
        try:
            line = reader.readline(65536).decode("latin-1").strip()
            headers: dict[str, str] = {}
            while True:
                h = reader.readline(65536)
                if h in (b"\r\n", b"\n", b""):
                    break
                name, _, value = h.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
        except OSError:
            return
        finally:
            reader.close()
        if not line:
            return
        method, _, rest = line.partition(" ")
        target = rest.rpartition(" ")[0] or rest
        if target.startswith(("http://", "https://")):  # proxy style: the whole URL
            parts = urlsplit(target)
            host = (parts.hostname or "").lower()
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        else:
            host = (urlsplit("//" + headers.get("host", "")).hostname or "").lower()
            path = target
        fault = self.server.owner
        request = Request(method, host, path, headers, time.monotonic())
        behaviour = fault.behaviour(host, path)
        with fault.lock:
            fault.log.append(request)
            fault.hits[(host, path)] += 1
        exchange = Exchange(fault, sock, request)
        with contextlib.suppress(OSError):  # the client hung up first (a timeout, a size limit): expected
            behaviour(exchange)

    def finish(self) -> None:
        """Nothing to flush: each behaviour writes to the raw socket itself (and may have reset it)."""


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # a crawl opens dozens of connections at once; the default 5 drops SYNs
    owner: FaultServer

    def shutdown_request(self, request: socket.socket) -> None:
        if request.fileno() == -1:  # already closed (reset)
            return
        super().shutdown_request(request)


class FaultServer:
    """Routes (host, path) -> behaviour, on one or more loopback ports, counting every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Behaviour] = {}
        self.log: list[Request] = []
        self.hits: Counter[tuple[str, str]] = Counter()
        self.streamed: dict[tuple[str, str], int] = {}  # bytes a huge body got out before the client cut it off
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._servers: list[tuple[_TCPServer, threading.Thread]] = []

    # routes
    def route(self, host: str, path: str, behaviour: Behaviour) -> None:
        self.routes[(host.lower(), path)] = behaviour

    def behaviour(self, host: str, path: str) -> Behaviour:
        found = self.routes.get((host, path)) or self.routes.get((host, path.split("?", 1)[0]))
        if found:
            return found
        if path == "/robots.txt":
            return page(ROBOTS_TXT, "text/plain; charset=utf-8")
        return status(404, b"<html><body><h1>Not found</h1></body></html>")

    def requests_to(self, host: str, path: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.log if r.host == host and (path is None or r.path == path)]

    def clear(self) -> None:
        with self.lock:
            self.log.clear()
            self.hits.clear()
            self.streamed.clear()

    # listening
    def listen(self, port: int = 0) -> int:
        """Listen (also) on ``port`` of 127.0.0.1 (0: a free one); returns the port."""
        server = _TCPServer(("127.0.0.1", port), _Handler)
        server.owner = self
        thread = threading.Thread(target=server.serve_forever, name=f"fault-server-{port}", daemon=True)
        thread.start()
        self._servers.append((server, thread))
        return server.server_address[1]

    @property
    def port(self) -> int:
        return self._servers[0][0].server_address[1]

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultServer:
        if not self._servers:
            self.listen()
        return self

    def stop(self) -> None:
        self.stopping.set()  # stalled answers give up
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(5)
        self._servers.clear()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
