"""--header: a gateway that routes by request headers gets them on every request (from every group, the
schemathesis and property groups included), the curl reproductions carry them, and a credential-bearing header's
value appears in no output or report. Returned image urls on another host never get them."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from pixelpact.conformance.api import CheckError, CheckOptions, check
from pixelpact.conformance.model import Report
from pixelpact.conformance.reporting import render, to_html, to_json, to_junit, to_markdown
from pixelpact.conformance.wire.headers import is_secret, parse_header, secret_values
from pixelpact.conformance.wire.http import Redactor, Sender, WireRequest
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
    for name in (
        *("Authorization", "cookie", "X-Api-Key", "x-bf-vk", "X-Session-Token", "X-Client-Secret", "X-Auth"),
        *("api-key", "access_token", "X-Session", "x-user-password", "Proxy-Authorization", "apikey"),
    ):
        assert is_secret(name), name
    # whole words only: a routing header whose name merely contains one is not a credential
    for name in ("X-Route", "X-Turnkey-Provider", "X-Monkey-Patch", "X-Keyboard", "X-Authority-Zone", "X-Tokens-Left"):
        assert not is_secret(name), name
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


# --- whole-word credential names, short and long secrets, through a real run's reports ----------------------------

PROVIDER = ("X-Turnkey-Provider", "openai")
MODEL = "openai/dall-e-3"
SHORT = ("X-Session", "dall")  # a credential header, a value too short to be masked anywhere but in its own header
LONG = ("X-Tenant-Token", "tt-81d7e0aa-long-enough")


def turnkey_gateway() -> ASGIApp:
    """Routes by X-Turnkey-Provider (404 without it); generations fail with a 500 whose message quotes the tenant
    token, as a careless gateway's error might."""

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if headers.get(PROVIDER[0].lower()) != PROVIDER[1]:
            status, message = 404, "no provider for this request"
        else:
            status, message = 500, f"tenant {headers.get(LONG[0].lower())} is over its quota"
        body = json.dumps({"error": {"message": message, "type": "server_error"}}).encode()
        json_type = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": json_type})
        await send({"type": "http.response.body", "body": body})

    return gateway


def every_report(report: Report) -> dict[str, str]:
    return {
        "console": render(report, color=False),
        "json": to_json(report),
        "junit": to_junit(report),
        "html": to_html(report),
        "markdown": to_markdown(report, html="report.html"),
    }


@pytest.mark.skipif(shutil.which("curl") is None, reason="the reproduction is run with curl")
def test_a_routing_header_stays_readable_and_only_real_secrets_are_masked() -> None:
    with stub_server(app=turnkey_gateway()) as url:
        report = check(
            CheckOptions(
                base_url=url,
                seed=1,
                timeout=5.0,
                model=MODEL,
                groups=("valid",),
                operations=("createImage",),
                headers=(PROVIDER, SHORT, LONG),
            )
        )
        exchanges = [f.exchange for r in report.failed for f in r.failures if f.exchange is not None]
        assert exchanges and all(exchange.status == 500 for exchange in exchanges)
        curl = min((exchange.curl for exchange in exchanges), key=len)
        # the user fills in the secrets the line masks; everything else reproduces as written
        words = [
            word.replace(f"{SHORT[0]}: ***", ": ".join(SHORT)).replace(f"{LONG[0]}: ***", ": ".join(LONG))
            for word in shlex.split(curl)
        ]
        again = subprocess.run([*words, "-o", "/dev/null", "-w", "%{http_code}"], capture_output=True, text=True)

    assert f"'{PROVIDER[0]}: {PROVIDER[1]}'" in curl and MODEL in curl
    assert f"'{SHORT[0]}: ***'" in curl and f"'{LONG[0]}: ***'" in curl
    assert again.stdout == "500", (curl, again.stderr)
    reports = every_report(report)
    for name, text in reports.items():
        assert LONG[1] not in text, name
        assert "***/dall-e" not in text and "***-e-3" not in text, name
    for name in ("json", "html"):
        assert MODEL in reports[name], name
    # the long secret was masked inside the gateway's body, the short one (also a model's word) was left alone
    assert "tenant *** is over its quota" in reports["json"]
    assert "dall-e-3" in reports["console"] + reports["markdown"]
