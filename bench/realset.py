"""Run a real-set benchmark (bench/real_relevance.py, bench/real_pairs.py) after a synthetic one,
as bench/tagging.py and bench/dedup.py do: the same figures on the real labelled set when its
texts are cached here (bench/real_sets/), and a line saying so when they are not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_real_set(script: str, what: str) -> None:
    here = Path(__file__).resolve().parent
    print(f"\n== the real labelled set ({what}): bench/{script}", flush=True)
    done = subprocess.run([sys.executable, str(here / script)], check=False)
    if done.returncode:
        print("(not measured: bench/real_sets/README.md says how its texts are cached)")
