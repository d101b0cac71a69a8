"""Server-sent events framed as Bifrost sends them and the openai SDK reads them (it dispatches on the JSON `type`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"


def encode_event(event: dict[str, Any]) -> bytes:
    """One event: `event: <type>` then one `data:` line of compact JSON (which never contains a newline).

    orjson: images arrive as pre-encoded fragments (`images.Encoded.json_b64`), copied rather than re-scanned.
    """
    kind: str = event["type"]
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


async def event_stream(events: Iterable[dict[str, Any]], done: bool) -> AsyncIterator[bytes]:
    """The body of a text/event-stream response, optionally ended by `data: [DONE]`."""
    for event in events:
        yield encode_event(event)
    if done:
        yield DONE


def wants_done(family: str, kind: str) -> bool:
    """Whether Bifrost ends this route's image stream with `data: [DONE]`.

    Native routes never do; integration routes leave it out only on /images/generations paths, and the Azure
    catch-all route always sends it (see the Bifrost reference, SSE streaming). The stub copies that so clients meet
    both endings.
    """
    if family == "native":
        return False
    return family == "azure" or kind != "generation"
