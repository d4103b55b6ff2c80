"""The address guard: a source, or a redirect, pointing at loopback, private or link-local
addresses or at a non-http scheme is refused before connecting, recorded, and costs the target
nothing (a canary server counts hits)."""

import http.server
import threading

import pytest

from carewatch.config import load_config
from carewatch.config.schema import Source
from carewatch.ops.crawl import run_crawl
from carewatch.scrapers.guard import BlockedAddress, check_url
from carewatch.store.db import open_db
from tests.conftest import ROOT


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://localhost./",
        "http://localhost/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "ftp://example.org/",
        "gopher://example.org/",
        "data:text/html,hi",
    ],
)
def test_non_public_targets_and_schemes_are_blocked(url):
    with pytest.raises(BlockedAddress):
        check_url(url)


def test_public_addresses_pass():
    check_url("https://93.184.216.34/")  # a public literal: no DNS needed
    check_url("http://[2606:2800:220:1:248:1893:25c8:1946]/")
    check_url("https://www.birmingham.gov.uk.invalid/")  # unresolvable: left to fail as a DNS error


class _Canary(http.server.BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):
        _Canary.hits.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        self.wfile.write(b"<rss><channel><title>x</title></channel></rss>")

    def log_message(self, *args):
        pass


def test_a_crawl_refuses_a_loopback_source_and_records_why(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Canary.hits = []
    try:
        base = load_config(ROOT / "config")
        source = Source(id="sneaky", name="Sneaky", kind="feed", url=f"http://127.0.0.1:{server.server_port}/feed")
        settings = base.settings.model_copy(update={"retry_times": 0, "obey_robots": False})
        config = base.model_copy(update={"sources": (source,), "settings": settings})
        assert config.settings.block_private_addresses  # on by default
        report = run_crawl(config, tmp_path / "a.db", ["sneaky"])
        [error] = report.errors
        assert error["error_kind"] == "blocked" and "blocked address 127.0.0.1" in error["error"]
        assert _Canary.hits == []  # refused before connecting
        # with the guard off (as the demo runs), the same source is fetched
        off = config.model_copy(update={"settings": settings.model_copy(update={"block_private_addresses": False})})
        assert run_crawl(off, tmp_path / "b.db", ["sneaky"]).errors == [] and _Canary.hits == ["/feed"]
        rows = (
            open_db(tmp_path / "a.db").execute("SELECT error_kind FROM fetches WHERE source_id = 'sneaky'").fetchall()
        )
        assert rows == [("blocked",)]
    finally:
        server.shutdown()
