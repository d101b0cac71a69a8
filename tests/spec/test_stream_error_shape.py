"""Why a stream error event's `error` stays an ErrorField (spec/BIFROST-RECONCILIATION.md, "Streams"): the official
openai SDK reads a stream error's reason at `data.error.message`. An event shaped as the spec says reaches the SDK's
user with its message; shaped as Bifrost's docs say (`error` a whole BifrostError, the reason at
`error.error.message`) it reaches them as "An error occurred during streaming". If the SDK ever reads the docs' shape,
this fails and the table's row must be revisited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from starlette.types import Receive, Scope, Send

from pixelpact.conformance.engine.contract import load_contract
from pixelpact.conformance.groups._judge import schema_problem
from pixelpact.generator.runtime.serve import stub_server
from tests.conftest import SPEC

REASON = "Your request was rejected by the safety system"
ERROR_FIELD = {"type": "invalid_request_error", "code": "moderation_blocked", "param": None, "message": REASON}
SHAPES = {
    "spec": {"type": "error", "error": ERROR_FIELD},
    "bifrost-docs": {
        "type": "error",
        "error": {"is_bifrost_error": False, "status_code": 400, "error": ERROR_FIELD, "extra_fields": {}},
    },
}


async def _error_stream(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers every request with a stream holding one error event, its data the shape the path names."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    data = json.dumps(SHAPES[scope["path"].split("/")[1]])
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    await send({"type": "http.response.body", "body": f"event: error\ndata: {data}\n\n".encode()})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with stub_server(app=_error_stream) as url:
        yield url


def _sdk_message(server: str, shape: str) -> str:
    client = openai.OpenAI(base_url=f"{server}/{shape}/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.APIError) as raised:
        for _ in client.images.generate(model="gpt-image-1", prompt="a fox", stream=True):
            pass
    return raised.value.message


def test_the_spec_shaped_error_event_conforms_and_the_docs_shaped_one_does_not() -> None:
    schema: Any = load_contract(SPEC).operation("openaiCreateImage").stream_event_schema
    assert schema_problem(schema, SHAPES["spec"]) is None
    assert schema_problem(schema, SHAPES["bifrost-docs"]) is not None


def test_the_openai_sdk_reads_the_reason_of_the_spec_shaped_error_event_only(server: str) -> None:
    assert _sdk_message(server, "spec") == REASON
    assert _sdk_message(server, "bifrost-docs") == "An error occurred during streaming"
