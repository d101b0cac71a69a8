"""The suite is right: it fails every broken gateway, naming the broken requirement, and passes the correct one.

Each mutant runs with only the operations and groups it needs (see conftest.options_for); the correct stub is run with
the very same selections, so a kill is never a false positive of the selection itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from starlette.types import ASGIApp

from pixelpact.conformance import cli
from pixelpact.conformance.api import CheckOptions
from pixelpact.conformance.model import Report
from pixelpact.generator.runtime.serve import stub_server
from tests.conformance.broken.conftest import GROUP_OF, gateway, groups_for, options_for
from tests.conformance.broken.ledger import Ledger
from tests.conformance.broken.mutants import GAPS, MUTANTS, Mutant

Runner = Callable[[ASGIApp, CheckOptions], Report]
KNOWN_IDS = set(GROUP_OF)


def _failed(report: Report) -> dict[str, list[str]]:
    """requirement id -> the operations it failed on."""
    failed: dict[str, list[str]] = {}
    for result in report.failed:
        failed.setdefault(result.requirement.id, []).append(result.operation_id)
    return failed


def test_catalogue_is_well_formed() -> None:
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names)), "mutant names must be unique"
    unknown = {m.name: sorted(set(m.kills) - KNOWN_IDS) for m in MUTANTS if set(m.kills) - KNOWN_IDS}
    assert not unknown, f"mutants naming requirement ids the catalogue does not have: {unknown}"
    unjudged = [m.name for m in MUTANTS if not m.kills]
    assert not unjudged, f"every mutant names the requirement that catches it (else: GAPS): {unjudged}"
    assert all(not m.kills and m.groups for m in GAPS), "a gap names the groups that should catch it, and no id"
    assert not {m.name for m in GAPS} & set(names), "a gap is not also a mutant"


def _selection(mutant: Mutant) -> tuple[tuple[str, ...], tuple[str, ...], bool, bool]:
    """What a run against the mutant selects: operations, groups, with a key, through a relay."""
    return mutant.operations, groups_for(mutant), bool(mutant.api_keys), mutant.relay is not None


# One mutant per distinct selection: the correct gateway behind it must pass that very selection.
SELECTIONS: dict[object, Mutant] = {_selection(m): m for m in reversed(MUTANTS + GAPS)}


def _selection_id(mutant: Mutant) -> str:
    operations, groups, key, relay = _selection(mutant)
    return "+".join(operations + (groups or ("all",))) + ("+key" if key else "") + ("+relay" if relay else "")


CORRECT_CASES: list[Mutant] = sorted(SELECTIONS.values(), key=_selection_id)


@pytest.mark.parametrize("mutant", CORRECT_CASES, ids=_selection_id)
def test_correct_gateway_passes(run_against: Runner, mutant: Mutant) -> None:
    options = options_for(mutant, "http://x")
    report = run_against(gateway(mutant, options, correct=True), options)
    assert not report.errors, report.errors
    assert report.verdict == "pass", _failed(report)
    judged = {r.requirement.id for r in report.results if r.status.value == "passed"}
    assert judged >= set(mutant.kills), f"the selection does not judge {sorted(set(mutant.kills) - judged)}"


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_broken_gateway_is_killed(run_against: Runner, ledger: Ledger, mutant: Mutant) -> None:
    options = options_for(mutant, "http://x")
    report = run_against(gateway(mutant, options), options)
    failed = _failed(report)
    named = sorted(set(mutant.kills) & failed.keys())
    ledger.outcomes[mutant.name] = report.verdict == "fail" and bool(named)
    ledger.notes[mutant.name] = f"expected a failure of {', '.join(mutant.kills)}; failed: {sorted(failed) or 'none'}"
    assert not report.errors, f"the suite crashed on {mutant.name}: {report.errors}"
    assert report.verdict == "fail", f"{mutant.name} ({mutant.breaks}) survived: every requirement passed"
    assert named, f"{mutant.name} ({mutant.breaks}) failed for other reasons: {ledger.notes[mutant.name]}"


# With no open gap the list is empty; pytest then reports one skip, which says so.
@pytest.mark.parametrize(
    "mutant",
    GAPS or [pytest.param(None, marks=pytest.mark.skip(reason="no known gap is open (GAPS.md)"))],
    ids=lambda m: m.name if m else "none",
)
@pytest.mark.xfail(strict=True, reason="a known gap of the suite: see GAPS.md")
def test_known_gap_survives(run_against: Runner, ledger: Ledger, mutant: Mutant) -> None:
    """Counts as killed only with a failure the correct gateway does not also show (same seed and selection)."""
    options = options_for(mutant, "http://x")
    baseline = _failed(run_against(gateway(mutant, options, correct=True), options))
    failed = _failed(run_against(gateway(mutant, options), options))
    new = sorted(rid for rid, ops in failed.items() if set(ops) - set(baseline.get(rid, [])))
    ledger.gaps[mutant.name] = "caught: " + ", ".join(new) if new else f"survives: {mutant.breaks}"
    assert new, f"{mutant.name} survived the groups {', '.join(mutant.groups)}"


def test_cli_kills_a_broken_gateway_and_passes_the_correct_one(capsys: pytest.CaptureFixture[str]) -> None:
    """The same verdicts through `pixelpact check` (its main(), in-process to spare an interpreter start): exit 1
    with the broken requirement on a failing line of the table, exit 0 for the correct stub."""
    mutant = next(m for m in MUTANTS if m.name == "accepts-n-above-max")
    options = options_for(mutant, "http://x")
    argv = ["check", "--seed", str(options.seed), "--max-examples", str(options.max_examples)]
    argv += [arg for operation in options.operations for arg in ("--operation", operation)]
    argv += [arg for group in options.groups for arg in ("--group", group)]
    for app, expected in ((gateway(mutant, options), 1), (gateway(mutant, options, correct=True), 0)):
        with stub_server(app=app) as base_url:
            status = cli.main([*argv, "--base-url", base_url])
        out = capsys.readouterr().out
        assert status == expected, out
        # The requirement table's row: "n-out-of-range-rejected  critical  1  0  1  0  0  FAIL F-accepted-invalid".
        row = re.search(r"^n-out-of-range-rejected\s.*\s(FAIL|ok)( F-[a-z0-9-]+)?\s*$", out, re.MULTILINE)
        assert row is not None and row.group(1) == ("FAIL" if expected else "ok"), out
