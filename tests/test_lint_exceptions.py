"""Every exception to the linter says why. A ``# noqa`` comment must name the rule it silences and
give a reason after it (``# noqa: F403 - the hooks, for Datasette to register``), and so must each
per-file ignore in pyproject.toml (a comment on its line). A bare ``# noqa`` or a code with no
reason is how a lint rule quietly stops applying. The check proves it can fail on samples."""

from __future__ import annotations

import io
import re
import tokenize
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

NOQA = re.compile(r"#\s*noqa\b(?P<rest>.*)", re.IGNORECASE)
WITH_REASON = re.compile(r"^:\s*[A-Z]+\d+(\s*,\s*[A-Z]+\d+)*\s*(-|—|:)?\s*\S.{3,}")
SKIP = {".venv", "build", ".git", "node_modules"}


def unexplained(source: str) -> list[tuple[int, str]]:
    """(line, comment) of each noqa comment in ``source`` without a rule code and a reason."""
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.COMMENT:
            continue
        m = NOQA.search(tok.string)
        if m and not WITH_REASON.match(m.group("rest")):
            found.append((tok.start[0], tok.string))
    return found


def python_files() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if not SKIP & set(p.relative_to(ROOT).parts)]


@pytest.mark.parametrize(
    "sample, bad",
    [
        ("import os  # noqa\n", True),
        ("import os  # noqa: F401\n", True),
        ("from x import *  # noqa: F403 - the hooks, for Datasette to register\n", False),
        ("import os  # noqa: E402, F401 — the path is set first\n", False),
        ("x = '# noqa'  # a string, not a comment\n", False),
    ],
)
def test_the_check_can_fail(sample, bad):
    assert bool(unexplained(sample)) is bad


def test_every_noqa_names_its_rule_and_a_reason():
    files = python_files()
    assert len(files) > 100  # the whole tree was read
    offenders = [f"{p.relative_to(ROOT)}:{line}: {text}" for p in files for line, text in unexplained(p.read_text())]
    assert not offenders, "\n".join(offenders)


def test_every_per_file_ignore_says_why():
    text = (ROOT / "pyproject.toml").read_text()
    ignores = tomllib.loads(text)["tool"]["ruff"]["lint"].get("per-file-ignores", {})
    lines = text.splitlines()
    for pattern in ignores:
        line = next(ln for ln in lines if ln.strip().startswith(f'"{pattern}"'))
        assert re.search(r"#\s*\S.{10,}", line), f"pyproject.toml per-file-ignores {pattern!r} gives no reason: {line}"
