"""mypy over the lower floors: carewatch.core, carewatch.config and carewatch.store.

mypy does not run import hooks, so it cannot see an editable install's package-dir mapping
(carewatch.store is the folder store/, not carewatch/store/). This script builds the package as
mypy expects it, a tree of symbolic links under build/typecheck/carewatch/ (one per mapped folder,
read from pyproject.toml), and runs mypy on it with the venv's third-party packages. Errors name
files as build/typecheck/carewatch/<folder>/…: the same file as <folder>/… in the repository.

Run: ``.venv/bin/python .ci/typecheck.py`` (CI runs it). Exit status: mypy's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ["carewatch.core", "carewatch.config", "carewatch.store"]


def link_tree(dest: Path) -> Path:
    """build/typecheck/carewatch/ with a link per package folder of pyproject's package-dir."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    if dest.exists():
        shutil.rmtree(dest)
    package = dest / "carewatch"
    package.mkdir(parents=True)
    for name, folder in mapping.items():
        source = ROOT / folder
        if name == "carewatch":
            for entry in source.iterdir():
                if entry.suffix == ".py":
                    os.symlink(entry, package / entry.name)
        else:
            os.symlink(source, package / name.split(".", 1)[1], target_is_directory=True)
    return dest


def main() -> int:
    tree = link_tree(ROOT / "build" / "typecheck")
    env = {**os.environ, "MYPYPATH": str(tree)}
    args = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    for floor in FLOORS:
        args += ["-p", floor]
    return subprocess.run(args, cwd=tree, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
