"""The design guarded: which carewatch package may import which (the matrix below, drawn in
docs/architecture.md), and nothing imports the CLI. Data flows one way, scrapers → pipelines →
store → alerts; the service layer (ops) composes them; the interfaces (cli, daemon, demo, archive)
call the service layer."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "config": {"core"},
    "scrapers": {"core", "config"},
    "pipelines": {"core", "config"},
    "store": {"core", "config"},
    "alerts": {"core", "config", "store"},
    "ops": {"core", "config", "scrapers", "pipelines", "store", "alerts"},
    "archive": {"core", "config", "ops"},
    "daemon": {"core", "config", "ops"},
    "demo": {"core", "config", "ops"},
    "cli": {"core", "config", "ops", "archive", "daemon", "demo"},
}


def packages() -> dict[str, Path]:
    """Every subpackage of carewatch and its folder, as pyproject.toml maps them."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    return {name.split(".", 1)[1]: ROOT / folder for name, folder in mapping.items() if name != "carewatch"}


def imported_packages(path: Path) -> set[str]:
    """The carewatch subpackages a module imports (carewatch.X…, at any depth of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + (
                [f"{node.module}.{a.name}" for a in node.names] if node.module == "carewatch" else []
            )
        for name in names:
            parts = name.split(".")
            if parts[0] == "carewatch" and len(parts) > 1:
                found.add(parts[1])
    # Dotted paths handed to Scrapy or importlib count as imports too ("carewatch.pipelines.tag.TagPipeline").
    for match in re.finditer(r"[\"']carewatch\.(\w+)\.", path.read_text(encoding="utf-8")):
        found.add(match.group(1))
    return found


def test_the_matrix_names_every_package():
    assert set(packages()) == set(ALLOWED), "pyproject.toml's packages and the import matrix differ"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_matrix_allows(package):
    folder = packages()[package]
    modules = [p for p in folder.rglob("*.py") if "site" not in p.relative_to(folder).parts]
    assert modules, f"{folder.name}/ has no modules"
    bad = [
        f"{p.relative_to(ROOT)} imports carewatch.{name}"
        for p in modules
        for name in sorted(imported_packages(p))
        if name != package and name not in ALLOWED[package]
    ]
    assert not bad, "\n".join(bad)


def test_nothing_imports_the_cli_but_the_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"carewatch": "carewatch.cli.main:cli"}
    users = [
        p
        for p in [*ROOT.glob("*/**/*.py")]
        if ".venv" not in p.parts
        and "build" not in p.parts
        and p.parent.name != "cli"
        and p.parts[len(ROOT.parts)] not in ("tests",)
        and "cli" in imported_packages(p)
    ]
    assert not users, [str(p.relative_to(ROOT)) for p in users]


def test_docs_draw_the_same_matrix():
    """docs/architecture.md's table of allowed imports is this matrix, row for row."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    drawn = {}
    for m in re.finditer(r"^\| `(\w+)` \| ([^|]*) \|$", text, re.MULTILINE):
        if m.group(1) in ALLOWED and m.group(1) not in drawn:
            cell = m.group(2).strip()
            drawn[m.group(1)] = set() if cell == "(nothing)" else {p.strip() for p in cell.split(",")}
    assert drawn == ALLOWED
