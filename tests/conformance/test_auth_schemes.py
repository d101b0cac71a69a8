"""auth-scheme-accepted: with --api-key, the valid request carrying the key gets 2xx in every scheme the operation's
security lists (read from the spec), one request per scheme; a gateway refusing one scheme fails, naming it."""

from __future__ import annotations

import base64

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.engine.context import auth_headers
from pixelpact.conformance.engine.contract import load_contract
from pixelpact.conformance.model import Report, Status
from pixelpact.generator.runtime.auth import check_credentials
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.conftest import API_KEY

ACCEPTED = "auth-scheme-accepted"
OPERATIONS = ("createImage", "openaiCreateImageVariation", "azureCreateImage", "azureCreateImageEdit")


def _run(base_url: str, **options: object) -> Report:
    settings: dict[str, object] = {
        "base_url": base_url,
        "api_key": API_KEY,
        "operations": OPERATIONS,
        "groups": ("auth",),
        "seed": 5,
        "timeout": 15.0,
    }
    settings.update(options)
    return check(CheckOptions(**settings))  # type: ignore[arg-type]


def refusing(app: ASGIApp, header: bytes, prefix: bytes = b"") -> ASGIApp:
    """A gateway answering 401 to any request carrying `header` (starting with `prefix`), even with the right key."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        value = dict(scope.get("headers", [])).get(header, b"") if scope["type"] == "http" else b""
        if value and value.lower().startswith(prefix):
            body = b'{"error": {"message": "not supported", "type": "authentication_error"}}'
            await send(
                {"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


@pytest.mark.parametrize("auth", ["bearer", "basic", "x-bf-vk", "x-api-key", "api-key"])
def test_stub_accepts_the_key_in_every_listed_scheme(keyed_stub_url: str, auth: str) -> None:
    report = _run(keyed_stub_url, auth=auth)

    assert report.errors == []
    assert report.verdict == "pass", [(r.requirement.id, r.operation_id, r.message) for r in report.failed]
    assert report.statuses(ACCEPTED) == dict.fromkeys(OPERATIONS, Status.PASSED)


def test_one_request_per_listed_scheme(keyed_stub_url: str) -> None:
    """The budget: missing (1) + wrong (one per scheme the operation allows) + accepted (one per scheme it lists)."""
    contract = load_contract()
    ops = [op for op in contract.operations if op.operation_id in OPERATIONS]
    listed = sum(len(op.auth_schemes) for op in ops)
    report = _run(keyed_stub_url)

    assert report.requests_sent == len(ops) + 2 * listed
    # The Azure operations list the api-key header, the others do not: the count follows the spec.
    assert {op.operation_id: "api-key" in op.auth_schemes for op in ops} == {
        "createImage": False,
        "openaiCreateImageVariation": False,
        "azureCreateImage": True,
        "azureCreateImageEdit": True,
    }


@pytest.mark.parametrize(
    ("header", "prefix", "named", "refused_on"),
    [
        (b"x-bf-vk", b"", "x-bf-vk", set(OPERATIONS)),
        (b"authorization", b"basic ", "Authorization: Basic", set(OPERATIONS)),
        (b"x-api-key", b"", "x-api-key", set(OPERATIONS)),
        (b"api-key", b"", "api-key", {"azureCreateImage", "azureCreateImageEdit"}),
    ],
)
def test_a_refused_scheme_fails_naming_it(header: bytes, prefix: bytes, named: str, refused_on: set[str]) -> None:
    app = refusing(default_app(StubConfig(api_keys=(API_KEY,))), header, prefix)
    with stub_server(app=app) as url:
        report = _run(url, auth="bearer")

    failed = {r.operation_id: r.message for r in report.failed if r.requirement.id == ACCEPTED}
    assert set(failed) == refused_on
    assert all(named in message and "401" in message for message in failed.values()), failed
    # The rejections still pass: only acceptance is broken.
    assert {r.requirement.id for r in report.failed} == {ACCEPTED}
    assert API_KEY not in str([r.message for r in report.results])


def test_skipped_without_a_key(keyed_stub_url: str) -> None:
    report = _run(keyed_stub_url, api_key=None)
    assert report.statuses(ACCEPTED) == dict.fromkeys(OPERATIONS, Status.NOT_JUDGED)


def test_basic_convention_matches_the_stub() -> None:
    """The suite sends Basic as `pixelpact:KEY` (a `user:password` key as given); the stub reads either half."""
    for key in (API_KEY, f"someone:{API_KEY}"):
        headers = {name.lower(): value for name, value in auth_headers("basic", key).items()}
        check_credentials(headers, (key.rsplit(":", 1)[-1],), "native")
    token = auth_headers("basic", API_KEY)["Authorization"].split(" ", 1)[1]
    assert base64.b64decode(token).decode() == f"pixelpact:{API_KEY}"
