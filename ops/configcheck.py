"""``carewatch config check``: what a valid configuration holds (loading it is the check: an
invalid one raises ConfigError naming the file, line and field)."""

from __future__ import annotations

from dataclasses import dataclass

from carewatch.config.schema import Config


@dataclass(frozen=True)
class ConfigCheck:
    directory: str
    database: str  # settings.yaml's (or $CAREWATCH_DB's) database path
    sources: list[str]  # ids, in sources.yaml's order
    disabled_sources: list[str]
    topics: list[str]
    subscribers: list[str]


def check_config(config: Config) -> ConfigCheck:
    return ConfigCheck(
        directory=config.directory,
        database=config.settings.database,
        sources=[s.id for s in config.sources],
        disabled_sources=[s.id for s in config.sources if not s.enabled],
        topics=list(config.topics.topics),
        subscribers=[s.id for s in config.alerts.subscribers],
    )
