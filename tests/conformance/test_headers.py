"""--header: a gateway that routes by request headers gets them on every request (from every group, the
schemathesis and property groups included), the curl reproductions carry them, and a credential-bearing header's
value appears in no output or report. Returned image urls on another host never get them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from pixelpact.conformance.api import CheckError, CheckOptions, check
from pixelpact.conformance.headers import is_secret, parse_header, secret_values
from pixelpact.conformance.http import Redactor, Sender, WireRequest
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server

ROUTE = ("X-Route", "images-provider-a")
TOKEN = ("X-Tenant-Token", "tt-5f0c2b9e-not-shown-anywhere")
PRIVATE = ("X-Private-Thing", "pp-81d7e0aa-marked-secret")


def routed_by_headers(app: ASGIApp, seen: list[dict[str, str]]) -> ASGIApp:
    """A gateway that records every request's headers and serves only requests carrying the routing header; its
    variations are broken (500), so the report carries failures with their curl lines."""

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            seen.append(headers)
            if headers.get(ROUTE[0].lower()) != ROUTE[1]:
                body = b'{"error": {"message": "no route for this request"}}'
                json_type = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 404, "headers": json_type})
                await send({"type": "http.response.body", "body": body})
                return
            if scope["path"].endswith("/variations"):
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"broken"})
                return
        await app(scope, receive, send)

    return gateway


@contextmanager
def recording_gateway() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    with stub_server(app=routed_by_headers(default_app(StubConfig()), seen)) as url:
        yield url, seen


def test_parsing_and_what_counts_as_a_secret() -> None:
    assert parse_header("X-Route:  a:b ") == ("X-Route", "a:b")
    with pytest.raises(ValueError, match="'X-Route value' is not 'Name: value'"):
        parse_header("X-Route value")
    for name in ("Authorization", "cookie", "X-Api-Key", "x-bf-vk", "X-Session-Token", "X-Client-Secret", "X-Auth"):
        assert is_secret(name), name
    assert not is_secret("X-Route")
    assert is_secret("X-Route", marked=("x-route",))
    assert secret_values([("Authorization", "Bearer abc123"), ("X-Route", "r")]) == ["Bearer abc123", "abc123"]


def test_headers_reach_the_gateway_on_every_request_and_secrets_no_output(tmp_path: Path) -> None:
    with recording_gateway() as (url, seen):  # one run of the whole catalogue on two operations: ~10 s
        done = subprocess.run(
            [
                sys.executable, "-m", "pixelpact.conformance.cli", "check", "--base-url", url, "--seed", "3",
                "--operation", "createImage", "--operation", "createImageVariation", "--max-examples", "2",
                "--header", ": ".join(ROUTE), "--header", ": ".join(TOKEN), "--header", ": ".join(PRIVATE),
                "--secret-header", PRIVATE[0],
                "--json-report", str(tmp_path / "r.json"), "--html-report", str(tmp_path / "r.html"),
                "--junit", str(tmp_path / "r.xml"),
            ],
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip

    assert done.returncode == 1, done.stderr
    assert len(seen) > 50
    assert [r for r in seen if r.get(ROUTE[0].lower()) != ROUTE[1]] == []
    assert all(request.get(TOKEN[0].lower()) == TOKEN[1] for request in seen)
    assert all(request.get(PRIVATE[0].lower()) == PRIVATE[1] for request in seen)
    outputs = [done.stdout, done.stderr, *(p.read_text() for p in tmp_path.iterdir())]
    for text in outputs:
        assert TOKEN[1] not in text and PRIVATE[1] not in text
    report = json.loads((tmp_path / "r.json").read_text())
    curls = [
        failure["exchange"]["curl"]
        for result in report["requirements"]
        for failure in result["failures"]
        if failure["exchange"]
    ]
    assert len(curls) > 10
    for curl in curls:
        assert f"'{ROUTE[0]}: {ROUTE[1]}'" in curl
        assert f"'{TOKEN[0]}: ***'" in curl


def test_headers_go_to_the_gateway_only_never_to_another_host() -> None:
    with recording_gateway() as (gateway, at_gateway), recording_gateway() as (elsewhere, at_elsewhere):
        sender = Sender(
            timeout=5.0,
            concurrency=1,
            max_requests=None,
            redactor=Redactor(secret_values([TOKEN])),
            headers=(ROUTE, TOKEN),
            gateway=gateway,
        )
        try:
            reply = sender.send(WireRequest("GET", f"{gateway}/health", {"X-Route": "probe-own"}))
            sender.send(WireRequest("GET", f"{elsewhere}/returned-image.png"))
        finally:
            sender.close()

    assert at_gateway[0][TOKEN[0].lower()] == TOKEN[1]
    assert at_gateway[0]["x-route"] == "probe-own"  # the request's own header wins over --header
    assert TOKEN[0].lower() not in at_elsewhere[0] and "x-route" not in at_elsewhere[0]
    assert TOKEN[1] not in reply.exchange.curl


def test_a_malformed_header_is_one_line() -> None:
    with pytest.raises(CheckError, match="is not 'Name: value'"):
        check(CheckOptions(headers=(("Bad Name", "v"),)))
