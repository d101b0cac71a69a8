"""Each subtle check fires on a gateway that breaks just that rule (the broad catalogue of broken gateways is in
broken/; these pin the checks whose absence would go unnoticed there)."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.groups.streaming import _partial_problem, parse_sse
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.broken.toolkit import read_body, replaying
from tests.conformance.conftest import API_KEY, failing

Rewrite = Callable[[Scope, bytes], tuple[Scope, bytes]]


def rewriting(
    app: ASGIApp, request: Rewrite | None = None, response: Callable[[bytes], bytes] | None = None
) -> ASGIApp:
    """Wrap an app, rewriting the request (scope and whole body) and/or the JSON response body."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        if request is not None:
            scope, body = request(scope, body)
        replay = replaying(body)

        start: list[Message] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if response is None:
                await send(message)
            elif message["type"] == "http.response.start":
                start.append(message)
            else:
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    new = response(b"".join(chunks))
                    headers = [(k, v) for k, v in start[0]["headers"] if k != b"content-length"]
                    await send({**start[0], "headers": [*headers, (b"content-length", str(len(new)).encode())]})
                    await send({"type": "http.response.body", "body": new})

        await app(scope, replay, capture)

    return wrapped


def _any_x_api_key(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
    headers = [(k, API_KEY.encode() if k == b"x-api-key" else v) for k, v in scope["headers"]]
    return {**scope, "headers": headers}, body


def _azure_needs_model(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
    if "/deployments/" in scope["path"] and body.startswith(b"{") and b'"model"' not in body:
        return {**scope, "path": "/v1/images/generations"}, body  # the native route requires a model: 400
    return scope, body


def _numeric_string_n(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
    if body.startswith(b"{"):
        document = json.loads(body)
        if isinstance(document.get("n"), str) and document["n"].isdigit():
            document["n"] = int(document["n"])
        body = json.dumps(document).encode()
    return scope, body


def _created_in_ms(body: bytes) -> bytes:
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if isinstance(document, dict) and isinstance(document.get("created"), int):
        document["created"] *= 1000
    return json.dumps(document).encode()


def _refuse_unknown_fields(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
    if b"pixelpact_extra" in body:
        return {**scope, "path": "/refused"}, body  # a 404 JSON error from the stub
    return scope, body


def _urls_on_dead_port(body: bytes) -> bytes:
    try:
        document = json.loads(body)
    except ValueError:
        return body
    for item in document.get("data", []) if isinstance(document, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            parts = urlsplit(item["url"])
            item["url"] = parts._replace(netloc=f"{parts.hostname}:9").geturl()  # port 9: nothing listens
    return json.dumps(document).encode()


CASES = [
    (
        "unknown field refused",
        {"request": _refuse_unknown_fields},
        ("createImageEdit",),
        ("valid",),
        "unknown-field-tolerated",
    ),
    ("urls on a dead port", {"response": _urls_on_dead_port}, ("openaiCreateImage",), ("valid",), "url-serves-image"),
    ("any x-api-key", {"request": _any_x_api_key}, ("createImage",), ("auth",), "auth-wrong-key-rejected"),
    (
        "Azure needs a model",
        {"request": _azure_needs_model},
        ("azureCreateImage",),
        ("valid",),
        "valid-request-accepted",
    ),
    (
        'JSON n "1" accepted',
        {"request": _numeric_string_n},
        ("openaiCreateImage",),
        ("invalid",),
        "n-not-integer-rejected",
    ),
    ("created in milliseconds", {"response": _created_in_ms}, ("createImageVariation",), ("valid",), "response-schema"),
]


@pytest.mark.parametrize(
    ("_name", "rewrite", "operations", "groups", "requirement_id"), CASES, ids=[c[0] for c in CASES]
)
def test_check_fires(
    _name: str, rewrite: dict[str, object], operations: tuple[str, ...], groups: tuple[str, ...], requirement_id: str
) -> None:
    app = rewriting(default_app(StubConfig(api_keys=(API_KEY,))), **rewrite)  # type: ignore[arg-type]
    with stub_server(app=app) as url:
        report = check(CheckOptions(base_url=url, api_key=API_KEY, operations=operations, groups=groups, seed=1))

    assert (requirement_id, operations[0]) in failing(report)


def test_extra_partial_events_fail_the_partial_index() -> None:
    events = "".join(
        f'data: {{"type": "image_generation.partial_image", "partial_image_index": {i}}}\n\n' for i in range(3)
    )
    stream = parse_sse(events)

    assert _partial_problem(stream, "sent", requested=1, n=3) is None
    assert "4 partial events, more than partial_images=1" in (
        _partial_problem(parse_sse(events + events[:80] + "\n\n"), "sent", requested=1, n=3) or ""
    )
    assert "partial_image_index 2, but partial_images=1" in (_partial_problem(stream, "sent", requested=1, n=2) or "")
