"""``carewatch serve``: the archive in Datasette, read-only, for campaigners to search, read and cite.

What is shipped in the repository (docs/archive.md tells a user how to use it):

- config/datasette.yaml: titles and descriptions for every table and column, facets, default
  sorts and the canned queries. It describes a database called ``carewatch``; Datasette names a
  database after its file, so the metadata is re-keyed to the file's name at start-up.
- archive/plugin/ (the Datasette plugin, carewatch.archive.plugin, loaded through the one-line
  loader archive/plugins/carewatch_archive.py with ``--plugins-dir``): keeps
  the subscriber tables unreadable in the public database (a SQLite authorizer, so no page, JSON
  or SQL can read them), opens the same file a second time as ``<name>_private`` for the signed-in
  operator, adds the topic, entity and year facets, highlighted search snippets, and the links
  from an article to its versions, story, source and raw capture.
- archive/templates/: the article page and the article search results (``--template-dir``).
- datasette-vega, datasette-search-all, datasette-block-robots and datasette-pretty-json, the
  Datasette plugins in pyproject.toml's dependencies, do the rest.

Datasette opens the file read-only (``mode=ro``, and the plugin adds ``PRAGMA query_only``), has
no write queries, and serves no database download. ``--root`` makes it print a one-time sign-in
link for the operator; anonymous visitors never see the private database.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import yaml

from carewatch.config.environment import PUBLIC_URL

if TYPE_CHECKING:
    from datasette.app import Datasette

ROOT = Path(__file__).resolve().parent.parent
METADATA = ROOT / "config" / "datasette.yaml"
ARCHIVE = ROOT / "archive"
PLUGIN = "carewatch-archive"
SHIPPED_NAME = "carewatch"  # the database's name in config/datasette.yaml
PRIVATE_SUFFIX = "_private"


def database_names(db_path: str | os.PathLike[str]) -> tuple[str, str]:
    """(public, private): the names Datasette serves the archive under."""
    stem = Path(db_path).stem
    return stem, stem + PRIVATE_SUFFIX


def _names_from_config(config_dir: str | os.PathLike[str] | None = None) -> dict[str, dict[str, str]]:
    """Source names, topic labels and entity names from the config (the bundled one, then --config,
    else $CAREWATCH_CONFIG or ./config, over it), for facet labels, article pages and the names a
    search may use (plugin/search.py). Read leniently: a config mistake is `carewatch config
    check`'s business, not a reason not to serve the archive."""
    from carewatch.config.environment import find_config_dir

    sources: dict[str, str] = {}
    topics: dict[str, str] = {}
    entities: dict[str, str] = {}
    for folder in dict.fromkeys([ROOT / "config", find_config_dir(config_dir).resolve()]):
        try:
            data = yaml.safe_load((folder / "sources.yaml").read_text(encoding="utf-8")) or {}
            sources.update({s["id"]: s.get("name") or s["id"] for s in data.get("sources") or [] if "id" in s})
        except (OSError, yaml.YAMLError, TypeError, AttributeError):
            pass
        try:
            data = yaml.safe_load((folder / "topics.yaml").read_text(encoding="utf-8")) or {}
            topics.update({tid: (t or {}).get("label") or tid for tid, t in (data.get("topics") or {}).items()})
        except (OSError, yaml.YAMLError, TypeError, AttributeError):
            pass
        try:
            data = yaml.safe_load((folder / "entities.yaml").read_text(encoding="utf-8")) or {}
            entities.update({eid: (e or {}).get("name") or eid for eid, e in (data.get("entities") or {}).items()})
        except (OSError, yaml.YAMLError, TypeError, AttributeError):
            pass
    return {"source_id": sources, "topic": topics, "entity": entities}


def _route(name: str) -> str:
    from datasette.utils import tilde_encode

    return quote(tilde_encode(name))


SIGNUP_HTML = (
    '\n<p class="cw-signup"><a href="subscribe">Get alerts by email</a>: choose topics, keywords or a rule, '
    "and how often; change or stop them from a link in every digest.</p>"
)


def _signup_open(config_dir: str | os.PathLike[str] | None) -> bool:
    """Whether settings.yaml takes sign-ups (open or approval): the front page then links /subscribe.
    Read leniently, as _names_from_config is."""
    from carewatch.config.environment import find_config_dir

    try:
        data = yaml.safe_load((find_config_dir(config_dir) / "settings.yaml").read_text(encoding="utf-8")) or {}
        return isinstance(data, dict) and data.get("signup") in ("open", "approval")
    except (OSError, yaml.YAMLError):
        return False


def metadata_for(db_path: str, config_dir: str | os.PathLike[str] | None = None, public_url: str | None = None) -> dict:
    """The shipped metadata for this archive file: the public database under the file's name,
    the private one beside it, and the plugin's settings (with the config folder the evidence packs
    and the subscribers' feeds are made from, and the public address their links start with)."""
    meta = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    public, private = database_names(db_path)
    databases = meta.setdefault("databases", {})
    shipped = databases.pop(SHIPPED_NAME, {}) or {}
    shipped_private = databases.pop(SHIPPED_NAME + PRIVATE_SUFFIX, {}) or {}
    settings = meta.setdefault("plugins", {}).setdefault(PLUGIN, {})
    private_tables = list(settings.get("private_tables") or [])
    tables = shipped.get("tables", {})

    public_tables = copy.deepcopy(tables)
    for name in private_tables:  # Datasette refuses them to everyone here; the authorizer refuses SQL
        public_tables.setdefault(name, {})["allow"] = False
    databases[public] = {**shipped, "tables": public_tables}
    # The operator's database: the same file, showing only what the public one may not.
    databases[private] = {
        **shipped_private,
        "tables": {name: {**copy.deepcopy(t), "hidden": name not in private_tables} for name, t in tables.items()},
    }
    from carewatch.config.environment import find_config_dir

    labels = settings.get("labels") or {}
    for column, names in _names_from_config(config_dir).items():
        labels[column] = {**(labels.get(column) or {}), **names}
    settings.update(
        public_database=public,
        private_database=private,
        labels=labels,
        config_dir=str(find_config_dir(config_dir).resolve()),
        public_url=public_url or "",
    )

    if _signup_open(config_dir) and isinstance(meta.get("description_html"), str):
        meta["description_html"] += SIGNUP_HTML
    route = _route(public)
    for holder in (meta, databases[public], databases[private]):
        if isinstance(holder.get("description_html"), str):
            holder["description_html"] = holder["description_html"].replace("{db}", route)
    for query in databases[public].get("queries", {}).values():
        if isinstance(query.get("description_html"), str):
            query["description_html"] = query["description_html"].replace("{db}", route)
    return meta


# Datasette's settings for the archive, whoever starts it.
SETTINGS: dict[str, Any] = {
    "allow_download": False,
    "sql_time_limit_ms": 3000,
    "default_page_size": 50,
    "suggest_facets": False,  # the configured facets; suggestions cost a query per column
    "facet_time_limit_ms": 250,  # a facet slower than this is skipped, not waited for
}


def public_url_settings(public_url: str | None) -> dict[str, Any]:
    """Datasette settings for serving behind a reverse proxy at PUBLIC_URL: the path prefix
    (base_url) and https links when the proxy terminates TLS."""
    if not public_url:
        return {}
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{PUBLIC_URL.variable}={public_url!r}: expected a URL like https://example.org/archive/")
    settings: dict[str, Any] = {"base_url": parts.path.rstrip("/") + "/"}
    if parts.scheme == "https":
        settings["force_https_urls"] = True
    return settings


@dataclass(frozen=True)
class DatasetteSetup:
    """What Datasette is given for this archive: the file, the shipped metadata, templates and
    plugin, and the settings (read-only, no database download, query time limits). The command
    `carewatch serve` runs and the in-process Datasette (``datasette_app``) are both made of it."""

    db_path: str
    metadata: dict
    template_dir: Path
    plugins_dir: Path
    settings: dict[str, Any]


def datasette_setup(
    db_path: str, public_url: str | None = None, config_dir: str | os.PathLike[str] | None = None
) -> DatasetteSetup:
    """``public_url`` (default $CAREWATCH_PUBLIC_URL) is where a reverse proxy publishes it;
    ``config_dir`` (default $CAREWATCH_CONFIG, else ./config) the config it is served with."""
    public_url = public_url if public_url is not None else PUBLIC_URL.value()
    return DatasetteSetup(
        str(db_path),
        metadata_for(db_path, config_dir, public_url),
        ARCHIVE / "templates",
        ARCHIVE / "plugins",
        {**SETTINGS, **public_url_settings(public_url)},
    )


def _setting_arg(value: Any) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def datasette_command(
    db_path: str,
    host: str,
    port: int,
    public_url: str | None = None,
    config_dir: str | os.PathLike[str] | None = None,
) -> list[str]:
    """The Datasette command line for this archive (``datasette_setup``), with a sign-in link for
    the operator."""
    setup = datasette_setup(db_path, public_url, config_dir)
    meta_file = Path(tempfile.mkdtemp(prefix="carewatch-serve-")) / "metadata.json"
    meta_file.write_text(json.dumps(setup.metadata, ensure_ascii=False), encoding="utf-8")
    return [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        setup.db_path,
        "--host",
        host,
        "--port",
        str(port),
        "--metadata",
        str(meta_file),
        "--template-dir",
        str(setup.template_dir),
        "--plugins-dir",
        str(setup.plugins_dir),
        "--root",  # prints a one-time link that signs the operator in (to read the private database)
        *(arg for name, value in setup.settings.items() for arg in ("--setting", name, _setting_arg(value))),
    ]


def datasette_app(
    db_path: str, public_url: str | None = None, config_dir: str | os.PathLike[str] | None = None
) -> Datasette:
    """Datasette in this process, as ``datasette_command`` starts it (for its in-process client,
    ``app.client``; the operator is the actor ``{"id": "root"}``)."""
    from datasette.app import Datasette

    setup = datasette_setup(db_path, public_url, config_dir)
    return Datasette(
        [setup.db_path],
        metadata=setup.metadata,
        template_dir=str(setup.template_dir),
        plugins_dir=str(setup.plugins_dir),
        settings=setup.settings,
    )
