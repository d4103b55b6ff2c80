"""``carewatch demo``: the whole path on the bundled demo sites, with no internet.

Starts the demo sites and a local mail sink, crawls every demo source through the real spiders
and pipelines into a real SQLite file, sends the digests over SMTP to the sink (which saves
them as .eml files), and sums up what happened.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from carewatch.config import load_config
from carewatch.config.schema import Config
from carewatch.demo.mailsink import MailSink
from carewatch.demo.server import DemoServer
from carewatch.ops.alerts import DeliveryResult, send_alerts
from carewatch.ops.crawl import CrawlReport, run_crawl
from carewatch.ops.database import open_archive
from carewatch.ops.status import archive_counts, calendar_counts

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
    calendar: dict[str, int] = field(default_factory=dict)  # meetings, agenda_items, meeting_documents, …


def demo_config(proxy_url: str, smtp_port: int, config_dir: Path = DEMO_CONFIG) -> Config:
    config = load_config(config_dir)
    smtp = config.settings.smtp.model_copy(update={"host": "127.0.0.1", "port": smtp_port})
    settings = config.settings.model_copy(update={"http_proxy": proxy_url, "smtp": smtp})
    return config.model_copy(update={"settings": settings})


def run_demo(db_path: str | Path, mail_dir: str | Path, config_dir: Path = DEMO_CONFIG) -> DemoSummary:
    with DemoServer() as server, MailSink(mail_dir) as sink:
        config = demo_config(server.proxy_url, sink.port, config_dir)
        report = run_crawl(config, db_path, log_level="CRITICAL")  # failures are summarised instead
        db = open_archive(db_path)
        deliveries = send_alerts(config, db)
        counts = archive_counts(db)
        calendar = calendar_counts(db)
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
            articles_total=counts.articles,
            topics=counts.topics,
            eml_files=[str(p) for p in sink.files],
            proxy_url=server.proxy_url,
            calendar=calendar,
        )


def write_daemon_config(
    folder: Path, proxy_url: str, smtp_port: int, health_port: int, every: str, enabled: list[str] | None = None
) -> Path:
    """A config folder for `carewatch run` against the demo site (the daemon tests and bench/soak.py):
    the demo config, with the proxy, the mail sink, short waits and a log file in ``folder``, and the
    ``enabled`` sources (all when None) crawled ``every`` (e.g. "every 6s")."""
    cfg = folder / "config"
    if cfg.exists():
        shutil.rmtree(cfg)
    shutil.copytree(DEMO_CONFIG, cfg)
    enable_sources(cfg, enabled, every)
    settings = yaml.safe_load((cfg / "settings.yaml").read_text()) or {}
    settings.update(
        http_proxy=proxy_url,
        smtp={"host": "127.0.0.1", "port": smtp_port, "timeout": 5},
        schedule_jitter_seconds=0.5,
        alerts_check_seconds=2,
        health_port=health_port,
        max_parallel_crawls=2,
        log_file=str(folder / "carewatch.log"),
    )
    (cfg / "settings.yaml").write_text(yaml.safe_dump(settings))
    return cfg


def enable_sources(cfg: Path, enabled: list[str] | None, every: str) -> list[str]:
    """Rewrite cfg/sources.yaml from the demo's: only ``enabled`` (all when None), each crawled ``every``."""
    data = yaml.safe_load((DEMO_CONFIG / "sources.yaml").read_text())
    for s in data["sources"]:
        s["enabled"] = enabled is None or s["id"] in enabled
        if s["enabled"]:
            s["schedule"] = every
    (cfg / "sources.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return [s["id"] for s in data["sources"] if s["enabled"]]
