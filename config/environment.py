"""Every environment variable that overrides carewatch's configuration, declared here and read
nowhere else.

Precedence, highest first: a command-line option, then the environment, then the config files
(settings.yaml), then the built-in default (config.schema). The overrides are applied once, when
``load_config`` builds the settings object; everything after that is handed the object and reads
nothing from the environment. (Secrets are not overrides: the SMTP password is read, when a digest
is sent, from the variable settings.yaml names in ``smtp.password_env``.)

- ``CAREWATCH_CONFIG``: the config folder (default ``./config``); beaten by ``--config DIR``.
- ``CAREWATCH_DB``: settings.yaml's ``database``; beaten by ``--db PATH``.
- ``CAREWATCH_PUBLIC_URL``: settings.yaml's ``public_url``, where a reverse proxy publishes the
  archive (and the sign-up, manage and unsubscribe pages emails link to); beaten by
  ``carewatch serve --public-url URL``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from carewatch.config.schema import Settings


@dataclass(frozen=True, slots=True)
class Override:
    """An environment variable, what it stands in for, and the command-line option that beats it."""

    variable: str
    setting: str | None  # the field of Settings it overrides (None: not a settings.yaml value)
    option: str

    def value(self, environ: Mapping[str, str] | None = None) -> str | None:
        """Its value; None when unset or empty."""
        return (os.environ if environ is None else environ).get(self.variable) or None


CONFIG_DIR = Override("CAREWATCH_CONFIG", None, "--config")
DATABASE = Override("CAREWATCH_DB", "database", "--db")
PUBLIC_URL = Override("CAREWATCH_PUBLIC_URL", "public_url", "serve --public-url")
OVERRIDES = (CONFIG_DIR, DATABASE, PUBLIC_URL)


def find_config_dir(explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """--config, else $CAREWATCH_CONFIG, else ./config."""
    return Path(explicit or CONFIG_DIR.value(environ) or "config")


def with_environment(settings: Settings, environ: Mapping[str, str] | None = None) -> Settings:
    """settings.yaml's settings with the environment's overrides applied."""
    update = {o.setting: v for o in OVERRIDES if o.setting and (v := o.value(environ)) is not None}
    return settings.model_copy(update=update) if update else settings
