"""The suite runs on pytest-xdist workers (pyproject's addopts) and still says what a one-process run says: tests that
share a module-scoped fixture run on one worker, the broken gateways' kill rate is printed, the closing line counts
the tests, and the exit codes `.ci/run` reads are pytest's own (5: nothing collected)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict

from tests.conformance.broken.ledger import Ledger
from tests.conftest import ROOT

KILLED = "tests/conformance/broken/test_broken_gateways.py::test_broken_gateway_is_killed"


def pytest_here(*args: str) -> subprocess.CompletedProcess[str]:
    """pytest in the repository, with its own configuration: two xdist workers, as on the 2-core machine."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_two_workers_group_shared_fixtures_and_report_like_one_process() -> None:
    done = pytest_here("-v", "tests/spec/test_spec.py", f"{KILLED}[rejects-n-max]", f"{KILLED}[rejects-size-1792x1024]")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    workers: dict[str, set[str]] = defaultdict(set)
    for worker, test in re.findall(r"^\[(gw\d)\] \[ *\d+%\] PASSED (\S+)", done.stdout, re.MULTILINE):
        workers[test.split("[", 1)[0]].add(worker)
    # test_spec.py's module-scoped `spec` fixture: every test using it ran on one worker, where it was loaded once.
    assert len(workers["tests/spec/test_spec.py::test_spec_states_seeded_fact"]) == 1, dict(workers)
    assert len(workers["tests/spec/test_spec.py::test_spec_keeps_its_convention"]) == 1, dict(workers)
    assert (
        workers["tests/spec/test_spec.py::test_spec_states_seeded_fact"]
        == workers["tests/spec/test_spec.py::test_spec_keeps_its_convention"]
    )
    assert "2 workers" in done.stdout
    # The kill rate comes from the workers' reports: the controller that prints it ran no test.
    assert "kill rate: 2/2 broken gateways killed (100%)" in done.stdout, done.stdout[-3000:]
    passed = sum(len(re.findall(r"PASSED", line)) for line in done.stdout.splitlines() if line.startswith("[gw"))
    assert re.search(rf"^=+ {passed} passed in [\d.]+s", done.stdout.splitlines()[-1]), done.stdout[-500:]


def test_nothing_collected_is_exit_5_under_xdist_too() -> None:
    done = pytest_here("tests/spec/test_spec.py", "-k", "no_test_is_named_like_this")
    assert done.returncode == 5, done.stdout[-2000:]


def test_the_ledger_travels_in_report_properties() -> None:
    sent = Ledger(outcomes={"a": True, "b": False}, notes={"b": "survived"}, gaps={"g": "survives: x"})
    received = Ledger()
    received.merge([("other", 1), *sent.properties()])
    received.merge(sent.properties())  # a report seen twice (setup, teardown) changes nothing
    assert received == sent
