"""``carewatch demo``: the whole path on the bundled demo sites, with no internet.

Starts the demo sites and a local mail sink, crawls every demo source through the real spiders
and pipelines into a real SQLite file, sends the digests over SMTP to the sink (which saves
them as .eml files), and sums up what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alerts.outbox import DeliveryResult, send_alerts
from cli.crawl import CrawlReport, run_crawl
from config import load_config
from config.schema import Config
from demo.mailsink import MailSink
from demo.server import DemoServer
from store.db import open_db

DEMO_CONFIG = Path(__file__).parent / "config"


@dataclass
class DemoSummary:
    db_path: str
    mail_dir: str
    crawl: CrawlReport
    deliveries: list[DeliveryResult]
    sources: int
    failing: list[dict]
    articles_total: int
    topics: dict[str, int]
    eml_files: list[str] = field(default_factory=list)
    proxy_url: str = ""


def demo_config(proxy_url: str, smtp_port: int, config_dir: Path = DEMO_CONFIG) -> Config:
    config = load_config(config_dir)
    smtp = config.settings.smtp.model_copy(update={"host": "127.0.0.1", "port": smtp_port})
    settings = config.settings.model_copy(update={"http_proxy": proxy_url, "smtp": smtp})
    return config.model_copy(update={"settings": settings})


def run_demo(db_path: str | Path, mail_dir: str | Path, config_dir: Path = DEMO_CONFIG) -> DemoSummary:
    with DemoServer() as server, MailSink(mail_dir) as sink:
        config = demo_config(server.proxy_url, sink.port, config_dir)
        report = run_crawl(config, db_path, log_level="CRITICAL")  # failures are summarised instead
        db = open_db(db_path)
        deliveries = send_alerts(config, db)
        topics = dict(db.execute(
            "SELECT topic, count(*) FROM article_topics GROUP BY topic ORDER BY count(*) DESC").fetchall())
        total = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        db.close()
        failing: dict[str, dict] = {}
        for err in report.errors:  # the source's own feed or listing first, then its pages
            if err["role"] == "index" or err["source_id"] not in failing:
                failing[err["source_id"]] = err
        return DemoSummary(
            db_path=str(db_path),
            mail_dir=str(mail_dir),
            crawl=report,
            deliveries=deliveries,
            sources=len(report.sources),
            failing=list(failing.values()),
            articles_total=total,
            topics=topics,
            eml_files=[str(p) for p in sink.files],
            proxy_url=server.proxy_url,
        )
