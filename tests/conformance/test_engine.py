"""The engine and its plumbing: folding, group isolation, events, --prefix routing, SSE parsing, evidence."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.catalogue.requirements import CATALOGUE
from pixelpact.conformance.engine.context import RunContext, Target
from pixelpact.conformance.engine.contract import load_contract
from pixelpact.conformance.engine.engine import Event, Folder, GroupFinished, ObservationMade, RunFinished, RunStarted
from pixelpact.conformance.groups.streaming import parse_sse
from pixelpact.conformance.groups.valid import cases_for
from pixelpact.conformance.model import Observation, Origin, Requirement, Severity, Status
from pixelpact.conformance.reporting import ProgressLine
from pixelpact.conformance.suite import ALL_GROUPS
from pixelpact.conformance.wire.http import Part, Redactor, Sender, WireRequest, curl_line, encode_multipart
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server

REQ = Requirement("demo-requirement", "a demo", "nowhere", Severity.MINOR, "demo", Origin.CONVENTION)


def test_catalogue_ids_are_unique_kebab_case() -> None:
    ids = [requirement.id for requirement in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert all(rid.replace("-", "").isalnum() and rid == rid.lower() for rid in ids)


@pytest.mark.parametrize(
    ("observations", "status", "message"),
    [
        ([(True, False, ""), (False, False, "bad"), (True, False, "")], Status.FAILED, "bad"),
        ([(False, True, "no key"), (False, True, "later")], Status.NOT_JUDGED, "no key"),
        ([(False, True, "budget"), (True, False, "")], Status.PASSED, ""),
    ],
)
def test_folding(observations: list[tuple[bool, bool, str]], status: Status, message: str) -> None:
    folder = Folder([REQ], ["op"])
    for passed, skipped, text in observations:
        folder.add(Observation(REQ.id, "op", passed, text, skipped=skipped))
    [result] = folder.results()
    assert (result.status, result.message) == (status, message)


class Exploding:
    """A group that reports once and then hits a bug."""

    name = "exploding"
    requirements = (REQ,)

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        yield Observation(REQ.id, ctx.operations[0].operation_id, True)
        raise ZeroDivisionError("a bug in a group")


def test_a_broken_group_is_reported_and_the_others_still_run(stub_url: str) -> None:
    events: list[Event] = []
    report = check(
        CheckOptions(
            base_url=stub_url,
            operations=("createImage",),
            groups=("exploding", "auth"),
            seed=1,
            listeners=(events.append,),
        ),
        suite=(*ALL_GROUPS, Exploding()),
    )

    assert len(report.errors) == 1 and "ZeroDivisionError: a bug in a group" in report.errors[0]
    assert report.statuses("demo-requirement") == {"createImage": Status.PASSED}
    assert report.statuses("auth-missing-rejected") == {"createImage": Status.NOT_JUDGED}
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert any(isinstance(e, GroupFinished) and e.error for e in events)
    # one from the broken group, three skips from auth (missing, wrong key, scheme accepted) without --api-key
    assert sum(isinstance(e, ObservationMade) for e in events) == 4


def remount_azure(app: ASGIApp) -> ASGIApp:
    """A gateway serving the Azure routes at /openai/deployments/... (as LiteLLM does), not at the spec's prefix."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if path.startswith("/openai/openai/deployments/"):
            path = "/not-here" + path
        elif path.startswith("/openai/deployments/"):
            path = "/openai" + path
        await app({**scope, "path": path, "raw_path": path.encode()}, receive, send)

    return wrapped


def test_prefix_maps_spec_routes_onto_the_gateway() -> None:
    options: dict[str, Any] = {
        "operations": ("azureCreateImage", "azureCreateImageVariation"),
        "groups": ("valid",),
        "seed": 1,
        "deployment": "dall-e-2",
        "api_version": "2025-04-01-preview",
    }
    with stub_server(app=remount_azure(default_app(StubConfig()))) as url:
        unmapped = check(CheckOptions(base_url=url, **options))
        mapped = check(
            CheckOptions(base_url=url, prefixes=(("/openai/openai/deployments", "/openai/deployments"),), **options)
        )

    # unmapped, the routes are not served: every pair there is blocked by that one finding, none failed
    unserved = unmapped.result("valid-request-accepted", "azureCreateImage")
    assert unserved is not None and unserved.status is Status.BLOCKED
    assert unserved.blocked_by == "F-route-not-served" and not unmapped.failed
    assert mapped.verdict == "pass"
    [finding] = unmapped.findings
    assert "/openai/openai/deployments/dall-e-2/images/" in finding.reproduction
    assert "api-version=2025-04-01-preview" in finding.reproduction


def test_sse_parsing_tolerates_comments_done_and_crlf() -> None:
    text = (
        ': keep-alive\r\nevent: image_generation.partial_image\r\ndata: {"type": "a",\r\ndata:  "x": 1}\r\n\r\n'
        "data: not json\n\n: another comment\ndata: [DONE]\n\n"
    )
    stream = parse_sse(text)
    assert stream.events == [{"type": "a", "x": 1}, None]
    assert stream.done


def test_multipart_keeps_hostile_names_and_curl_quotes_them() -> None:
    parts = (
        Part("a;b", "1"),
        Part("ctl\x01", "2"),
        Part("image", b"\x89PNG", filename="image-1.png", content_type="image/png"),
    )
    body = encode_multipart(parts)
    assert b'name="a;b"' in body and b'name="ctl\x01"' in body and b'filename="image-1.png"' in body

    curl = curl_line(WireRequest("POST", "http://h/x", {}, parts=parts), {"Authorization": "Bearer sk-secret-1"})
    assert "--form-string 'a;b=1'" in curl
    assert "--form-string $'ctl\\x01=2'" in curl
    assert "-F 'image=@image-1.png;type=image/png'" in curl
    assert Redactor(["sk-secret-1"])(curl).count("***") == 1


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_redraws_in_place_and_clears(stub_url: str) -> None:
    stream = FakeTty()
    check(
        CheckOptions(
            base_url=stub_url, operations=("createImage",), groups=("valid",), seed=1, listeners=(ProgressLine(stream),)
        )
    )
    text = stream.getvalue()

    header, _, rest = text.partition("\n")
    assert header.startswith(f"pixelpact check: {stub_url}, 1 operation(s), groups valid, seed 1")
    assert "\r  [valid] " in rest and " requests, " in rest and "\n" not in rest  # one line, redrawn
    assert rest.endswith("\r")  # cleared at the end, leaving the terminal to the table


def test_same_seed_same_requests_other_seed_other_pairings() -> None:
    contract = load_contract()
    sender = Sender(timeout=1, concurrency=1, max_requests=0, redactor=Redactor([]))

    def bodies(seed: int) -> list[dict[str, Any]]:
        ctx = RunContext(
            contract,
            contract.operations,
            Target("http://127.0.0.1:9"),
            sender,
            seed=seed,
            max_examples=1,
            concurrency=1,
        )
        return [case.body for case in cases_for(ctx, contract.operation("createImage"))]

    assert bodies(1) == bodies(1)
    assert bodies(1) != bodies(2)
    sizes = {body.get("size") for body in bodies(2)}
    assert set(contract.operation("createImage").enum("size") or ()) <= sizes  # every size, whatever the seed


def test_sse_event_names_are_kept_and_must_match_the_type() -> None:
    from pixelpact.conformance.engine.contract import load_contract
    from pixelpact.conformance.groups.streaming import _event_type_problem

    operation = load_contract().operation("createImage")
    good = parse_sse(
        'event: image_generation.completed\ndata: {"type": "image_generation.completed"}\n\n'
        'data: {"type": "image_generation.completed"}\n\n'
    )
    bad = parse_sse('event: image_edit.completed\ndata: {"type": "image_generation.completed"}\n\n')

    assert good.names == ["image_generation.completed", None]
    assert _event_type_problem(operation, good, "sent") is None
    assert "named 'image_edit.completed' but its data has type" in (_event_type_problem(operation, bad, "sent") or "")
