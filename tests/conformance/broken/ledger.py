"""The kill-rate ledger of the broken gateways, kept where the terminal summary is written.

Under pytest-xdist the tests run in worker processes and the summary is written by the controller, which runs no test:
a worker's ledger would never reach it. So each test's entries travel in its report (`user_properties`, which xdist
sends to the controller), and the session's LEDGER is filled from the reports, with or without xdist. Only dataclasses
here: tests/conftest.py, which the controller loads, imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

#: The user_properties key of one ledger entry: (field of Ledger, mutant name, value).
PROPERTY = "pixelpact-ledger"


@dataclass
class Ledger:
    """Which mutants the suite killed, for the kill-rate line at the end of the session."""

    outcomes: dict[str, bool] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    gaps: dict[str, str] = field(default_factory=dict)
    """Known gaps (mutants.GAPS) -> whether they still survive."""

    def properties(self) -> list[tuple[str, tuple[str, str, Any]]]:
        """This ledger's entries as user_properties of a test report."""
        return [
            (PROPERTY, (kind, name, value))
            for kind in ("outcomes", "notes", "gaps")
            for name, value in getattr(self, kind).items()
        ]

    def merge(self, properties: Iterable[tuple[str, Any]]) -> None:
        """Take the entries among a report's user_properties (the same entry twice is harmless)."""
        for key, value in properties:
            if key == PROPERTY:
                kind, name, entry = value
                getattr(self, kind)[name] = entry

    def summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The "broken gateways" section: the kill rate, survivors, known gaps; nothing when no mutant ran."""
        if not self.outcomes and not self.gaps:
            return
        killed = sorted(name for name, dead in self.outcomes.items() if dead)
        survivors = sorted(name for name, dead in self.outcomes.items() if not dead)
        total = len(self.outcomes)
        terminalreporter.section("broken gateways")
        if total:
            rate = f"kill rate: {len(killed)}/{total} broken gateways killed ({len(killed) / total:.0%})"
            terminalreporter.write_line(rate)
        for name in survivors:
            terminalreporter.write_line(f"  survived: {name}: {self.notes.get(name, '')}")
        if self.gaps:
            terminalreporter.write_line(f"known gaps (GAPS.md, not in the kill rate): {len(self.gaps)}")
        for name, state in sorted(self.gaps.items()):
            terminalreporter.write_line(f"  {name}: {state}")


#: The session's ledger, filled from the test reports by tests/conftest.py.
LEDGER = Ledger()
