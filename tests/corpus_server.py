"""A loopback HTTP server for feedparser's test corpus (../shared/data/feedparser-tests).

Each corpus file is served at ``/<file>`` (its path in INDEX.json) with the HTTP headers
INDEX.json gives for it, as feedparser's own test server does: ``Content-Type`` from the
entry (``application/xml`` when it gives none), then every other header as given.
``/robots.txt`` allows everything. Every request is logged in ``server.requests``.

    with CorpusServer(root, entries) as server:
        url = server.url_for("wellformed/atom/feed_title.xml")
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

log = logging.getLogger(__name__)

ROBOTS_TXT = b"User-agent: *\nAllow: /\n"
DEFAULT_CONTENT_TYPE = "application/xml"


class Logged(NamedTuple):
    method: str
    path: str
    status: int


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == "/robots.txt":
            data, headers = ROBOTS_TXT, {"Content-Type": "text/plain"}
        elif path.lstrip("/") in self.server.files:
            file, given = self.server.files[path.lstrip("/")]
            data = file.read_bytes()
            headers = {"Content-Type": DEFAULT_CONTENT_TYPE}
            for name, value in given.items():
                headers["Content-Type" if name.lower() == "content-type" else name] = value
        else:
            data, headers = b"not in the corpus\n", {"Content-Type": "text/plain"}
            self._respond(404, headers, data, body)
            return
        self._respond(200, headers, data, body)

    def _respond(self, status: int, headers: dict[str, str], data: bytes, body: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_request(self, code="-", size="-") -> None:
        status = int(code) if str(code).isdigit() else 0
        self.server.requests.append(Logged(self.command or "", self.path, status))
        log.debug("%s %s -> %s", self.command, self.path, code)

    def log_message(self, format: str, *args) -> None:
        log.debug(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the crawler opens many connections at once

    def __init__(self, files: dict[str, tuple[Path, dict[str, str]]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = files
        self.requests: list[Logged] = []  # list.append is atomic: safe across handler threads


class CorpusServer:
    """Serve corpus files (INDEX.json entries under ``root``) on 127.0.0.1, a free port."""

    def __init__(self, root: Path, entries: Iterable[dict]) -> None:
        self.files = {e["file"]: (root / e["file"], dict(e.get("http_headers") or {})) for e in entries}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> CorpusServer:
        self._server = _Server(self.files)
        self._thread = threading.Thread(target=self._server.serve_forever, name="corpus-server", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "use CorpusServer as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url_for(self, file: str) -> str:
        return f"{self.base_url}/{quote(file)}"

    @property
    def requests(self) -> list[Logged]:
        return list(self._server.requests) if self._server else []
