"""Data flows one way: scrapers → pipelines → store → alerts. Imports follow the same direction;
only cli/, daemon/, demo/ and archive/ (composition roots) import everything."""

import ast

import pytest

from tests.conftest import ROOT

OURS = {"core", "config", "scrapers", "pipelines", "store", "alerts", "cli", "daemon", "demo", "archive"}
ALLOWED = {
    "core": set(),  # and w3lib for URL identity
    "config": {"core"},
    "scrapers": {"core", "config"},
    "pipelines": {"core", "config"},
    "store": {"core", "config"},
    "alerts": {"core", "config", "store"},
}


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_upstream(package):
    bad = []
    for path in (ROOT / package).rglob("*.py"):
        for name in _imports(path):
            if name in OURS and name != package and name not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, bad
    assert list((ROOT / package).rglob("*.py")), f"{package}/ has no modules"
