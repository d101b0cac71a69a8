"""Each relay modelled on a real gateway's failure gets exactly one finding naming its cause: no other failure, and
every pair its fault keeps from being judged blocked by that finding, not failed."""

from __future__ import annotations

import pytest

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.model import Status
from pixelpact.generator.runtime.serve import stub_server
from tests.conformance.broken.conftest import SEED, free_port
from tests.conformance.broken.real_failures import REAL_FAILURES, RealFailure, relay_gateway
from tests.conformance.claims import as_json, untrue_claims


@pytest.mark.parametrize("failure", REAL_FAILURES, ids=lambda f: f.name)
def test_one_finding_names_the_cause(failure: RealFailure) -> None:
    port = free_port()
    with stub_server(app=relay_gateway(failure, f"http://127.0.0.1:{port}")) as url:
        report = check(
            CheckOptions(
                base_url=url,
                operations=failure.operations,
                groups=failure.groups,
                seed=SEED,
                max_examples=2,
                timeout=15.0,
                upstream_port=port,
                api_key=failure.api_key,
            )
        )

    summary = [(f.id, f.title, f.evidence) for f in report.findings]
    assert [f.id for f in report.findings] == [failure.finding], summary
    [finding] = report.findings
    assert failure.title in finding.title
    assert not report.errors
    explained = set(finding.pairs)
    bad = {(r.requirement.id, r.operation_id) for r in report.results if r.status in (Status.FAILED, Status.BLOCKED)}
    assert bad == explained
    assert all(r.blocked_by == finding.id for r in report.results if r.status is Status.BLOCKED)
    assert finding.reproduction.startswith("curl ")
    assert untrue_claims(as_json(report)) == []
    if failure.where is not None:
        assert finding.where == failure.where
    if failure.evidence is not None:
        assert failure.evidence in finding.evidence
