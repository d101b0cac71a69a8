"""Twelve relays, one fault each (issue 21; two on an edit's prompt unless background_removal): every deterministic
group on the operations the fault touches gives exactly one finding, which says where it broke, and whose title and
`where` are true of every pair it explains."""

from __future__ import annotations

import pytest

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.model import Report, Status
from pixelpact.generator.runtime.serve import stub_server
from tests.conformance.broken.conftest import SEED, free_port
from tests.conformance.broken.single_faults import GROUPS, SINGLE_FAULTS, SingleFault, single_fault_gateway
from tests.conformance.claims import as_json, untrue_claims


def run(fault: SingleFault) -> Report:
    port = free_port()
    with stub_server(app=single_fault_gateway(fault, f"http://127.0.0.1:{port}")) as url:
        return check(
            CheckOptions(
                base_url=url,
                operations=fault.operations,
                groups=GROUPS,
                seed=SEED,
                max_examples=2,
                timeout=15.0,
                upstream_port=port,
            )
        )


@pytest.mark.parametrize("fault", SINGLE_FAULTS, ids=lambda f: f.name)
def test_one_fault_one_finding_with_where(fault: SingleFault) -> None:
    report = run(fault)

    summary = [(f.id, f.where, f.title, f.evidence) for f in report.findings]
    assert not report.errors
    assert [f.id for f in report.findings] == [fault.finding], summary
    [finding] = report.findings
    assert finding.where == fault.where, summary
    assert untrue_claims(as_json(report)) == []
    bad = {(r.requirement.id, r.operation_id) for r in report.results if r.status in (Status.FAILED, Status.BLOCKED)}
    assert bad == set(finding.pairs)
