"""The fault suite's report: one row per fault injected, printed as a table at the end of the run.

A test in tests/faults injects a fault, measures what happened (did carewatch keep going, how many
items that should have been stored are missing, how many alerts went out twice, is the failure
recorded where an operator sees it), records that row with ``fault_ledger.record(...)`` before
asserting on it, and then asserts. A fault tried several times (each kill point, each file of a
corpus) is one row with its trials summed. ``pytest -m faults`` runs just the suite; the table is
printed by tests/conftest.py's ``pytest_terminal_summary`` and, with ``CAREWATCH_FAULTS_REPORT=FILE``,
written to FILE too.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = ("group", "fault", "tried", "survived", "items lost", "duplicate alerts", "error recorded")


@dataclass
class Row:
    group: str
    fault: str
    tried: int = 0
    survived: int = 0
    lost: int = 0
    duplicates: int = 0
    recorded: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.tried > 0
            and self.survived == self.tried
            and self.lost == 0
            and self.duplicates == 0
            and self.recorded == self.tried
        )

    def cells(self) -> tuple[str, ...]:
        return (
            self.group,
            self.fault,
            str(self.tried),
            "yes" if self.survived == self.tried else f"no ({self.tried - self.survived} failed)",
            str(self.lost),
            str(self.duplicates),
            "yes" if self.recorded == self.tried else f"no ({self.tried - self.recorded} not)",
        )


class Ledger:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Row] = {}

    def record(
        self,
        group: str,
        fault: str,
        *,
        survived: bool,
        lost: int = 0,
        duplicates: int = 0,
        recorded: bool,
        tried: int = 1,
        note: str = "",
    ) -> Row:
        """Add ``tried`` trials of FAULT: whether carewatch survived them, items lost, duplicate
        alerts, and whether the failure was recorded (fetches, status, the outbox, a clear error).
        ``survived`` and ``recorded`` apply to every trial added by this call."""
        row = self.rows.setdefault((group, fault), Row(group, fault))
        row.tried += tried
        row.survived += tried if survived else 0
        row.recorded += tried if recorded else 0
        row.lost += lost
        row.duplicates += duplicates
        if note:
            row.notes.append(note)
        return row

    def tried(self, group: str, fault: str) -> int:
        row = self.rows.get((group, fault))
        return row.tried if row else 0

    def table(self) -> str:
        groups = list(dict.fromkeys(r.group for r in self.rows.values()))  # in the order first met
        rows = sorted(self.rows.values(), key=lambda r: groups.index(r.group))  # stable: recorded order within
        body = [COLUMNS, *(r.cells() for r in rows)]
        widths = [max(len(line[i]) for line in body) for i in range(len(COLUMNS))]
        fmt = " | ".join(f"{{:<{w}}}" for w in widths)
        out = [fmt.format(*COLUMNS), "-+-".join("-" * w for w in widths)]
        out += [fmt.format(*r.cells()) for r in rows]
        bad = [r for r in rows if not r.ok]
        out.append(
            f"{len(rows)} faults, {sum(r.tried for r in rows)} trials; "
            + (
                "every row: survived, 0 lost, 0 duplicates, error recorded"
                if not bad
                else f"{len(bad)} row(s) NOT clean: " + ", ".join(r.fault for r in bad)
            )
        )
        return "\n".join(out)

    def write(self) -> Path | None:
        target = os.environ.get("CAREWATCH_FAULTS_REPORT")
        if not target or not self.rows:
            return None
        path = Path(target)
        path.write_text(self.table() + "\n", encoding="utf-8")
        return path


LEDGER = Ledger()  # one per test session (pytest runs the suite in one process)


def records(group: str, *faults):
    """Decorate a fault test: whatever stops it before it has recorded its rows (carewatch raised, a
    process hung, the database would not open) is recorded as a fault carewatch did not survive,
    then raised. A fault may be given as a function of the test's arguments (parametrized tests)."""

    def wrap(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            names = [f(kwargs) if callable(f) else f for f in faults]
            before = {n: LEDGER.tried(group, n) for n in names}
            try:
                return test(*args, **kwargs)
            except Exception as e:
                for n in names:
                    if LEDGER.tried(group, n) == before[n]:
                        LEDGER.record(group, n, survived=False, recorded=False, note=f"stopped: {e!r}"[:300])
                raise

        return run

    return wrap
