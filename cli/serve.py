"""``carewatch serve``: Datasette on the archive, read-only, with full-text search.

The shipped metadata (config/datasette.yaml) describes a database called ``carewatch``; Datasette
names a database after its file, so the metadata is re-keyed to the file's name at start-up.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import yaml

METADATA = Path(__file__).resolve().parent.parent / "config" / "datasette.yaml"


def metadata_for(db_path: str) -> dict:
    meta = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    databases = meta.get("databases", {})
    if "carewatch" in databases:
        databases[Path(db_path).stem] = databases.pop("carewatch")
    return meta


def datasette_command(db_path: str, host: str, port: int) -> list[str]:
    """The Datasette command line for this archive: read-only (Datasette opens mutable files with
    mode=ro), no database download, and a query time limit."""
    meta_file = Path(tempfile.mkdtemp(prefix="carewatch-serve-")) / "metadata.json"
    meta_file.write_text(json.dumps(metadata_for(db_path)))
    return [sys.executable, "-m", "datasette", "serve", str(db_path), "--host", host, "--port", str(port),
            "--metadata", str(meta_file), "--setting", "allow_download", "off",
            "--setting", "sql_time_limit_ms", "3000"]
