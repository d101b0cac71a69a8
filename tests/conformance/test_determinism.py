"""The same seed, code and target give the same requests and the same report (deterministic output).

A gateway's answers carry figures that differ from run to run whatever the code (a provider's measured latency, the
time): nothing of them may steer what the suite sends next, or the same seed judges other requests.
"""

from __future__ import annotations

import importlib
import random
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.report_snapshot import normalised
from pixelpact.conformance.reporting import to_json
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.broken.toolkit import Request, on_json_ok, on_request
from tests.conformance.conftest import run

#: One operation, schemathesis's every phase (the stub's default profile is deep), a few examples: a few seconds.
BOUNDED = {"groups": ("schemathesis",), "operations": ("createImage",), "max_examples": 10}


@contextmanager
def gateway_with_wall_clock_answers() -> Iterator[tuple[str, list[bytes], set[int]]]:
    """The stub reporting a fresh latency (an int64 with bounds, as the spec's `extra_fields.latency`) in every 2xx:
    its base URL, the bodies it received in order (multipart boundaries normalised), the latencies it answered."""
    received: list[bytes] = []
    answered: set[int] = set()

    def record(req: Request) -> None:
        match = re.search(r"boundary=([^;\s]+)", req.header("content-type") or "")
        received.append(req.body.replace(match.group(1).encode(), b"BOUNDARY") if match else req.body)

    def latency(_req: Request, body: dict[str, Any]) -> dict[str, Any]:
        # far from what hypothesis draws by itself, so a request carrying one was fed from an answer
        value = random.randrange(10**12, 10**13)
        answered.add(value)
        return {**body, "extra_fields": {**body.get("extra_fields", {}), "latency": value}}

    with stub_server(app=on_request(on_json_ok(default_app(StubConfig()), latency), record)) as url:
        yield url, received, answered


def test_the_requests_follow_from_the_seed_not_from_the_answers() -> None:
    runs = []
    for _ in range(2):
        with gateway_with_wall_clock_answers() as (url, received, answered):
            report = run(url, **BOUNDED)
        runs.append((normalised(to_json(report)), received))
        assert not [note for note in report.notes if "clock" in note], "a run not cut short repeats from its seed"
        fed_back = {value for value in answered if str(value).encode() in b"".join(received)}
        assert not fed_back, f"{len(fed_back)} latencies the gateway answered were sent back in later requests"

    (first_report, first_sent), (second_report, second_sent) = runs
    assert len(first_sent) > 20, "the run exercised schemathesis's phases"
    assert first_sent == second_sent
    assert first_report == second_report


def sent_in_a_bounded_run() -> tuple[str, list[bytes]]:
    with gateway_with_wall_clock_answers() as (url, received, _answered):
        report = run(url, **BOUNDED)
    return normalised(to_json(report)), received


def test_a_new_constant_in_a_loaded_module_changes_nothing_sent(tmp_path: Path) -> None:
    """hypothesis draws short strings and numbers found in the source of the loaded modules outside site-packages
    (its "local constants"): pixelpact's own in an editable install, a pytest project's; schemathesis those of the
    code registered with @schemathesis.python.constants. A check draws none of them, so a constant added to a module
    (here one no code uses, sorted before all others) changes no request, loaded or registered."""
    from schemathesis.python import constants
    from schemathesis.python._constants.registry import default_registry

    before = sent_in_a_bounded_run()
    (tmp_path / "unused_constants.py").write_text('UNUSED = ("!a", "!b", "!c", 123456789, 1234.5)\n')
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("unused_constants")
        constants(lambda: module)
        after = sent_in_a_bounded_run()
    finally:
        default_registry().clear()
        sys.path.remove(str(tmp_path))
        sys.modules.pop("unused_constants", None)
    assert after[1] == before[1]
    assert after[0] == before[0]
