"""Two-sided runs: a valid request the provider refused is told apart by what the provider received. Changed on the way
(a field dropped), the refusal is the change's symptom and is told its cause, so it folds into the change's finding;
received intact, the refusal keeps no cause and stays its own finding. Real servers: the recording upstream and a
relay gateway in front of it, the valid group's own judge."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pixelpact.conformance.catalogue.findings import PASSED_ON
from pixelpact.conformance.engine.context import RunContext, Target, Upstream
from pixelpact.conformance.engine.contract import load_contract
from pixelpact.conformance.engine.upstream import recording_upstream
from pixelpact.conformance.groups._upstream import Recording, record_files, record_values
from pixelpact.conformance.groups.valid import Case, judge_case
from pixelpact.conformance.model import Observation, Seen
from pixelpact.conformance.wire.http import Redactor, Sender
from pixelpact.generator.runtime.serve import stub_server
from tests.conformance.broken.conftest import free_port
from tests.conformance.broken.relay import Relay, RelayGateway
from tests.conformance.broken.toolkit import Request


def _drop_type(req: Request) -> Request | None:
    return req.with_field("type", None) if req.is_image_route and req.field("type") is not None else None


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    place = Upstream("127.0.0.1", free_port())
    with recording_upstream(place):
        yield place


def _judged(upstream: Upstream, relay: Relay, **fields: object) -> Observation:
    contract = load_contract()
    edit = contract.operation("createImageEdit")
    sender = Sender(timeout=10, concurrency=1, max_requests=None, redactor=Redactor([]))
    with stub_server(app=RelayGateway(f"http://127.0.0.1:{upstream.port}", relay)) as url:
        ctx = RunContext(
            contract, (edit,), Target(url), sender, seed=1, max_examples=1, concurrency=1, upstream=upstream
        )
        body = ctx.valid_body(edit, **fields)
        body.pop("prompt", None)
        [observation] = judge_case(ctx, edit, Case("no prompt", body, 1, None, None))
    assert not observation.passed and "expected 200, got 400" in observation.message
    return observation


def test_a_refusal_of_what_a_drop_left_is_told_the_drop(upstream: Upstream) -> None:
    observation = _judged(upstream, Relay(outgoing=_drop_type), type="background_removal")
    assert observation.cause == "dropped:type"
    assert observation.seen == Seen.CHANGED
    assert "dropped type (sent 'background_removal')" in observation.message and PASSED_ON in observation.message


def test_a_refusal_of_an_intact_request_keeps_its_own_evidence(upstream: Upstream) -> None:
    observation = _judged(upstream, Relay())  # neither prompt nor type: the provider refuses what it was sent
    assert observation.cause is None
    assert observation.seen is None


@pytest.mark.parametrize("prompt", [True, False], ids=["marked in the prompt", "marked in the files"])
def test_a_valid_case_sends_exactly_the_fields_it_declares(upstream: Upstream, prompt: bool) -> None:
    """The mark that traces a valid request adds no field (no `user`): "required fields only" sends only those."""
    contract = load_contract()
    edit = contract.operation("createImageEdit")
    sender = Sender(timeout=10, concurrency=1, max_requests=None, redactor=Redactor([]))
    with stub_server(app=RelayGateway(f"http://127.0.0.1:{upstream.port}", Relay())) as url:
        ctx = RunContext(
            contract, (edit,), Target(url), sender, seed=1, max_examples=1, concurrency=1, upstream=upstream
        )
        body = ctx.valid_body(edit) if prompt else ctx.valid_body(edit, type="background_removal")
        since = Recording(upstream).last_seq()
        judge_case(ctx, edit, Case("required fields only", body, 1, None, None))
    [record] = [r for r in Recording(upstream).records() if int(r.get("seq") or 0) > since]
    assert set(record_values(record)) == set(body) - edit.files
    assert {str(part.get("name")) for part in record_files(record)} == set(body) & edit.files
