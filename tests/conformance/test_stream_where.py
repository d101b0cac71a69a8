"""Two-sided runs: a failed stream request says where it broke, from its record at the recording upstream (the
relays in tests/conformance/broken/real_failures.py prove it end to end; these pin each case's sentence and cause)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from pixelpact.conformance.catalogue.findings import GATEWAY_FAULT, PASSED_ON
from pixelpact.conformance.engine.contract import load_contract
from pixelpact.conformance.groups._upstream import Outcome, Probe, file_sha256, marked
from pixelpact.conformance.groups.streaming import located, stream_broke
from pixelpact.conformance.model import Exchange, Observation
from pixelpact.conformance.wire.http import Reply

PROBE = Probe("stream", {"stream": True}, "ppx-0123456789abcdef", frozenset())


def reply(status: int | None, error: str | None = None) -> Reply:
    exchange = Exchange("POST", "http://gw/v1/images/generations", "curl ...", status, error=error)
    return Reply(exchange, status, httpx.Headers(), b"", error)


def record(status: int, **body: Any) -> dict[str, Any]:
    return {"seq": 1, "status": status, "json": {"prompt": f"x [{PROBE.marker}]", **body}, "parts": None}


def test_provider_streamed_gateway_failed() -> None:
    note, cause = stream_broke(Outcome(PROBE, reply(500), [record(200, stream=True)]))
    assert note == "the provider answered 200 but the gateway answered 500"
    assert cause == GATEWAY_FAULT


def test_provider_streamed_gateway_broke_the_stream_off() -> None:
    note, cause = stream_broke(Outcome(PROBE, reply(200, "peer closed"), [record(200, stream=True)]))
    assert note == "the provider answered 200 but the gateway's stream broke off"
    assert cause == GATEWAY_FAULT


def test_provider_failed_gateway_passed_it_on() -> None:
    note, cause = stream_broke(Outcome(PROBE, reply(503), [record(200, stream=True), record(503, stream=True)]))
    assert note == f"the provider answered 503 to the stream request; {PASSED_ON}"
    assert cause is None  # the findings place it at the provider from PASSED_ON


def test_provider_failed_gateway_changed_the_status() -> None:
    note, cause = stream_broke(Outcome(PROBE, reply(500), [record(503, stream=True)]))
    assert note == "the provider answered 503, the gateway answered 500"
    assert cause is None


def test_nothing_reached_the_provider() -> None:
    note, cause = stream_broke(Outcome(PROBE, reply(500), []))
    assert note == "nothing reached the provider: the gateway never forwarded the stream request"
    assert cause is None


@pytest.mark.parametrize(
    ("entry", "cause"),
    [
        (record(200), "dropped:stream"),
        ({"seq": 1, "status": 200, "json": None, "parts": [{"name": "stream", "value": "false"}]}, "changed:stream"),
        ({"seq": 1, "status": 200, "json": None, "parts": [{"name": "stream", "value": "true"}]}, GATEWAY_FAULT),
    ],
)
def test_stream_field_on_the_way(entry: dict[str, Any], cause: str) -> None:
    assert stream_broke(Outcome(PROBE, reply(200), [entry]))[1] == cause


def test_without_an_upstream_nothing_changes() -> None:
    failed = [Observation("stream-content-type", "createImage", passed=False, message="expected 200, got 500")]
    ctx: Any = SimpleNamespace(upstream=None)
    assert located(ctx, None, reply(500), failed) is failed


def test_stream_requests_keep_their_files_and_carry_the_marker() -> None:
    contract = load_contract()
    edit = contract.operation("createImageEdit")
    image = b"\x89PNG the request's own image"
    probe = marked(edit, "stream", {"stream": True, "prompt": "p", "image": image}, files=None)
    assert probe.body["image"] == image and not probe.file_hashes
    assert probe.marker in probe.body["prompt"]
    assert probe.matches({"json": None, "parts": [{"name": "prompt", "value": probe.body["prompt"]}]})
    assert not probe.matches({"json": {"prompt": "p"}, "parts": None})
    # no prompt and no user to carry the marker: the files are made for the probe, and their hashes mark it
    bare = SimpleNamespace(properties={}, files=("image",), file_fields=frozenset({"image"}), file_list_fields=())
    probe = marked(bare, "stream", {"image": image}, files=None)  # type: ignore[arg-type]
    assert probe.body["image"] != image
    assert probe.file_hashes == {file_sha256(probe.body["image"])}
