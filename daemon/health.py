"""A small health endpoint on 127.0.0.1 for monitoring (http.server in a thread): ``GET /health``
answers JSON — the verdict and its problems, each source's state, digests waiting, database size,
the scheduler's next runs — with status 200 when healthy and 503 when not, the verdict ``carewatch
status`` gives (ops.status.problems); ``GET /metrics`` the Prometheus metrics (daemon.metrics)."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST

from carewatch.ops.status import health_check

if TYPE_CHECKING:
    from carewatch.daemon.service import Daemon


def health_report(daemon: Daemon) -> tuple[int, dict]:
    check = health_check(daemon.config, daemon.db_path)
    report = {
        "status": "ok" if check.ok else "needs attention",
        "problems": check.problems,
        "sources": {
            h.source_id: {
                "state": h.state,
                "last_fetch": h.last_fetch,
                "last_error": h.last_error,
                "next_retry": h.next_retry,
            }
            for h in check.sources
        },
        "outbox": [asdict(w) for w in check.outbox],
        "running": check.running,
        "database_bytes": check.database_bytes,
        "next_runs": daemon.next_runs(),
    }
    return (200 if check.ok else 503), report


class HealthServer:
    def __init__(self, daemon: Daemon, port: int) -> None:
        self.daemon = daemon
        self.config = daemon.config
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/metrics":
                    try:
                        body, code, kind = outer.daemon.metrics.render(), 200, CONTENT_TYPE_LATEST
                    except Exception as e:
                        body, code, kind = f"# error: {e!r}\n".encode(), 500, "text/plain; charset=utf-8"
                    self._answer(code, kind, body)
                    return
                if path not in ("/health", "/"):
                    self.send_error(404)
                    return
                try:
                    code, report = health_report(outer.daemon)
                except Exception as e:
                    code, report = 500, {"status": "error", "error": repr(e)}
                self._answer(code, "application/json", json.dumps(report, indent=2, default=str).encode())

            def _answer(self, code: int, kind: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="health", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
