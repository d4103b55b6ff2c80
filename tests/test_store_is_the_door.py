"""The store is the only door to the database: no module of carewatch outside store/ holds SQL or
talks to SQLite. Checked on the syntax tree of every module: string literals that read as SQL,
calls of the database APIs (execute…, rows_where, query, sqlite-utils table objects), and sqlite3
used for anything but catching its errors. The test proves it can fail on a sample of each kind."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_layering import packages

SQL = re.compile(
    r"\b(SELECT\b[\s\S]+?\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|REPLACE\s+INTO"
    r"|CREATE\s+(TABLE|INDEX|UNIQUE|TRIGGER|VIEW|VIRTUAL|TEMP)|DROP\s+(TABLE|INDEX|TRIGGER|VIEW)"
    r"|ALTER\s+TABLE|PRAGMA\s+\w+|BEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED|TRANSACTION)|WITH\s+\w+\s+AS\s*\()",
    re.IGNORECASE,
)
SQL_SIGNS = re.compile(r"[=?*(),;]|\b(where|join|limit|order\s+by|group\s+by|values)\b", re.IGNORECASE)


def reads_as_sql(text: str) -> str | None:
    """The SQL in a string: keywords in capitals (as this codebase writes SQL), or in any case beside
    SQL's punctuation or clauses (so "select a topic from the list" stays prose)."""
    m = SQL.search(text)
    if m and (m.group(0).split()[0].isupper() or SQL_SIGNS.search(text)):
        return m.group(0)
    return None


DB_CALLS = {
    "execute",
    "executemany",
    "executescript",
    "rows_where",
    "query",
    "insert_all",
    "upsert_all",
    "execute_fn",
    "execute_write",
    "execute_write_fn",
}
NOT_PRODUCT = ("site",)  # demo/site: the demo's web pages, not code


def problems(source: str) -> list[str]:
    """What in this module's source reaches the database without the store."""
    found = []
    tree = ast.parse(source)
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    handlers = {id(n.type) for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler) and n.type is not None}
    handler_parts = {
        id(e)
        for n in ast.walk(tree)
        if isinstance(n, ast.ExceptHandler) and isinstance(n.type, ast.Tuple)
        for e in n.type.elts
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            sql = reads_as_sql(node.value)
            if sql:
                found.append(f"line {node.lineno}: SQL {sql[:40]!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DB_CALLS:
            found.append(f"line {node.lineno}: .{node.func.attr}(...)")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "table"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append(f"line {node.lineno}: a sqlite-utils table object")
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("db", "database", "conn")
        ):
            found.append(f"line {node.lineno}: {node.value.id}[{node.slice.value!r}]")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(n == "sqlite_utils" or n.startswith("sqlite_utils.") for n in names):
                if not (isinstance(node, ast.ImportFrom) and all(a.name == "Database" for a in node.names)):
                    found.append(f"line {node.lineno}: imports sqlite_utils")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "sqlite3"
            and id(node) not in handlers
            and id(node) not in handler_parts
        ):
            found.append(f"line {node.lineno}: sqlite3.{node.attr}")
    return found


def product_modules() -> list[Path]:
    out = []
    for name, folder in packages().items():
        if name == "store":
            continue
        out += [p for p in folder.rglob("*.py") if not set(p.relative_to(folder).parts) & set(NOT_PRODUCT)]
    return sorted(out)


@pytest.mark.parametrize("path", product_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sql_outside_the_store(path):
    assert not problems(path.read_text(encoding="utf-8")), problems(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "sample",
    [
        'rows = db.execute("SELECT 1")',
        'q = "select id from articles where x = ?"',
        'Q = """\n  INSERT OR IGNORE INTO alerted (a) VALUES (?)"""',
        'db["deliveries"].insert({"a": 1})',
        'db.table("fetches").upsert({})',
        'import sqlite3\nconn = sqlite3.connect("x.db")',
        'import sqlite_utils\nsqlite_utils.Database("x")',
        'list(t.rows_where("a = ?", [1]))',
    ],
)
def test_the_check_catches_each_kind(sample):
    assert problems(sample), sample


@pytest.mark.parametrize(
    "sample",
    [
        '"""Select the articles from the feed, then update the page."""',
        "try:\n    pass\nexcept sqlite3.Error:\n    pass",
        "try:\n    pass\nexcept (OSError, sqlite3.OperationalError):\n    pass",
        "from sqlite_utils import Database",
        'msg = "select a topic from the list"',
    ],
)
def test_the_check_lets_prose_and_error_handling_be(sample):
    assert not problems(sample), problems(sample)
