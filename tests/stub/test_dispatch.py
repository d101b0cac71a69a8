"""The direct dispatch of operations on fixed paths (generator/runtime/dispatch.py) answers as Starlette's stack does.

Each request is sent twice to one app: once through the StubApp (the direct path for the native and OpenAI routes)
and once through its Starlette app (the same routes, middleware and exception handlers), and the two answers must be
the same bytes (the answer's id, `created` and latency apart), and the recording's entries the same.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from pixelpact.generated.server import CREATE_IMAGE, create_app
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.dispatch import StubApp
from pixelpact.generator.runtime.gateway import StubGateway
from tests.stub.conftest import png

KEY = "sk-dispatch-test-key-0123456789"
JSON = {"content-type": "application/json"}
AUTH = {"authorization": f"Bearer {KEY}"}
FORM = {"model": "openai/dall-e-2", "n": "1", "size": "256x256"}
IMAGE = {"image": ("a.png", png(), "image/png")}

#: (method, path, headers, JSON or raw body, multipart files) of requests whose answers must not depend on the path.
GENERATIONS = "/v1/images/generations"
REQUESTS: list[tuple[str, str, dict[str, str], Any, Any]] = [
    ("POST", GENERATIONS, AUTH, {"model": "openai/dall-e-3", "prompt": "a fox", "size": "1024x1024"}, None),
    ("POST", "/openai/v1/images/generations", AUTH, {"model": "dall-e-2", "prompt": "a fox", "n": 2}, None),
    ("POST", GENERATIONS, AUTH, {"model": "gpt-image-1", "prompt": "a", "response_format": "b64_json"}, None),
    ("POST", "/v1/images/generations", AUTH, {"model": "gpt-image-1", "prompt": "a", "stream": True}, None),
    ("POST", "/v1/images/generations", AUTH, {"model": "openai/dall-e-3", "prompt": "a", "n": "1"}, None),  # strict
    ("POST", "/v1/images/generations", AUTH, {"model": "openai/dall-e-3", "prompt": "a", "size": "3x3"}, None),
    ("POST", "/v1/images/generations", AUTH, {"prompt": "no model"}, None),
    ("POST", "/v1/images/generations", AUTH, {"model": "failing", "prompt": "a", "fallbacks": ["dall-e-2"]}, None),
    ("POST", "/v1/images/generations", AUTH, {"model": "failing", "prompt": "a"}, None),
    ("POST", "/v1/images/generations", AUTH, b'{"model": "dall-e-2", "model": "dall-e-3", "prompt": "a"}', None),
    ("POST", "/v1/images/generations", AUTH, b"[1, 2]", None),
    ("POST", "/v1/images/generations", AUTH, b"{not json", None),
    ("POST", "/v1/images/generations", AUTH, b"", None),
    ("POST", "/v1/images/generations", {**AUTH, "content-type": "text/plain"}, b'{"model": "x"}', None),
    ("POST", "/v1/images/generations", {}, {"model": "dall-e-2", "prompt": "no key"}, None),
    ("POST", "/v1/images/generations", {"authorization": "Bearer wrong"}, {"model": "dall-e-2", "prompt": "a"}, None),
    ("POST", "/v1/images/generations", AUTH, b"x" * 3000, None),  # over max_body_bytes
    ("POST", "/v1/images/generations?api-key=sk-in-query", AUTH, {"model": "dall-e-2", "prompt": "a"}, None),
    ("POST", "/v1/images/variations", AUTH, FORM, IMAGE),
    ("POST", "/openai/v1/images/edits", AUTH, {**FORM, "prompt": "a hat"}, {"image[]": IMAGE["image"]}),
    ("POST", "/v1/images/variations", AUTH, {**FORM, "n": "01"}, IMAGE),  # typed form text
    ("POST", "/v1/images/variations", AUTH, FORM, {"image": ("a.png", b"not a picture", "image/png")}),
    ("POST", "/v1/images/variations", AUTH, FORM, None),
    ("GET", "/v1/images/generations", AUTH, None, None),  # wrong method: Starlette's 405 either way
    ("POST", "/openai/openai/deployments/dall-e-2/images/generations?api-version=1", AUTH, {"prompt": "a"}, None),
]

#: The parts of an answer that differ between any two answers: its id, time and the latency Bifrost reports.
VOLATILE = re.compile(rb'"id":"img-[0-9a-f]{32}"|"created(_at)?":\d+|"latency":\d+')


def config() -> StubConfig:
    return StubConfig(api_keys=(KEY,), fail_models=frozenset({"failing"}), max_body_bytes=2048)


async def answer(app: Any, method: str, path: str, headers: dict[str, str], body: Any, files: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://stub") as client:
        if files is not None or (isinstance(body, dict) and path.endswith(("variations", "edits"))):
            return await client.request(method, path, headers=headers, data=body, files=files)
        if isinstance(body, dict):
            return await client.request(method, path, headers={**JSON, **headers}, json=body)
        return await client.request(method, path, headers={**JSON, **headers}, content=body)


def comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "content-length"]
    return response.status_code, headers, VOLATILE.sub(b"~", response.content)


@pytest.mark.parametrize(("method", "path", "headers", "body", "files"), REQUESTS)
def test_an_answer_is_the_same_whether_dispatched_directly_or_by_starlette(
    method: str, path: str, headers: dict[str, str], body: Any, files: Any
) -> None:
    app = create_app(config())
    assert isinstance(app, StubApp)
    direct = asyncio.run(answer(app, method, path, headers, body, files))
    through_starlette = asyncio.run(answer(app.starlette, method, path, headers, body, files))
    assert comparable(direct) == comparable(through_starlette)
    recorded = asyncio.run(answer(app, "GET", "/_pixelpact/requests", {}, None, None)).json()["requests"]
    first, second = recorded
    for entry in (first, second):
        del entry["seq"], entry["time"]
        if entry["parts"]:
            for part in entry["parts"]:
                part.pop("filename", None)  # httpx names uploads itself
        entry["headers"].pop("content-type", None)  # its multipart boundary
        entry.pop("content_type")
    assert first == second


def test_the_fixed_path_operations_do_not_go_through_starlette() -> None:
    app = create_app(config())
    assert isinstance(app, StubApp)
    calls: list[str] = []
    starlette = app.starlette

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["path"])
        await starlette(scope, receive, send)

    app.starlette = counting  # type: ignore[assignment]
    for method, path, headers, body, files in REQUESTS:
        asyncio.run(answer(app, method, path, headers, body, files))
    assert calls == [
        "/v1/images/generations",  # the GET: 405 from Starlette's router
        "/openai/openai/deployments/dall-e-2/images/generations",  # a path parameter: Starlette's route
    ]


def test_a_handler_that_fails_unexpectedly_gets_the_500_body_and_the_server_sees_the_exception() -> None:
    """As after Starlette's ServerErrorMiddleware: the error body is sent, then the exception reaches the server."""
    gateway = StubGateway(StubConfig())

    async def broken(scope: Scope, receive: Receive) -> Response:
        raise KeyError("a bug")

    handler: Callable[[Scope, Receive], Awaitable[Response]] = broken
    app = gateway.app([("/v1/images/generations", CREATE_IMAGE, handler)])
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    for target in (app, app.starlette):
        messages.clear()

        scope = {
            "type": "http", "method": "POST", "path": "/v1/images/generations", "root_path": "", "headers": [],
            "query_string": b"", "scheme": "http", "server": ("127.0.0.1", 80), "http_version": "1.1",
        }  # fmt: skip
        with pytest.raises(KeyError):
            asyncio.run(target(scope, receive, send))  # type: ignore[arg-type]
        assert messages[0]["status"] == 500
        assert b"internal error in the stub gateway: KeyError" in messages[1]["body"]
